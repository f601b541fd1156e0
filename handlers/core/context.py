"""What a handler knows while it handles one event."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from handlers.core.events import Incoming, Reply
from handlers.core.i18n import Translator
from storage.db import Session, Sessions
from storage.models import Member

if TYPE_CHECKING:
    from handlers.core.features import Registry
    from handlers.core.file_intake import Fetched, FileIntake


@dataclass(frozen=True)
class CoreConfig:
    """The part of the settings the core needs (kept free of the bot package)."""

    tz: ZoneInfo
    dialog_timeout: timedelta
    texts: Translator  # the bot's language (members have no language of their own yet)
    quiet_start: time = time(22, 0)  # pushes wait until quiet_end
    quiet_end: time = time(8, 0)
    report_template: Path | None = None  # the office's own 阶段性总结 template (docx)
    study_target_hours: int = 32  # a member's yearly study target
    # The platforms this process runs, in the configured order: a member known on several is
    # told things on one of them (``storage.queries.reach``). Empty: the event's platform only.
    platforms: tuple[str, ...] = ()


@dataclass
class Context:
    session: Session
    event: Incoming
    member: Member | None
    config: CoreConfig
    now: datetime  # UTC
    registry: Registry  # the application's features: its dialogs, commands, help
    enqueued: bool = False  # something was put in the outbox: wake the deliverer
    # A long job (a report) to run after the replies are sent; see Outcome.followup.
    followup: Callable[[Sessions], AsyncIterator[Reply]] | None = None
    files: FileIntake | None = None  # the file store's way in (None: files kept as ids only)
    fetched: Fetched | None = None  # the event's file, fetched and kept before the session began

    @property
    def t(self) -> Translator:
        """The texts in the user's language."""
        return self.config.texts

    @property
    def platforms(self) -> tuple[str, ...]:
        """Where the people this event concerns can be told: the event's platform first."""
        here = self.event.platform
        return (here, *(p for p in self.config.platforms if p != here))

    @property
    def today(self) -> date:
        return self.now.astimezone(self.config.tz).date()
