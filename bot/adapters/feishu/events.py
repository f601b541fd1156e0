"""Incoming Feishu events as typed values: a message (``im.message.receive_v1``) or a card press
(``card.action.trigger``), parsed once from the event JSON (schema 2.0) of either transport."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

MESSAGE_RECEIVED = "im.message.receive_v1"
CARD_ACTION = "card.action.trigger"
ChatType = Literal["p2p", "group"]
AttachmentKind = Literal["image", "file", "audio", "media"]
JSON = dict[str, Any]


class BadEvent(Exception):
    """An event of a known type without the fields that type always has."""


@dataclass(frozen=True)
class UserIds:
    """The three ids Feishu gives a person; ``open_id`` is per app and always present."""

    open_id: str
    user_id: str | None = None
    union_id: str | None = None


@dataclass(frozen=True)
class EventHeader:
    event_id: str
    event_type: str
    create_time_ms: int
    app_id: str
    tenant_key: str
    token: str  # the app's verification token (checked on the HTTP callback)


@dataclass(frozen=True)
class Mention:
    key: str  # the placeholder in the text, "@_user_1"
    name: str
    ids: UserIds | None  # None for @所有人


@dataclass(frozen=True)
class Attachment:
    kind: AttachmentKind
    key: str  # image_key or file_key, for messages/:message_id/resources/:key
    file_name: str | None

    @property
    def resource_type(self) -> Literal["image", "file"]:
        """The ``type`` query of the resource download: audio and video files are "file"."""
        return "image" if self.kind == "image" else "file"


@dataclass(frozen=True)
class MessageEvent:
    header: EventHeader
    message_id: str
    chat_id: str
    chat_type: ChatType
    sender: UserIds
    sender_type: str  # "user" for people
    message_type: str  # text, post, image, file, audio, media, sticker, interactive …
    content: JSON  # the message's content JSON, decoded
    mentions: tuple[Mention, ...]
    root_id: str | None = None
    parent_id: str | None = None

    @property
    def dedupe_keys(self) -> tuple[str, ...]:
        return (f"e:{self.header.event_id}", f"m:{self.message_id}")

    @property
    def text(self) -> str | None:
        """The text of a text or rich-text (post) message, mention placeholders left in."""
        if self.message_type == "text":
            value = self.content.get("text")
            return value if isinstance(value, str) else None
        if self.message_type == "post":
            return _post_text(self.content)
        return None

    def text_for_bot(self, bot_open_id: str | None) -> str | None:
        """The text with the bot's own @-mention removed and other people's as "@name"."""
        text = self.text
        if text is None:
            return None
        for mention in self.mentions:
            is_bot = mention.ids is not None and mention.ids.open_id == bot_open_id
            text = text.replace(mention.key, "" if is_bot else f"@{mention.name}")
        return " ".join(text.split())

    def mentions_user(self, open_id: str) -> bool:
        return any(m.ids is not None and m.ids.open_id == open_id for m in self.mentions)

    @property
    def attachment(self) -> Attachment | None:
        name = self.content.get("file_name")
        file_name = name if isinstance(name, str) and name else None
        if self.message_type == "image" and _text(self.content, "image_key"):
            return Attachment("image", _text(self.content, "image_key"), None)
        if self.message_type in ("file", "audio", "media") and _text(self.content, "file_key"):
            kind: AttachmentKind = self.message_type  # type: ignore[assignment]
            return Attachment(kind, _text(self.content, "file_key"), file_name)
        return None


@dataclass(frozen=True)
class CardAction:
    header: EventHeader
    operator: UserIds
    token: str  # for a delayed update of this card (30 minutes, twice)
    open_message_id: str
    open_chat_id: str | None
    tag: str  # button, select_static, input …
    value: Mapping[str, Any] | str  # the pressed component's ``value`` as we sent it
    name: str | None = None
    form_value: Mapping[str, Any] | None = None
    option: str | None = None

    @property
    def dedupe_keys(self) -> tuple[str, ...]:
        return (f"e:{self.header.event_id}",)


FeishuEvent = MessageEvent | CardAction


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _required(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise BadEvent(f"{where}.{key} missing")
    return value


def _object(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise BadEvent(f"{where}.{key} missing")
    return value


def _ids(data: Mapping[str, Any] | None, where: str) -> UserIds:
    if data is None:
        raise BadEvent(f"{where} missing")
    return UserIds(_required(data, "open_id", where), _text(data, "user_id") or None,
                   _text(data, "union_id") or None)


def _post_text(content: Mapping[str, Any]) -> str | None:
    """Title and paragraphs of a post; the event gives ``{title, content}``, the API may nest it
    under a locale (``zh_cn``)."""
    body: Any = content
    if "content" not in body and len(body) == 1:
        body = next(iter(body.values()))
    if not isinstance(body, Mapping) or not isinstance(body.get("content"), list):
        return None
    lines = [str(body["title"])] if body.get("title") else []
    for paragraph in body["content"]:
        if isinstance(paragraph, list):
            parts = [str(item.get("text", "")) for item in paragraph
                     if isinstance(item, Mapping) and item.get("tag") in ("text", "a", "md")]
            lines.append("".join(parts))
    return "\n".join(lines)


def parse_header(payload: Mapping[str, Any]) -> EventHeader:
    if payload.get("schema") != "2.0":
        raise BadEvent("not an event of schema 2.0")
    header = _object(payload, "header", "event")
    created = _text(header, "create_time")
    return EventHeader(
        event_id=_required(header, "event_id", "header"),
        event_type=_required(header, "event_type", "header"),
        create_time_ms=int(created) if created.isascii() and created.isdigit() else 0,
        app_id=_text(header, "app_id"), tenant_key=_text(header, "tenant_key"),
        token=_text(header, "token"))


def _message(header: EventHeader, event: Mapping[str, Any]) -> MessageEvent:
    message = _object(event, "message", "event")
    sender = _object(event, "sender", "event")
    chat_type = _required(message, "chat_type", "message")
    if chat_type not in ("p2p", "group"):
        raise BadEvent(f"message.chat_type {chat_type!r}")
    try:
        content = json.loads(_required(message, "content", "message"))
    except ValueError as error:
        raise BadEvent("message.content is not JSON") from error
    if not isinstance(content, dict):
        raise BadEvent("message.content is not a JSON object")
    mentions = []
    for item in message.get("mentions") or ():
        if not isinstance(item, Mapping):
            raise BadEvent("message.mentions holds a non-object")
        ids = item.get("id")
        mentions.append(Mention(
            _required(item, "key", "mention"), _text(item, "name"),
            _ids(ids, "mention.id") if isinstance(ids, Mapping) and ids.get("open_id") else None))
    return MessageEvent(
        header=header, message_id=_required(message, "message_id", "message"),
        chat_id=_required(message, "chat_id", "message"), chat_type=chat_type,  # type: ignore[arg-type]
        sender=_ids(sender.get("sender_id") if isinstance(sender.get("sender_id"), Mapping)
                    else None, "sender.sender_id"),
        sender_type=_text(sender, "sender_type"),
        message_type=_required(message, "message_type", "message"), content=content,
        mentions=tuple(mentions), root_id=_text(message, "root_id") or None,
        parent_id=_text(message, "parent_id") or None)


def _card_action(header: EventHeader, event: Mapping[str, Any]) -> CardAction:
    action = _object(event, "action", "event")
    context = _object(event, "context", "event")
    operator = _object(event, "operator", "event")
    value = action.get("value")
    if not isinstance(value, (Mapping, str)):
        raise BadEvent("action.value missing")
    form = action.get("form_value")
    return CardAction(
        header=header, operator=_ids(operator, "operator"),
        token=_text(event, "token"),
        open_message_id=_required(context, "open_message_id", "context"),
        open_chat_id=_text(context, "open_chat_id") or None,
        tag=_text(action, "tag"), value=value, name=_text(action, "name") or None,
        form_value=form if isinstance(form, Mapping) else None,
        option=_text(action, "option") or None)


def parse_event(payload: Mapping[str, Any]) -> FeishuEvent | None:
    """The typed event, None for a type the bot does not take, ``BadEvent`` if malformed."""
    header = parse_header(payload)
    event = _object(payload, "event", "event")
    if header.event_type == MESSAGE_RECEIVED:
        return _message(header, event)
    if header.event_type == CARD_ACTION:
        return _card_action(header, event)
    return None
