"""What a handler knows while it handles one event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.events import Incoming
from storage.models import Member


@dataclass(frozen=True)
class CoreConfig:
    """The part of the settings the core needs (kept free of the bot package)."""

    tz: ZoneInfo
    dialog_timeout: timedelta


@dataclass
class Context:
    session: AsyncSession
    event: Incoming
    member: Member | None
    config: CoreConfig
    now: datetime  # UTC

    @property
    def today(self) -> date:
        return self.now.astimezone(self.config.tz).date()
