"""Outgoing Feishu messages as typed values and their wire JSON: text, an interactive card
(JSON 1.0 with ``update_multi`` so it can be updated for everyone), an image or file already
uploaded, and the answer to a card press. Sizes are checked here, before anything is sent."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

JSON = dict[str, Any]
ButtonStyle = Literal["default", "primary", "danger"]
ToastType = Literal["info", "success", "error", "warning"]

# Request body limits of im/v1 messages (send, reply, patch): text 150 KB, card and post 30 KB.
MAX_TEXT_BODY = 150 * 1024
MAX_CARD_BODY = 30 * 1024


class MessageTooLarge(ValueError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"request body of {size} bytes over Feishu's {limit}")
        self.size, self.limit = size, limit


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Button:
    label: str
    value: Mapping[str, str]  # comes back as the press's ``action.value``
    style: ButtonStyle = "default"


@dataclass(frozen=True)
class Card:
    body: str  # plain text: nothing a member typed is read as markdown or an @-mention
    title: str | None = None
    rows: tuple[tuple[Button, ...], ...] = ()
    note: str | None = None  # a grey line under the buttons


@dataclass(frozen=True)
class Image:
    image_key: str


@dataclass(frozen=True)
class File:
    file_key: str


Outgoing = Text | Card | Image | File


def _plain(text: str) -> JSON:
    return {"tag": "plain_text", "content": text}


def card_json(card: Card) -> JSON:
    elements: list[JSON] = [{"tag": "div", "text": _plain(card.body)}]
    for row in card.rows:
        elements.append({"tag": "action", "layout": "flow", "actions": [
            {"tag": "button", "text": _plain(b.label), "type": b.style, "value": dict(b.value)}
            for b in row]})
    if card.note:
        elements.append({"tag": "note", "elements": [_plain(card.note)]})
    data: JSON = {"config": {"update_multi": True, "wide_screen_mode": True},
                  "elements": elements}
    if card.title:
        data["header"] = {"title": _plain(card.title), "template": "red"}
    return data


def _content(message: Outgoing) -> tuple[str, JSON]:
    if isinstance(message, Text):
        return "text", {"text": message.text}
    if isinstance(message, Card):
        return "interactive", card_json(message)
    if isinstance(message, Image):
        return "image", {"image_key": message.image_key}
    return "file", {"file_key": message.file_key}


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _checked(body: JSON, msg_type: str) -> JSON:
    size = len(_dumps(body).encode())
    limit = MAX_TEXT_BODY if msg_type == "text" else MAX_CARD_BODY
    if size > limit:
        raise MessageTooLarge(size, limit)
    return body


def message_body(message: Outgoing, **fields: Any) -> JSON:
    """The body of a send (``receive_id``) or reply: msg_type and the content as a JSON string."""
    msg_type, content = _content(message)
    return _checked({**fields, "msg_type": msg_type, "content": _dumps(content)}, msg_type)


def patch_body(card: Card) -> JSON:
    return _checked({"content": _dumps(card_json(card))}, "interactive")


@dataclass(frozen=True)
class CardAnswer:
    """What a card press is answered with, within 3 seconds: a toast, the card replaced, both,
    or neither (``{}``)."""

    toast: str | None = None
    toast_type: ToastType = "info"
    card: Card | None = None

    def to_json(self) -> JSON:
        body: JSON = {}
        if self.toast is not None:
            body["toast"] = {"type": self.toast_type, "content": self.toast}
        if self.card is not None:
            body["card"] = {"type": "raw", "data": card_json(self.card)}
        return body
