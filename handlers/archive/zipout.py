"""The archive's zip, written to disk as it goes and the same bytes for the same data: entries
in the order they are added, each dated ``FIXED_TIME``, Word and Excel files inside rewritten the
same way (their own zip entries dated, their "created" and "modified" set to the data's date),
files from the store copied in chunks, never whole in memory."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import BinaryIO

FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say
CHUNK = 1024 * 1024
_STORED = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".avif", ".pdf", ".zip", ".docx",
           ".xlsx", ".pptx", ".ofd")  # compressed already
_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def normalized_ooxml(content: bytes, as_of: date) -> bytes:
    """A .docx or .xlsx with fixed entry dates and its core properties dated ``as_of``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source:
        _normalize(source, out, as_of)
    return out.getvalue()


def normalize_ooxml_file(source: Path, target: Path, as_of: date) -> None:
    """``normalized_ooxml`` from file to file, each part copied in chunks (a 目录.xlsx of a year
    of 60 branches holds a sheet of 150 MB uncompressed)."""
    with zipfile.ZipFile(source) as opened, target.open("wb") as out:
        _normalize(opened, out, as_of)


def _normalize(source: zipfile.ZipFile, out: BinaryIO, as_of: date) -> None:
    stamp = f"{as_of.isoformat()}T00:00:00Z".encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, FIXED_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            if info.filename == "docProps/core.xml":
                target.writestr(fixed, _CORE_DATES.sub(rb"\g<1>" + stamp + rb"\g<3>",
                                                       source.read(info)))
                continue
            with source.open(info) as part, target.open(fixed, "w", force_zip64=True) as copy:
                shutil.copyfileobj(part, copy, CHUNK)


class ArchiveZip:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.names: set[str] = set()
        self._zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True)

    def _info(self, name: str) -> zipfile.ZipInfo:
        if name in self.names:
            raise ValueError(f"{name} is in the archive already")
        self.names.add(name)
        info = zipfile.ZipInfo(name, FIXED_TIME)
        info.compress_type = (zipfile.ZIP_STORED if name.lower().endswith(_STORED)
                              else zipfile.ZIP_DEFLATED)
        info.external_attr = 0o644 << 16
        info.flag_bits |= 0x800  # the name is UTF-8 (Chinese folder names open right on Windows)
        return info

    def add(self, name: str, content: bytes) -> None:
        self._zip.writestr(self._info(name), content)

    def add_file(self, name: str, path: Path) -> None:
        """Copy the file at ``path`` into the entry ``name`` in chunks."""
        with path.open("rb") as source, self._zip.open(self._info(name), "w",
                                                       force_zip64=True) as entry:
            shutil.copyfileobj(source, entry, CHUNK)

    async def add_stream(self, name: str, chunks: AsyncIterator[bytes]) -> int:
        """Copy ``chunks`` into the entry ``name``; the bytes copied."""
        size = 0
        with self._zip.open(self._info(name), "w", force_zip64=True) as entry:
            async for chunk in chunks:
                entry.write(chunk)
                size += len(chunk)
        return size

    def close(self) -> None:
        self._zip.close()
