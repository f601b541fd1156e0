"""The type of a file from its content: magic bytes, and inside the containers Office uses.

A ZIP is only an Office or OpenDocument file if the parts that make one are there; a compound
file (Office 97-2003, WPS) only if it holds the stream of a document, a workbook or slides. Text
has no magic: it is text when it decodes as UTF-8, UTF-16 with a byte-order mark or GB18030 and
holds no control character but layout ones. The name a file came with plays no part.
"""

from __future__ import annotations

import unicodedata
import zipfile
from pathlib import Path

import filetype
import olefile

_HEAD_BYTES = 8192
_ZIP_MAGIC = b"PK\x03\x04"
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OOXML_PARTS = {
    "word/document.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/workbook.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/presentation.xml":
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_ODF_TYPES = {
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
}
_CFB_STREAMS = {
    "worddocument": "application/msword",
    "workbook": "application/vnd.ms-excel",
    "book": "application/vnd.ms-excel",  # Excel 5/95
    "powerpoint document": "application/vnd.ms-powerpoint",
}
_LAYOUT_CONTROLS = set("\t\n\r\f\v\x1a")  # \x1a: the end-of-file mark old DOS editors write


def detect_type(path: Path) -> str | None:
    """The MIME type of the file at ``path``, or None if it is none the bot knows."""
    with path.open("rb") as file:
        head = file.read(_HEAD_BYTES)
    if head.startswith(_ZIP_MAGIC):
        return _zip_type(path)
    if head.startswith(_CFB_MAGIC):
        return _compound_file_type(path)
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    return "text/plain" if _is_text(path.read_bytes()) else None


def _zip_type(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" in names:
                for part, mime in _OOXML_PARTS.items():
                    if part in names:
                        return mime
            if "mimetype" in names:
                with archive.open("mimetype") as entry:
                    declared = entry.read(100).decode("ascii", "replace").strip()
                if declared in _ODF_TYPES:
                    return declared
            if "OFD.xml" in names:
                return "application/ofd"
    except (zipfile.BadZipFile, OSError, RuntimeError):  # RuntimeError: an encrypted entry
        return None
    return "application/zip"


def _compound_file_type(path: Path) -> str | None:
    try:
        with olefile.OleFileIO(str(path)) as compound:
            streams = {"/".join(entry).lower() for entry in compound.listdir()}
    except (OSError, ValueError):  # olefile raises OSError for a broken file
        return None
    for stream, mime in _CFB_STREAMS.items():
        if stream in streams:
            return mime
    return None


def _is_text(data: bytes) -> bool:
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    for encoding in ("utf-16",) if utf16 else ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return not any(unicodedata.category(c) == "Cc" and c not in _LAYOUT_CONTROLS for c in text)
    return False
