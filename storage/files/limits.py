"""What the bot keeps: the allowed types (by content) and the size limit."""

from __future__ import annotations

from dataclasses import dataclass

from storage.files.errors import FileTooLarge, FileTypeNotAllowed

MEGABYTE = 1024 * 1024
UNKNOWN_TYPE = "application/octet-stream"

# The allowlist: every type the bot keeps, with the extension a file of it gets in an archive.
IMAGES = {
    "image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
    "image/bmp": "bmp", "image/tiff": "tif", "image/heic": "heic", "image/avif": "avif",
}
PDF = {"application/pdf": "pdf"}
OFFICE = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/msword": "doc",  # also what WPS 文字 writes as .wps
    "application/vnd.ms-excel": "xls",  # also WPS 表格's .et
    "application/vnd.ms-powerpoint": "ppt",  # also WPS 演示's .dps
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
    "application/ofd": "ofd",  # 版式文档 (GB/T 33190), as government offices issue them
}
PLAIN_TEXT = {"text/plain": "txt"}
ALLOWED_TYPES: dict[str, str] = {**IMAGES, **PDF, **OFFICE, **PLAIN_TEXT}


def extension_for(mime: str) -> str:
    """The extension for a kept file's type ("bin" for a type outside the allowlist)."""
    return ALLOWED_TYPES.get(mime, "bin")


@dataclass(frozen=True)
class FileLimits:
    """``max_bytes`` None: no size limit; ``allowed`` None: any type (a restore keeps what the
    backup holds, whatever today's limits say)."""

    max_bytes: int | None
    allowed: frozenset[str] | None

    @classmethod
    def default(cls, max_mb: float = 20) -> FileLimits:
        return cls(max_bytes=int(max_mb * MEGABYTE), allowed=frozenset(ALLOWED_TYPES))

    def check_size(self, size: int) -> None:
        if self.max_bytes is not None and size > self.max_bytes:
            raise FileTooLarge(size, self.max_bytes)

    def check_type(self, mime: str | None) -> None:
        if self.allowed is not None and (mime is None or mime not in self.allowed):
            raise FileTypeNotAllowed(mime)


NO_LIMITS = FileLimits(max_bytes=None, allowed=None)
