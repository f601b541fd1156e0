"""Small real files of every kind the file store tells apart, made here rather than shipped."""

from __future__ import annotations

import io
import struct
import zipfile

import docx
import openpyxl
from PIL import Image

_FREE, _END, _FAT, _NONE = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def image(kind: str, size: tuple[int, int] = (8, 8), colour: tuple[int, int, int] = (200, 30, 30)
          ) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, kind)
    return buffer.getvalue()


def png(seed: int = 0) -> bytes:
    """A PNG whose content differs by ``seed``."""
    return image("PNG", colour=(seed % 256, (seed // 256) % 256, 99))


def word_document() -> bytes:
    document = docx.Document()
    document.add_paragraph("整改情况说明")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def workbook() -> bytes:
    book = openpyxl.Workbook()
    book.active["A1"] = "台账"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def sheet(rows: list[list[object]]) -> bytes:
    """An .xlsx whose first sheet holds ``rows`` (a header row, then data)."""
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zip_of(entries: dict[str, bytes], first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in ([first] if first else []) + [n for n in entries if n != first]:
            archive.writestr(name, entries[name])
    return buffer.getvalue()


def presentation() -> bytes:
    return zip_of({"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<p/>"})


def open_document_text() -> bytes:
    return zip_of({"mimetype": b"application/vnd.oasis.opendocument.text",
                   "content.xml": b"<office:document-content/>"}, first="mimetype")


def ofd() -> bytes:
    return zip_of({"OFD.xml": b"<ofd:OFD/>", "Doc_0/Document.xml": b"<ofd:Document/>"})


def compound_file(stream: str, payload: bytes = b"x" * 4096) -> bytes:
    """A minimal compound file (Office 97-2003's container, version 3) with one stream:
    ``WordDocument`` makes it a .doc, ``Workbook`` an .xls, ``PowerPoint Document`` a .ppt."""
    payload = payload.ljust(4096, b"\0")  # at the mini stream cutoff: kept in regular sectors
    data_sectors = -(-len(payload) // 512)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
              + struct.pack("<HHHHH6xIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6, 0, 1, 1, 0, 4096,
                            _END, 0, _END, 0)
              + struct.pack("<109I", 0, *[_FREE] * 108))
    fat = [_FAT, _END] + [2 + i + 1 for i in range(data_sectors - 1)] + [_END]
    fat_sector = struct.pack("<128I", *fat, *[_FREE] * (128 - len(fat)))
    directory = (_entry("Root Entry", 5, child=1, start=_END, size=0)
                 + _entry(stream, 2, child=_NONE, start=2, size=len(payload))
                 + bytes(128) * 2)
    return header + fat_sector + directory + payload.ljust(data_sectors * 512, b"\0")


def _entry(name: str, kind: int, *, child: int, start: int, size: int) -> bytes:
    encoded = (name + "\0").encode("utf-16-le")
    return (encoded.ljust(64, b"\0")
            + struct.pack("<HBBIII16sIQQIQ", len(encoded), kind, 1, _NONE, _NONE, child,
                          bytes(16), 0, 0, 0, start, size))


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64)
WINDOWS_PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(200)
ELF_PROGRAM = b"\x7fELF\x02\x01\x01" + bytes(200)
