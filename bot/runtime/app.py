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
from storage.db import create_engine, ping, session_factory
from handlers.core.file_intake import FileIntake
from storage.files.settings import FileSettings, build_store
from storage.migrate import is_up_to_date


class SchemaOutOfDate(RuntimeError):
    pass


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    core: Core
    files: FileIntake  # the file store; adapters register their FileSource with it
    # What this process does for the pushes (a worker's /healthz tells): the runner sets it.
    pushes_role: Callable[[], str] = lambda: "answers only"

    async def ping(self) -> None:
        """Raises unless the database answers now (a worker's health check)."""
        await ping(self.engine)

    async def close(self) -> None:
        await self.files.store.close()
        await self.engine.dispose()


def build_app(settings: Settings, file_settings: FileSettings | None = None) -> App:
    """The app; its file store from ``file_settings`` (default: ``BRANCHBOT_FILES_*``)."""
    engine = create_engine(settings.database_url)
    file_settings = file_settings or FileSettings()
    sessions = session_factory(engine)
    files = FileIntake(sessions, build_store(file_settings), file_settings.limits)
    quiet_start, quiet_end = settings.quiet_hours.split("-")
    config = CoreConfig(tz=settings.tz, texts=Translator.of(settings.language),
                        dialog_timeout=timedelta(minutes=settings.dialog_timeout_minutes),
                        quiet_start=parse_hhmm(quiet_start), quiet_end=parse_hhmm(quiet_end),
                        report_template=settings.report_template,
                        study_target_hours=settings.study_target_hours,
                        platforms=settings.platform_names)
    return App(settings, engine, Core(sessions, config, files=files), files)


async def require_current_schema(engine: AsyncEngine) -> None:
    if not await is_up_to_date(engine):
        raise SchemaOutOfDate("the database schema is out of date: run `branchbot db upgrade`")
