"""Reading a file a user sent (the core's ``FileReader``): getFile, then the download."""

from __future__ import annotations

from telegram import Bot
from telegram.error import BadRequest

from handlers.core.events import FileReader, FileRef, FileUnavailable


def file_reader(bot: Bot) -> FileReader:
    async def read(_platform: str, file: FileRef, max_bytes: int) -> bytes:
        try:
            found = await bot.get_file(file.file_id)
        except BadRequest as error:  # expired, unknown, or over the Bot API's 20 MB
            raise FileUnavailable("too_large" if "too big" in str(error).lower() else "gone") from error
        if found.file_size is not None and found.file_size > max_bytes:
            raise FileUnavailable("too_large")
        return bytes(await found.download_as_bytearray())

    return read
