"""Wiring: settings → database engine → the platform-neutral core."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from handlers.core.context import CoreConfig
from handlers.core.i18n import Translator
from handlers.core.router import Core
from handlers.schedule.times import parse_hhmm
from storage.db import create_engine, session_factory
from storage.migrate import is_up_to_date


class SchemaOutOfDate(RuntimeError):
    pass


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    core: Core
    # What this process does for the pushes (a worker's /healthz tells): the runner sets it.
    pushes_role: Callable[[], str] = lambda: "answers only"

    async def close(self) -> None:
        await self.engine.dispose()


def build_app(settings: Settings) -> App:
    engine = create_engine(settings.database_url)
    quiet_start, quiet_end = settings.quiet_hours.split("-")
    config = CoreConfig(tz=settings.tz, texts=Translator.of(settings.language),
                        dialog_timeout=timedelta(minutes=settings.dialog_timeout_minutes),
                        quiet_start=parse_hhmm(quiet_start), quiet_end=parse_hhmm(quiet_end),
                        report_template=settings.report_template,
                        study_target_hours=settings.study_target_hours,
                        platforms=settings.platform_names)
    return App(settings, engine, Core(session_factory(engine), config))


async def require_current_schema(engine: AsyncEngine) -> None:
    if not await is_up_to_date(engine):
        raise SchemaOutOfDate("the database schema is out of date: run `branchbot db upgrade`")
