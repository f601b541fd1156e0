"""The seam between a platform and the file store: how an adapter gives the bot a file it was
sent (``Incoming.file``). Each adapter implements ``FileSource`` for its platform (Telegram
getFile, WeCom media/get, …) and registers it with the core's file intake
(``handlers.core.file_intake``); nothing else about files is bound to a platform."""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Protocol

Content = bytes | AsyncIterable[bytes]


class FileGone(Exception):
    """The platform will never give this file (an expired or unknown id): asking again is
    pointless. Any other error from ``fetch`` is tried again later."""


class FileSource(Protocol):
    """May also say ``max_send_bytes``: the largest file the platform takes from the bot (a
    larger archive is offered as a link)."""

    platform: str  # the same name as ``Incoming.platform``

    async def fetch(self, file_id: str) -> Content:
        """The content of the file ``Incoming.file.file_id`` named: bytes, or chunks as they
        arrive (a file over the size limit is then refused without reading the rest)."""
        ...
