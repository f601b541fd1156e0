"""The bot process's background downloads: files a platform did not give at once, fetched again
(``handlers.core.file_intake.FileIntake.retry_forever``) while the adapter runs."""

from __future__ import annotations

import asyncio
import contextlib

from handlers.core.file_intake import RETRY_INTERVAL_SECONDS, FileIntake


class Downloads:
    def __init__(self, files: FileIntake, interval: float = RETRY_INTERVAL_SECONDS) -> None:
        self.files = files
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.files.retry_forever(self.interval),
                                             name="file-downloads")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
