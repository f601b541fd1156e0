"""WeCom's side of the file store: a photo or file a member sent, fetched by its MediaId
(media/get) while WeCom still has it (3 days). Implements ``storage.files.sources.FileSource``."""

from __future__ import annotations

from collections.abc import AsyncIterator

from bot.adapters.wecom.api import BUSY, RATE_LIMITED, TOKEN_EXPIRED, WeComApi, WeComError
from handlers.core.file_source import FileGone

PLATFORM = "wecom"
_PASSING = RATE_LIMITED | TOKEN_EXPIRED | {BUSY}  # worth trying again later


class WeComFiles:
    platform = PLATFORM
    max_send_bytes = 20 * 1024 * 1024  # media/upload of a file

    def __init__(self, api: WeComApi) -> None:
        self.api = api

    async def fetch(self, file_id: str) -> AsyncIterator[bytes]:
        return self._chunks(file_id)

    async def _chunks(self, media_id: str) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.api.media(media_id):
                yield chunk
        except WeComError as error:  # 40007 invalid media_id: expired or unknown, for good
            if error.errcode in _PASSING:
                raise
            raise FileGone(str(error)) from error
