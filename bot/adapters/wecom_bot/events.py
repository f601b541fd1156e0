"""Callbacks from the AI bot as typed events.

A message or event carries its ``req_id``: the token a reply must quote (``aibot_respond_*``).
``conversation_id`` is where an active send (``aibot_send_msg``) reaches the same chat: the
group's chat id, or the sender's userid in a 1:1 chat.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import StrEnum

from bot.adapters.wecom_bot.wire import JSON, Cmd, Frame

log = logging.getLogger(__name__)
# A leading "@name" and the white space after it (WeCom may put U+2005, which \s matches).
_LEADING_MENTION = re.compile(r"^\s*@\S+(?:\s+|$)")


class ChatType(StrEnum):
    SINGLE = "single"
    GROUP = "group"


@dataclass(frozen=True)
class Callback:
    req_id: str
    msgid: str
    user_id: str
    chat_type: ChatType
    chat_id: str | None  # the group's chat id; None in a 1:1 chat

    @property
    def conversation_id(self) -> str:
        return self.chat_id if self.chat_id is not None else self.user_id


@dataclass(frozen=True)
class TextMessage(Callback):
    """Text typed (or spoken: ``voice`` is WeCom's transcription, ``mixed`` the text parts of a
    message with pictures); in a group, without the @-mention of the bot."""

    text: str
    msgtype: str  # "text" | "mixed" | "voice"


@dataclass(frozen=True)
class OtherMessage(Callback):
    """A message with no text for us: a picture, a file, a video."""

    msgtype: str


@dataclass(frozen=True)
class CardEvent(Callback):
    """A button pressed on a template card: the button's ``key`` and the card's ``task_id``."""

    key: str
    task_id: str
    card_type: str


@dataclass(frozen=True)
class EnterChat(Callback):
    """The user opened the 1:1 chat with the bot (first time that day)."""


@dataclass(frozen=True)
class Displaced:
    """Another connection subscribed as this bot; this one is no longer live."""

    msgid: str


AiBotEvent = TextMessage | OtherMessage | CardEvent | EnterChat | Displaced


def strip_mention(text: str, bot_name: str | None = None) -> str:
    """A group message without its @-mention of the bot: every ``@<bot_name>`` if the name is
    known, else a leading ``@word``."""
    if bot_name:
        return re.sub(rf"\s*@{re.escape(bot_name)}(?=\s|$)\s*", " ", text).strip()
    return _LEADING_MENTION.sub("", text, count=1).strip()


def parse_callback(frame: Frame, bot_name: str | None = None) -> AiBotEvent | None:
    """The event a callback frame stands for; None (logged) for one we do not handle."""
    body = frame.body
    msgid = body.get("msgid")
    if not isinstance(msgid, str) or not msgid:
        log.warning("AI bot callback without msgid dropped: %s", frame.req_id)
        return None
    if frame.cmd == Cmd.EVENT_CALLBACK:
        event = body.get("event")
        eventtype = event.get("eventtype") if isinstance(event, dict) else None
        if eventtype == "disconnected_event":
            return Displaced(msgid)
        origin = _origin(frame)
        if origin is None or not isinstance(event, dict):
            return None
        if eventtype == "enter_chat":
            return EnterChat(**vars(origin))
        if eventtype == "template_card_event":
            return _card_event(origin, event)
        log.debug("AI bot event %s ignored", eventtype)
        return None
    if frame.cmd != Cmd.MSG_CALLBACK:
        return None
    origin = _origin(frame)
    if origin is None:
        return None
    msgtype = str(body.get("msgtype") or "")
    text = _text(body, msgtype)
    if text is None:
        return OtherMessage(**vars(origin), msgtype=msgtype)
    if origin.chat_type is ChatType.GROUP:
        text = strip_mention(text, bot_name)
    return TextMessage(**vars(origin), text=text, msgtype=msgtype)


def _origin(frame: Frame) -> Callback | None:
    body = frame.body
    sender = body.get("from")
    user_id = sender.get("userid") if isinstance(sender, dict) else None
    chat_id = body.get("chatid")
    try:
        chat_type = ChatType(body.get("chattype") or ChatType.SINGLE)
    except ValueError:
        chat_type = None
    if not isinstance(user_id, str) or not user_id or chat_type is None or (
            chat_type is ChatType.GROUP and not (isinstance(chat_id, str) and chat_id)):
        log.warning("AI bot callback %s without a sender or chat dropped", body.get("msgid"))
        return None
    return Callback(req_id=frame.req_id, msgid=body["msgid"], user_id=user_id,
                    chat_type=chat_type, chat_id=chat_id if chat_type is ChatType.GROUP else None)


def _text(body: JSON, msgtype: str) -> str | None:
    if msgtype in ("text", "voice"):
        part = body.get(msgtype)
        content = part.get("content") if isinstance(part, dict) else None
        return content if isinstance(content, str) else None
    if msgtype == "mixed":
        mixed = body.get("mixed")
        items = mixed.get("msg_item") if isinstance(mixed, dict) else None
        texts = [item["text"]["content"] for item in items or []
                 if isinstance(item, dict) and item.get("msgtype") == "text"
                 and isinstance(item.get("text"), dict)
                 and isinstance(item["text"].get("content"), str)]
        return "\n".join(texts) if texts else None
    return None


def _card_event(origin: Callback, event: JSON) -> CardEvent | None:
    # Measured: nested under event.template_card_event; the Node SDK's type has it flat.
    nested = event.get("template_card_event")
    fields = nested if isinstance(nested, dict) else event
    key, task_id = fields.get("event_key"), fields.get("task_id")
    if not isinstance(key, str) or not isinstance(task_id, str):
        log.warning("AI bot card event %s without key or task_id dropped", origin.msgid)
        return None
    return CardEvent(**vars(origin), key=key, task_id=task_id,
                     card_type=str(fields.get("card_type") or ""))
