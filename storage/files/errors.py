"""Typed refusals of the file store. The core shows each as the catalogue text ``file.<code>``
filled with ``params()``; storage itself never words a message."""

from __future__ import annotations


class FileRefused(Exception):
    """A file the bot does not keep; the member is told why and may send another."""

    code = "refused"

    def params(self) -> dict[str, object]:
        return {}


class FileEmpty(FileRefused):
    code = "empty"

    def __init__(self) -> None:
        super().__init__("the file is empty")


class FileTooLarge(FileRefused):
    """Over the limit; ``size`` is what was read before giving up (at least ``limit + 1``)."""

    code = "too_large"

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"file of {size} bytes or more, over the limit of {limit}")
        self.size = size
        self.limit = limit

    def params(self) -> dict[str, object]:
        return {"max_mb": _megabytes(self.limit)}


class FileTypeNotAllowed(FileRefused):
    """Not an image, PDF, Office document or plain text; ``mime`` as detected, None if unknown."""

    code = "type_not_allowed"

    def __init__(self, mime: str | None) -> None:
        super().__init__(f"file type {mime or 'unknown'} is not allowed")
        self.mime = mime


class FileMissing(LookupError):
    """No file under this key in the store."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"
