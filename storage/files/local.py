"""The file store in a local folder (``BRANCHBOT_FILES_DIR``): the default, for one machine.

Layout: ``<dir>/ab/cd/<sha256>``, and ``<dir>/.spool/`` for files on their way in. A file is
written to the spool, flushed to disk, then renamed into place: a crash leaves it whole or
absent, never half-written under its key.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

from storage.files.errors import FileMissing
from storage.files.store import CHUNK_BYTES, FileStore, Spooled, check_key


class LocalStore(FileStore):
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, key: str) -> Path:
        return self.root / check_key(key)

    async def open(self, key: str) -> AsyncIterator[bytes]:
        path = self.path_of(key)
        try:
            file = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise FileMissing(key) from None
        try:
            while chunk := await asyncio.to_thread(file.read, CHUNK_BYTES):
                yield chunk
        finally:
            file.close()

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path_of(key).is_file)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path_of(key).unlink, True)

    async def _save(self, key: str, spooled: Spooled, mime: str) -> None:
        await asyncio.to_thread(_move_durably, spooled.path, self.path_of(key))

    def _spool_dir(self) -> Path:
        return self.root / ".spool"  # on the same file system, so the rename is atomic


def _move_durably(source: Path, target: Path) -> None:
    with source.open("rb") as file:
        os.fsync(file.fileno())
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
