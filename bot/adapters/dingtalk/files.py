"""DingTalk's side of the file store: a file or picture a member sent, fetched by its
downloadCode (``messageFiles/download`` gives a short-lived URL, then the bytes)."""

from __future__ import annotations

from bot.adapters.dingtalk import PLATFORM
from bot.adapters.dingtalk.api import MAX_DOWNLOAD_BYTES, DingTalkApi, DingTalkError
from handlers.core.file_source import FileGone


class DingTalkFiles:
    platform = PLATFORM
    max_send_bytes = MAX_DOWNLOAD_BYTES  # media/upload takes 20 MB

    def __init__(self, api: DingTalkApi) -> None:
        self.api = api

    async def fetch(self, file_id: str) -> bytes:
        try:
            return await self.api.download(file_id)
        except DingTalkError as error:  # an unknown or expired downloadCode: for good
            if error.temporary or error.status >= 500:
                raise
            raise FileGone(str(error)) from error
