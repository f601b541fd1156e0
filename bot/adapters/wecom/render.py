"""How a neutral ``Reply`` looks in WeCom.

- Up to six buttons and a short text: a template card (``button_interaction``); each button's
  key is our callback data, or ``/start <payload>`` for a button that opens a dialog.
- More buttons, a long text or a long key: numbered text, the user replies with the number
  (``Choices`` remembers each user's newest numbered list, as the console does).
- A group robot shows no buttons: a button that opens a dialog becomes a line telling the
  member what to send to the app in the 1:1 chat.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from itertools import count
from typing import Any

from handlers.core.events import Button, Incoming, Reply
from handlers.core.i18n import Translator

JSON = dict[str, Any]
CARD_BUTTONS = 6  # WeCom shows at most six buttons on a button_interaction card
TITLE_CHARS = 36  # main_title.title
BODY_CHARS = 112  # sub_title_text
KEY_BYTES = 1024  # a button's key
TEXT_BYTES = 2048  # a text message, from the app or a robot


def button_key(button: Button) -> str:
    return f"/start {button.start}" if button.start is not None else button.data or ""


def _flat(reply: Reply) -> list[Button]:
    return [button for row in reply.buttons for button in row]


def fits_card(reply: Reply) -> bool:
    buttons = _flat(reply)
    title, _, body = reply.text.partition("\n")
    return (0 < len(buttons) <= CARD_BUTTONS and len(title) <= TITLE_CHARS
            and len(body) <= BODY_CHARS
            and all(len(button_key(b).encode()) <= KEY_BYTES for b in buttons))


def card(userid: str, reply: Reply) -> JSON:
    title, _, body = reply.text.partition("\n")
    template: JSON = {
        "card_type": "button_interaction",
        "main_title": {"title": title},
        "task_id": f"bb_{uuid.uuid4().hex}",
        "button_list": [{"text": b.label, "style": 1, "key": button_key(b)} for b in _flat(reply)],
    }
    if body.strip():
        template["sub_title_text"] = body.strip()
    return {"touser": userid, "msgtype": "template_card", "template_card": template}


def numbered(t: Translator, reply: Reply) -> str:
    lines = [f"{i}. {b.label}" for i, b in enumerate(_flat(reply), start=1)]
    return "\n".join([reply.text, "", *lines, t("wecom.reply_number")])


def pieces(content: str, limit: int = TEXT_BYTES) -> list[str]:
    """A text cut at line ends into pieces of at most ``limit`` bytes (a longer line is cut
    where it must, between characters); blank pieces are left out (WeCom refuses them)."""
    result: list[str] = []
    current: str | None = None
    for line in content.split("\n"):
        candidate = line if current is None else f"{current}\n{line}"
        if len(candidate.encode()) <= limit:
            current = candidate
            continue
        if current is not None:
            result.append(current)
        while len(line.encode()) > limit:
            cut = len(line.encode()[:limit].decode("utf-8", "ignore"))
            result.append(line[:cut])
            line = line[cut:]
        current = line
    result.append(current or "")
    kept = [piece for piece in result if piece.strip()]
    return kept or [content]


def texts(userid: str, content: str) -> list[JSON]:
    return [{"touser": userid, "msgtype": "text", "text": {"content": piece}}
            for piece in pieces(content)]


def robot_texts(t: Translator, reply: Reply) -> list[JSON]:
    lines = [reply.text] + [t("wecom.robot_start", label=b.label, command=f"/start {b.start}")
                            for b in _flat(reply) if b.start is not None]
    return [{"msgtype": "text", "text": {"content": piece}} for piece in pieces("\n".join(lines))]


def following(reply: Reply) -> Reply | None:
    """What a reply sends as a new message once its answer is on the pressed card: the rest of
    it, or nothing when the answer was all it had to say."""
    if reply.answered is None:
        return reply
    if not reply.text and reply.document is None:
        return None
    return replace(reply, answered=None, edit=False)


class Choices:
    """Each user's newest numbered list, so that a typed number presses that button."""

    def __init__(self) -> None:
        self._lists: dict[str, tuple[str, list[Button]]] = {}
        self._ids = count(1)

    def offer(self, userid: str, reply: Reply) -> None:
        self._lists[userid] = (f"n{next(self._ids)}", _flat(reply))

    def forget(self, userid: str) -> None:
        self._lists.pop(userid, None)

    def pressed(self, event: Incoming) -> Incoming:
        """The event a typed number stands for: that button's press, or the text itself."""
        text_in = (event.text or "").strip()
        message_id, buttons = self._lists.get(event.user_id, ("", []))
        if not text_in.isdigit() or not 1 <= int(text_in) <= len(buttons):
            return event
        return from_key(event, button_key(buttons[int(text_in) - 1]), message_id)


def from_key(event: Incoming, key: str, message_id: str | None) -> Incoming:
    """A pressed button's key as the core's event: a callback, or ``/start <payload>`` typed."""
    if key.startswith("/"):
        return replace(event, text=key, callback_data=None, message_id=None)
    return replace(event, text=None, callback_data=key, message_id=message_id)
