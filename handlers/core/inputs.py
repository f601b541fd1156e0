"""What a platform hands in, made storable the same way on SQLite and PostgreSQL, at the door.

PostgreSQL refuses U+0000 in any text (and a lone surrogate cannot be encoded at all), where
SQLite stores both; Excel refuses the other control characters; a display name or a file's name
may be longer than its column. So, before anything reads an event: control characters other than
tab and line break are removed from typed text and from names, the names are capped to what
their columns hold, a file's name is sanitized (``storage.files.names``) and a MIME type that is
not one is dropped. Each field is only copied when it needs a change (most events need none).
"""

from __future__ import annotations

import re
from dataclasses import replace

from handlers.core.events import FileRef, Incoming
from storage.files.names import sanitize_file_name

DISPLAY_NAME_CHARS = 100  # identities.display_name
CHAT_TITLE_CHARS = 200  # group_chats.title
FILE_NAME_CHARS = 200  # problem_evidence.file_name, attachments.original_name
MIME_CHARS = 100  # problem_evidence.mime_type

# C0 and C1 controls except tab and line feed, DEL, and lone surrogates.
_UNSTORABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}")


def storable(text: str) -> str:
    """``text`` without the characters no database or sheet keeps alike (a CR-LF becomes LF)."""
    if not _UNSTORABLE.search(text):
        return text
    return _UNSTORABLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _name(text: str, limit: int) -> str:
    cleaned = " ".join(storable(text).split())
    return cleaned[:limit]


def _mime(value: str | None) -> str | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    return lowered if len(lowered) <= MIME_CHARS and _MIME.fullmatch(lowered) else None


def _file(file: FileRef) -> FileRef:
    name = sanitize_file_name(file.name, FILE_NAME_CHARS)
    mime = _mime(file.mime_type)
    if name == file.name and mime == file.mime_type:
        return file
    return replace(file, name=name, mime_type=mime)


def cleaned(event: Incoming) -> Incoming:
    """``event`` with every field a member or the platform wrote made storable."""
    changes: dict[str, object] = {}
    if event.text is not None and _UNSTORABLE.search(event.text):
        changes["text"] = storable(event.text)
    if len(event.user_name) > DISPLAY_NAME_CHARS or _UNSTORABLE.search(event.user_name):
        changes["user_name"] = _name(event.user_name, DISPLAY_NAME_CHARS)
    if event.chat_title is not None and (len(event.chat_title) > CHAT_TITLE_CHARS
                                         or _UNSTORABLE.search(event.chat_title)):
        changes["chat_title"] = _name(event.chat_title, CHAT_TITLE_CHARS)
    if event.file is not None:
        file = _file(event.file)
        if file is not event.file:
            changes["file"] = file
    return replace(event, **changes) if changes else event  # type: ignore[arg-type]
