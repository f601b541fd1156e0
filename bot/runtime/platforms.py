"""The seam between the runner and the adapters: what a platform declares to run in a process
beside others (``BRANCHBOT_PLATFORMS=wecom,wecom_bot``).

Each platform is a package ``bot.adapters.<name>`` with a module ``entry`` whose ``ENTRY`` is a
``Platform``; the runner finds it by the name alone, so adding a platform edits nothing here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.config import Settings
from bot.runtime.app import App
from bot.runtime.delivery import Limits, Sender


class CredentialsRefused(Exception):
    """The platform refused the app's id or secret: nothing works until the settings change."""


class Adapter(Protocol):
    """One platform running over the shared core: it hands each event to ``app.core.handle``
    and answers it; the outbox reaches it through ``sender`` within ``limits``.

    An adapter may also have ``task``: what receives, started by ``start``. It ends only on a
    fault (``CredentialsRefused``, say), which then stops the process with that error."""

    platform: str  # as stored in identities, group chats and outbox rows
    limits: Limits
    sender: Sender

    async def start(self) -> None:
        """Begin receiving (serve a callback URL, open a stream); return once running."""

    async def stop(self) -> None:
        """Stop receiving, finish the events in hand, close clients."""


@dataclass(frozen=True)
class Platform:
    name: str  # == ``Adapter.platform`` == its BRANCHBOT_PLATFORMS value
    missing: Callable[[Settings], list[str]]  # the BRANCHBOT_* settings it still needs
    build: Callable[[App], Adapter]
    # a text key when the settings combine into something it will not run with (checked once
    # nothing is missing), else None
    refusal: Callable[[Settings], str | None] = lambda _settings: None


def platform(name: str) -> Platform:
    """The entry of ``bot.adapters.<name>`` (``Settings`` has checked the name)."""
    entry = importlib.import_module(f"bot.adapters.{name}.entry").ENTRY
    if not isinstance(entry, Platform) or entry.name != name:
        raise TypeError(f"bot.adapters.{name}.entry.ENTRY is not the Platform {name!r}")
    return entry


def unset(settings: Settings, *names: str) -> list[str]:
    """The environment names of those ``settings`` fields that are not set."""
    return ["BRANCHBOT_" + name.upper() for name in names if getattr(settings, name) in (None, "")]
