"""Pieces of rendering a neutral ``Reply`` that every adapter with cards shares: a button's key
(its callback data, or ``/start <payload>`` for a button that opens a dialog), the numbered text
for a platform or chat that shows no buttons, what is left of a reply once its answer is on the
pressed card, and a pressed key turned back into the core's event."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

from handlers.core import selectors
from handlers.core.events import Button, Incoming, Reply
from handlers.core.i18n import Translator

START = "/start"


def button_key(button: Button) -> str:
    return f"{START} {button.start}" if button.start is not None else button.data or ""


def flat(reply: Reply) -> list[Button]:
    return [button for row in reply.buttons for button in row]


def numbered(t: Translator, reply: Reply) -> str:
    """The reply as text, its buttons with the selectors the core gave them (typed back, the
    core decides what they press)."""
    lines = [selectors.line(b) for b in flat(reply)]
    return "\n".join([reply.text, "", *lines, t(selectors.hint(reply.buttons))])


def following(reply: Reply) -> Reply | None:
    """What a reply sends as a new message once its answer is on the pressed card: the rest of
    it, or nothing when the answer was all it had to say."""
    if reply.answered is None:
        return reply
    if not reply.text and reply.document is None:
        return None
    return replace(reply, answered=None, edit=False)


def from_key(event: Incoming, key: str, message_id: str | None) -> Incoming:
    """A pressed button's key as the core's event: a callback, or ``/start <payload>`` typed."""
    if key.startswith("/"):
        return replace(event, text=key, callback_data=None, message_id=None)
    return replace(event, text=None, callback_data=key, message_id=message_id)


async def follow(followup: AsyncIterator[Reply], send: Callable[[Reply], Awaitable[None]]) -> None:
    """A long job (a report) on a platform whose messages are not edited: its files and messages
    as they come, and of its progress lines (``edit``) only the last."""
    progress: Reply | None = None
    async for reply in followup:
        if reply.edit and reply.document is None:
            progress = replace(reply, edit=False)
            continue
        await send(replace(reply, edit=False))
    if progress is not None:
        await send(progress)
