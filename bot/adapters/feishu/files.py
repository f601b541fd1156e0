"""Feishu's side of the file store: an image or file of a message a member sent, fetched with
``messages/:message_id/resources/:file_key`` (the adapter's file id is
``<message_id>:<image|file>:<file_key>``)."""

from __future__ import annotations

from typing import Literal

from bot.adapters.feishu import PLATFORM
from bot.adapters.feishu.api import MAX_UPLOAD, FeishuApi, FeishuError
from handlers.core.file_source import FileGone


class FeishuFiles:
    platform = PLATFORM
    max_send_bytes = MAX_UPLOAD

    def __init__(self, api: FeishuApi) -> None:
        self.api = api

    async def fetch(self, file_id: str) -> bytes:
        message_id, kind, file_key = (file_id.split(":", 2) + ["", ""])[:3]
        if kind not in ("image", "file") or not message_id or not file_key:
            raise FileGone(f"not a Feishu file id: {file_id!r}")
        resource: Literal["image", "file"] = "image" if kind == "image" else "file"
        try:
            return (await self.api.download(message_id, file_key, resource)).content
        except FeishuError as error:  # unknown resource, not the bot's chat, too large: for good
            if error.temporary:
                raise
            raise FileGone(str(error)) from error
