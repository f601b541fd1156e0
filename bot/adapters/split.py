"""A text too long for one message, cut into pieces a platform takes (Telegram 4,096 UTF-16
units, WeCom 2,048 bytes): at line ends where it can, between characters where a line is longer
than a piece; blank pieces are left out (platforms refuse empty messages)."""

from __future__ import annotations

from collections.abc import Callable

Size = Callable[[str], int]


def utf8_bytes(text: str) -> int:
    return len(text.encode())


def utf16_units(text: str) -> int:
    """How Telegram counts a message's length (an emoji beyond the BMP is two)."""
    return len(text.encode("utf-16-le")) // 2


def _longest_prefix(line: str, limit: int, size: Size) -> int:
    """The most characters of ``line`` whose size is at most ``limit`` (at least one)."""
    low, high = 1, len(line)
    while low < high:
        middle = (low + high + 1) // 2
        if size(line[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def pieces(content: str, limit: int, size: Size = len) -> list[str]:
    if size(content) <= limit:  # as nearly every message is: one piece, measured once
        return [content]
    result: list[str] = []
    current: str | None = None
    for line in content.split("\n"):
        candidate = line if current is None else f"{current}\n{line}"
        if size(candidate) <= limit:
            current = candidate
            continue
        if current is not None:
            result.append(current)
        while size(line) > limit:
            cut = _longest_prefix(line, limit, size)
            result.append(line[:cut])
            line = line[cut:]
        current = line
    result.append(current or "")
    kept = [piece for piece in result if piece.strip()]
    return kept or [content]
