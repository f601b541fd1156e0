"""Outbox messages sent with the Application's bot, passing failures told from final ones."""

from __future__ import annotations

from datetime import timedelta

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from bot.adapters.telegram import PLATFORM
from bot.adapters.telegram.adapter import keyboard, send_text
from bot.runtime.delivery import PermanentFailure, TemporaryFailure
from handlers.core.events import Reply


class TelegramSender:
    """Sends outbox messages with the Application's bot, telling passing failures from final ones."""

    platform = PLATFORM

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: str, reply: Reply) -> None:
        try:
            await send_text(self.bot, int(chat_id), reply.text,
                            keyboard(reply.buttons, self.bot.username))
        except RetryAfter as error:
            raise TemporaryFailure("429 Too Many Requests", retry_after=_seconds(error.retry_after)) from error
        except (Forbidden, BadRequest, ChatMigrated, InvalidToken) as error:
            raise PermanentFailure(f"{type(error).__name__}: {error.message}") from error
        except (TimedOut, NetworkError) as error:
            raise TemporaryFailure(f"{type(error).__name__}: {error.message}") from error


def _seconds(value: object) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)  # type: ignore[arg-type]
