"""Typed outgoing messages and where they go, each rendered for the two ways of sending:
the robot OpenAPI (``msgKey`` + ``msgParam``, a JSON string) and a session webhook
(``msgtype`` + its body).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus

JSON = dict[str, Any]
MAX_PARAM_BYTES = 15_000  # groupMessages/send: msgParam "must not exceed 15,000 bytes"
MAX_ACTION_BUTTONS = 5  # sampleActionCard2…5 hold two to five vertical buttons
MAX_USERS_PER_BATCH = 20  # oToMessages/batchSend: "up to 20 userIds at a time"


class MessageTooLong(ValueError):
    """Longer than DingTalk takes: the caller splits it first."""


@dataclass(frozen=True)
class ToUser:
    staff_id: str


@dataclass(frozen=True)
class ToGroup:
    open_conversation_id: str


Target = ToUser | ToGroup


def send_back_url(content: str) -> str:
    """A link that, tapped in the DingTalk client, sends ``content`` as the member's own message.
    The host must be lowercase ``dingtalkclient``; the content form-encoded."""
    return f"dtmd://dingtalkclient/sendMessage?content={quote_plus(content)}"


def _checked(param: JSON) -> str:
    text = json.dumps(param, ensure_ascii=False)
    if len(text.encode()) > MAX_PARAM_BYTES:
        raise MessageTooLong(f"msgParam of {len(text.encode())} bytes, DingTalk takes {MAX_PARAM_BYTES}")
    return text


@dataclass(frozen=True)
class Text:
    content: str

    msg_key = "sampleText"

    def msg_param(self) -> str:
        return _checked({"content": self.content})

    def webhook_body(self) -> JSON | None:
        self.msg_param()
        return {"msgtype": "text", "text": {"content": self.content}}


@dataclass(frozen=True)
class Markdown:
    title: str  # shown in the conversation list and the notification
    text: str

    msg_key = "sampleMarkdown"

    def msg_param(self) -> str:
        return _checked({"title": self.title, "text": self.text})

    def webhook_body(self) -> JSON | None:
        self.msg_param()
        return {"msgtype": "markdown", "markdown": {"title": self.title, "text": self.text}}


@dataclass(frozen=True)
class LinkButton:
    label: str
    url: str  # https://… or send_back_url(…)


@dataclass(frozen=True)
class ActionCard:
    """Markdown with one to five buttons, each a link (vertical, one under the other)."""

    title: str
    text: str
    buttons: tuple[LinkButton, ...]

    def __post_init__(self) -> None:
        if not 1 <= len(self.buttons) <= MAX_ACTION_BUTTONS:
            raise ValueError(f"an ActionCard holds 1 to {MAX_ACTION_BUTTONS} buttons, not {len(self.buttons)}")

    @property
    def msg_key(self) -> str:
        return "sampleActionCard" if len(self.buttons) == 1 else f"sampleActionCard{len(self.buttons)}"

    def msg_param(self) -> str:
        param: JSON = {"title": self.title, "text": self.text}
        if len(self.buttons) == 1:
            param |= {"singleTitle": self.buttons[0].label, "singleURL": self.buttons[0].url}
        else:
            for number, button in enumerate(self.buttons, start=1):
                param |= {f"actionTitle{number}": button.label, f"actionURL{number}": button.url}
        return _checked(param)

    def webhook_body(self) -> JSON | None:
        self.msg_param()
        card: JSON = {"title": self.title, "text": self.text, "btnOrientation": "0"}
        if len(self.buttons) == 1:
            card |= {"singleTitle": self.buttons[0].label, "singleURL": self.buttons[0].url}
        else:
            card["btns"] = [{"title": b.label, "actionURL": b.url} for b in self.buttons]
        return {"msgtype": "actionCard", "actionCard": card}


@dataclass(frozen=True)
class File:
    """A file uploaded with ``media/upload`` first; session webhooks cannot carry one."""

    media_id: str
    file_name: str

    msg_key = "sampleFile"

    def msg_param(self) -> str:
        suffix = self.file_name.rsplit(".", 1)[-1].lower() if "." in self.file_name else ""
        return _checked({"mediaId": self.media_id, "fileName": self.file_name, "fileType": suffix})

    def webhook_body(self) -> JSON | None:
        return None


Message = Text | Markdown | ActionCard | File


@dataclass(frozen=True)
class CardButton:
    label: str
    value: str  # comes back in the press's params["value"]


@dataclass(frozen=True)
class Card:
    """An interactive card (高级版) from a template made in 卡片平台, its presses coming back on the
    stream. ``params`` fill the template's variables (all strings, as cardParamMap wants)."""

    template_id: str
    out_track_id: str
    params: Mapping[str, str] = field(default_factory=dict)


def choice_card(template_id: str, out_track_id: str, title: str, text: str,
                buttons: tuple[CardButton, ...], chosen: str = "") -> Card:
    """The variables of the choice template described in PROTOCOL.md: ``title``, ``text``
    (markdown), ``buttons`` (a JSON list of {text, value}; each button sends back ``value``) and
    ``chosen`` (shown, with the buttons hidden, once one was pressed)."""
    return Card(template_id, out_track_id, {
        "title": title, "text": text, "chosen": chosen,
        "buttons": json.dumps([{"text": b.label, "value": b.value} for b in buttons], ensure_ascii=False)})
