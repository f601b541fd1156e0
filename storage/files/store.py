"""The file store's interface: content in, a ``StoredFile`` (sha256, size, type, key) out.

Files are kept under their content's sha256 (``ab/cd/abcd…``), so identical content is kept
once, whoever sent it and however often. What arrives is first written to a spool file while it
is hashed and counted (a file over the size limit is refused as soon as the limit is passed,
without reading the rest), then its type is detected and checked, and only then is it kept.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import tempfile
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from storage.files.detect import detect_type
from storage.files.errors import FileEmpty
from storage.files.limits import UNKNOWN_TYPE, FileLimits, extension_for

Content = bytes | AsyncIterable[bytes]
CHUNK_BYTES = 1024 * 1024
_KEY = re.compile(r"^([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})$")


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    mime: str
    key: str
    new: bool  # False when the same content was kept already

    @property
    def extension(self) -> str:
        return extension_for(self.mime)


@dataclass(frozen=True)
class Spooled:
    """Content written to a temporary file, with what was learned while writing it."""

    path: Path
    sha256: str
    md5: bytes  # for the S3 upload's Content-MD5, which every S3-compatible server checks
    size: int


def key_for(sha256: str) -> str:
    return check_key(f"{sha256[:2]}/{sha256[2:4]}/{sha256}")


def check_key(key: str) -> str:
    """``key`` if it is a well-formed content address (so no key can name a path elsewhere)."""
    match = _KEY.match(key)
    if match is None or not match.group(3).startswith(match.group(1) + match.group(2)):
        raise ValueError(f"not a file store key: {key!r}")
    return key


def sha256_of_key(key: str) -> str:
    return check_key(key).rsplit("/", 1)[1]


class FileStore(ABC):
    async def put(self, content: Content, *, limits: FileLimits) -> StoredFile:
        """Keep ``content`` if ``limits`` allow it; raises a ``FileRefused`` otherwise."""
        spooled = await self._spool(content, limits)
        try:
            mime = await asyncio.to_thread(detect_type, spooled.path)
            limits.check_type(mime)
            mime = mime or UNKNOWN_TYPE
            key = key_for(spooled.sha256)
            new = not await self.exists(key)
            if new:
                await self._save(key, spooled, mime)
            return StoredFile(spooled.sha256, spooled.size, mime, key, new)
        finally:
            spooled.path.unlink(missing_ok=True)

    async def read(self, key: str) -> bytes:
        return b"".join([chunk async for chunk in self.open(key)])

    @abstractmethod
    def open(self, key: str) -> AsyncIterator[bytes]:
        """The file's content in chunks; ``FileMissing`` if there is none under ``key``."""

    @abstractmethod
    async def exists(self, key: str) -> bool: ...

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Only for tests: the bot never deletes evidence."""

    async def link(self, key: str, file_name: str, seconds: int) -> str | None:
        """A download address of the file valid for ``seconds``, where the store can give one
        (S3's presigned URL); None for a local folder."""
        return None

    async def close(self) -> None:  # noqa: B027 (a no-op by default: only S3 holds connections)
        """Let go of connections (the S3 client); the store may not be used afterwards."""

    @abstractmethod
    async def _save(self, key: str, spooled: Spooled, mime: str) -> None:
        """Keep the spooled file under ``key``, all or nothing. The spool file may be moved."""

    def _spool_dir(self) -> Path | None:
        """Where spool files go (None: the system's temporary folder)."""
        return None

    async def _spool(self, content: Content, limits: FileLimits) -> Spooled:
        sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
        folder = self._spool_dir()
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix="spool-", delete=False) as file:
            path = Path(file.name)
            try:
                async for chunk in _chunks(content):
                    size += len(chunk)
                    limits.check_size(size)
                    sha256.update(chunk)
                    md5.update(chunk)
                    file.write(chunk)
                if size == 0:
                    raise FileEmpty()
            except BaseException:
                path.unlink(missing_ok=True)
                raise
        return Spooled(path, sha256.hexdigest(), md5.digest(), size)


async def _chunks(content: Content) -> AsyncIterator[bytes]:
    if isinstance(content, bytes):
        for start in range(0, len(content), CHUNK_BYTES):
            yield content[start:start + CHUNK_BYTES]
        return
    async for chunk in content:
        if chunk:
            yield bytes(chunk)
