"""File names as members send them, made safe to keep and to write into an archive."""

from __future__ import annotations

import re
import unicodedata

FILE_NAME_MAX_CHARS = 200  # the attachments' original_name column (characters on both databases)
_EXTENSION_MAX_CHARS = 16
_WINDOWS_FORBIDDEN = re.compile(r'[<>:"|?*]')
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                    *(f"LPT{i}" for i in range(1, 10))}


def sanitize_file_name(name: str | None, max_chars: int = FILE_NAME_MAX_CHARS) -> str | None:
    """The last part of ``name`` with no folder, no control or invisible formatting character
    (a right-to-left override could make ``gpj.exe`` read as ``exe.jpg``), none of the characters
    Windows refuses, no leading dot, at most ``max_chars`` characters with the extension kept.
    None when nothing usable is left."""
    if name is None:
        return None
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[/\\]", name)[-1]
    name = re.sub(r"\s+", " ", name)  # tabs and line breaks too
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co"))
    name = re.sub(" +", " ", _WINDOWS_FORBIDDEN.sub("_", name)).strip().lstrip(".").rstrip(". ")
    if not name:
        return None
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > _EXTENSION_MAX_CHARS:
        stem, extension = name, ""
    if stem.split(".")[0].upper() in _WINDOWS_DEVICES:
        stem = "_" + stem
    suffix = f".{extension}" if extension else ""
    stem = stem[:max(1, max_chars - len(suffix))].rstrip(". ") or "_"
    return (stem + suffix)[:max_chars]
