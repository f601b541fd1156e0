"""Telegram's side of the file store: a file a member sent, fetched by its file_id (getFile, then
the file download path). Implements ``storage.files.sources.FileSource``."""

from __future__ import annotations

from telegram import Bot
from telegram.error import BadRequest, Forbidden, InvalidToken

from handlers.core.file_source import FileGone

PLATFORM = "telegram"


class TelegramFiles:
    platform = PLATFORM
    max_send_bytes = 50 * 1024 * 1024  # the Bot API's sendDocument limit

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def fetch(self, file_id: str) -> bytes:
        """The file's content. A file_id Telegram refuses (unknown, of another bot, over the Bot
        API's 20 MB) never works: permanent. Network errors and flood waits pass on, to be tried
        again."""
        try:
            file = await self.bot.get_file(file_id)
            return bytes(await file.download_as_bytearray())
        except (BadRequest, Forbidden, InvalidToken) as error:
            raise FileGone(f"Telegram: {error.message}") from error
