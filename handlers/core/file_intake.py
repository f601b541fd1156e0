"""The core's one way in for files: fetched at receipt through the platform's ``FileSource``,
kept in the store, recorded against what they belong to, retried in the background when the
platform did not give them at once, and read back for sending and for the archive.

At receipt (``receive``) the content goes into the store and its ``stored_files`` row into the
event's own session: on SQLite that session may already hold the single write lock, so no second
session is opened while it is. A fetch that fails for a while leaves the file accepted and its
attachment ``pending``: ``retry_due`` (``retry_forever`` in the bot's process) fetches it again
until it is kept or given up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handlers.core.file_source import FileGone, FileSource
from storage.db import Session, Sessions
from storage.files.catalog import FileCatalog
from storage.files.downloads import (
    ClaimedDownload,
    DownloadOutcome,
    DownloadService,
    FetchFailed,
    RetryPolicy,
)
from storage.files.errors import FileRefused
from storage.files.limits import FileLimits
from storage.files.store import Content, FileStore, StoredFile
from storage.types import utcnow

log = logging.getLogger(__name__)
RETRY_INTERVAL_SECONDS = 30.0


@dataclass(frozen=True)
class Fetched:
    """A file as its platform gave it: kept in the store (``stored``), refused by the limits, gone
    at the platform, or not fetched this time (none of these)."""

    stored: StoredFile | None = None
    refused: FileRefused | None = None
    gone: bool = False


@dataclass(frozen=True)
class Received:
    """What became of a file at receipt: kept (``stored_file_id``), refused by the limits
    (``refused``: tell the sender why), gone at the platform (``gone``: ask to send it again), or
    accepted and to be fetched again later (none of these)."""

    stored_file_id: int | None = None
    refused: FileRefused | None = None
    gone: bool = False


class FileIntake:
    def __init__(self, sessions: Sessions, store: FileStore,
                 limits: FileLimits, policy: RetryPolicy = RetryPolicy(),
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.limits = limits
        self.sources: dict[str, FileSource] = {}
        self.downloads = DownloadService(sessions, store, limits, policy, clock)

    def register(self, source: FileSource) -> None:
        self.sources[source.platform] = source

    def send_limit(self, platform: str) -> int | None:
        """The largest file ``platform`` takes from the bot, if its source says."""
        return getattr(self.sources.get(platform), "max_send_bytes", None)

    async def fetch(self, platform: str, file_id: str) -> Fetched:
        """The file fetched from its platform and kept in the store, before the event's database
        session writes anything (a download holds no transaction, and on SQLite no lock)."""
        source = self.sources.get(platform)
        if source is None:  # no way to fetch from here (yet): recorded, fetched where there is
            return Fetched()
        try:
            return Fetched(stored=await self.store.put(await _fetched(source, file_id),
                                                       limits=self.limits))
        except FileRefused as refused:
            return Fetched(refused=refused)
        except FetchFailed as failure:
            if failure.permanent:
                return Fetched(gone=True)
            log.info("file %s of %s not fetched at receipt: %s", file_id, platform, failure)
        except Exception:  # network, store: accepted, and fetched again in the background
            log.warning("file %s of %s not fetched at receipt", file_id, platform, exc_info=True)
        return Fetched()

    async def receive(self, session: Session, fetched: Fetched) -> Received:
        """What became of a fetched file, its ``stored_files`` row made in ``session``."""
        if fetched.stored is None:
            return Received(refused=fetched.refused, gone=fetched.gone)
        return Received(stored_file_id=await FileCatalog(session).add(fetched.stored))

    async def retry_due(self) -> list[DownloadOutcome]:
        outcomes: list[DownloadOutcome] = []
        for platform, source in list(self.sources.items()):
            outcomes += await self.downloads.run_due(platform, _by_id(source))
        return outcomes

    async def retry_forever(self, interval: float = RETRY_INTERVAL_SECONDS) -> None:
        """The background loop of a bot process: due downloads of every registered platform."""
        while True:
            try:
                await self.retry_due()
            except Exception:  # the database away for a moment: the next round tries again
                log.warning("retrying downloads failed", exc_info=True)
            await asyncio.sleep(interval)


def _by_id(source: FileSource) -> Callable[[ClaimedDownload], Any]:
    async def fetch(claimed: ClaimedDownload) -> Content:
        return await _fetched(source, claimed.platform_file_id)
    return fetch


async def _fetched(source: FileSource, file_id: str) -> Content:
    """``source.fetch`` with ``FileGone`` as the downloads know it (``FetchFailed``, permanent),
    raised at the call or while the chunks arrive."""
    try:
        content = await source.fetch(file_id)
    except FileGone as gone:
        raise FetchFailed(str(gone), permanent=True) from gone
    return content if isinstance(content, bytes) else _chunks(content)


async def _chunks(content: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    try:
        async for chunk in content:
            yield chunk
    except FileGone as gone:
        raise FetchFailed(str(gone), permanent=True) from gone
