"""How a neutral ``Reply`` looks in WeCom.

- Up to six buttons and a short text: a template card (``button_interaction``); each button's
  key is our callback data, or ``/start <payload>`` for a button that opens a dialog.
- More buttons, a long text or a long key: text with the core's selectors (``[1] 自学``); what
  the member types back goes to the core as it is (``handlers.core.selectors``).
- A group robot shows no buttons: a button that opens a dialog becomes a line telling the
  member what to send to the app in the 1:1 chat.
"""

from __future__ import annotations

import uuid
from typing import Any

from bot.adapters import split
from bot.adapters.replies import button_key, flat, following, from_key, numbered
from handlers.core.events import Reply
from handlers.core.i18n import Translator

JSON = dict[str, Any]
CARD_BUTTONS = 6  # WeCom shows at most six buttons on a button_interaction card
TITLE_CHARS = 36  # main_title.title
BODY_CHARS = 112  # sub_title_text
KEY_BYTES = 1024  # a button's key
TEXT_BYTES = 2048  # a text message, from the app or a robot


def fits_card(reply: Reply) -> bool:
    buttons = flat(reply)
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
        "button_list": [{"text": b.label, "style": 1, "key": button_key(b)} for b in flat(reply)],
    }
    if body.strip():
        template["sub_title_text"] = body.strip()
    return {"touser": userid, "msgtype": "template_card", "template_card": template}


def pieces(content: str, limit: int = TEXT_BYTES) -> list[str]:
    """A text in pieces of at most ``limit`` bytes (``bot.adapters.split``)."""
    return split.pieces(content, limit, split.utf8_bytes)


def texts(userid: str, content: str) -> list[JSON]:
    return [{"touser": userid, "msgtype": "text", "text": {"content": piece}}
            for piece in pieces(content)]


def robot_texts(t: Translator, reply: Reply) -> list[JSON]:
    lines = [reply.text] + [t("wecom.robot_start", label=b.label, command=f"/start {b.start}")
                            for b in flat(reply) if b.start is not None]
    return [{"msgtype": "text", "text": {"content": piece}} for piece in pieces("\n".join(lines))]


__all__ = ["button_key", "card", "fits_card", "following", "from_key", "numbered", "pieces",
           "robot_texts", "texts"]
