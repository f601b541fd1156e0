"""Update processing for python-telegram-bot: users concurrently, each user's updates in order.

PTB either handles every update one after another (a slow call stalls everyone) or all of them
concurrently (one member's quick double tap could overtake itself). Dialogs need the middle way.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.runtime.in_order import InOrder


class PerUserUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        self._users = InOrder()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        user = update.effective_user if isinstance(update, Update) else None
        async with self._users.turn(user.id if user is not None else 0):
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""
