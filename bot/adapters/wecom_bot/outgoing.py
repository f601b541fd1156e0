"""What the bot sends over the long connection, as typed frames checked against WeCom's limits.

A reply quotes the ``req_id`` of the callback it answers; an active send (``SendMarkdown``,
``SendCard``) gets a new one. A value over a limit raises ``ValueError`` when built, so nothing
WeCom would refuse (or cut) leaves the adapter. Limits and sources: PROTOCOL.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from bot.adapters.wecom_bot.wire import JSON, Cmd, new_req_id

STREAM_BYTES = 20480  # stream.content
MARKDOWN_BYTES = 4096  # none published for aibot_send_msg: the group robot's markdown limit
CARD_BUTTONS = 6
KEY_BYTES = 1024
_TASK_ID = re.compile(r"[0-9A-Za-z_\-@]{1,128}")


class Outgoing(Protocol):
    @property
    def cmd(self) -> Cmd: ...

    @property
    def req_id(self) -> str | None:
        """The callback's req_id for a reply; None for an active send (a new one is made)."""

    def body(self) -> JSON: ...


def _check_text(content: str, limit: int, what: str) -> None:
    if not content.strip():
        raise ValueError(f"{what} is blank")
    if len(content.encode()) > limit:
        raise ValueError(f"{what} has {len(content.encode())} bytes, more than {limit}")


@dataclass(frozen=True)
class CardButton:
    text: str
    key: str
    style: int = 1  # 1-4

    def __post_init__(self) -> None:
        if not self.text.strip() or not self.key:
            raise ValueError("a card button needs a text and a key")
        if len(self.key.encode()) > KEY_BYTES:
            raise ValueError(f"button key longer than {KEY_BYTES} bytes")
        if not 1 <= self.style <= 4:
            raise ValueError("button style is 1 to 4")


@dataclass(frozen=True)
class TemplateCard:
    """A ``button_interaction`` card; a press comes back as a ``CardEvent`` with the button's key
    and this ``task_id`` (unique per bot)."""

    task_id: str
    title: str
    buttons: tuple[CardButton, ...]
    desc: str = ""
    sub_title: str = ""

    def __post_init__(self) -> None:
        if not _TASK_ID.fullmatch(self.task_id):
            raise ValueError("task_id: 1-128 of digits, letters and _-@")
        if not self.title.strip():
            raise ValueError("a card needs a title")
        if not 1 <= len(self.buttons) <= CARD_BUTTONS:
            raise ValueError(f"a card has 1 to {CARD_BUTTONS} buttons")
        if len({b.key for b in self.buttons}) != len(self.buttons):
            raise ValueError("button keys must differ")

    def to_json(self) -> JSON:
        title: JSON = {"title": self.title}
        if self.desc:
            title["desc"] = self.desc
        card: JSON = {
            "card_type": "button_interaction", "task_id": self.task_id, "main_title": title,
            "button_list": [{"text": b.text, "style": b.style, "key": b.key}
                            for b in self.buttons],
        }
        if self.sub_title:
            card["sub_title_text"] = self.sub_title
        return card


@dataclass(frozen=True)
class ReplyMarkdown:
    """A text (markdown) answer to a message: a stream finished in one frame."""

    req_id: str
    content: str
    stream_id: str = field(default_factory=lambda: new_req_id("stream"))
    cmd: Cmd = field(default=Cmd.RESPOND_MSG, init=False)

    def __post_init__(self) -> None:
        _check_text(self.content, STREAM_BYTES, "reply")

    def body(self) -> JSON:
        return {"msgtype": "stream",
                "stream": {"id": self.stream_id, "finish": True, "content": self.content}}


@dataclass(frozen=True)
class ReplyCard:
    """A template card in answer to a message."""

    req_id: str
    card: TemplateCard
    cmd: Cmd = field(default=Cmd.RESPOND_MSG, init=False)

    def body(self) -> JSON:
        return {"msgtype": "template_card", "template_card": self.card.to_json()}


@dataclass(frozen=True)
class UpdateCard:
    """The pressed card replaced (within 5 s of the press; same ``task_id``), for ``userids``
    or, if empty, for everyone it was shown to."""

    req_id: str
    card: TemplateCard
    userids: tuple[str, ...] = ()
    cmd: Cmd = field(default=Cmd.RESPOND_UPDATE, init=False)

    def body(self) -> JSON:
        body: JSON = {"response_type": "update_template_card",
                      "template_card": self.card.to_json()}
        if self.userids:
            body["userids"] = list(self.userids)
        return body


@dataclass(frozen=True)
class Welcome:
    """The answer to ``enter_chat`` (within 5 s): a text or a card."""

    req_id: str
    content: str | TemplateCard
    cmd: Cmd = field(default=Cmd.RESPOND_WELCOME, init=False)

    def __post_init__(self) -> None:
        if isinstance(self.content, str):
            _check_text(self.content, MARKDOWN_BYTES, "welcome")

    def body(self) -> JSON:
        if isinstance(self.content, TemplateCard):
            return {"msgtype": "template_card", "template_card": self.content.to_json()}
        return {"msgtype": "text", "text": {"content": self.content}}


@dataclass(frozen=True)
class SendMarkdown:
    """A message the bot sends on its own to a user (1:1) or a group: ``chat_id`` is the
    userid or the group's chat id (``Callback.conversation_id``)."""

    chat_id: str
    content: str
    cmd: Cmd = field(default=Cmd.SEND_MSG, init=False)
    req_id: None = field(default=None, init=False)

    def __post_init__(self) -> None:
        _check_text(self.content, MARKDOWN_BYTES, "message")

    def body(self) -> JSON:
        return {"chatid": self.chat_id, "msgtype": "markdown",
                "markdown": {"content": self.content}}


@dataclass(frozen=True)
class SendCard:
    chat_id: str
    card: TemplateCard
    cmd: Cmd = field(default=Cmd.SEND_MSG, init=False)
    req_id: None = field(default=None, init=False)

    def body(self) -> JSON:
        return {"chatid": self.chat_id, "msgtype": "template_card",
                "template_card": self.card.to_json()}
