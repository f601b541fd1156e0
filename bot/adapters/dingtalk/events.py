"""Typed incoming events: a robot message, an interactive card press, a gap in the stream.

Parsed from a frame's data once, at the edge; the rest of the adapter never looks at the JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

JSON = dict[str, Any]


class BadEvent(ValueError):
    """A frame whose data misses what the protocol promises (ACKed with 400, not delivered)."""


class ConversationType(StrEnum):
    PRIVATE = "1"  # the member and the robot, 1:1
    GROUP = "2"  # a group where the member @-mentioned the robot


@dataclass(frozen=True)
class SessionWebhook:
    """The reply URL DingTalk hands out with each robot message, valid until ``expires_at``."""

    url: str
    expires_at: datetime

    def valid_at(self, now: datetime, margin_seconds: float = 60.0) -> bool:
        return (self.expires_at - now).total_seconds() > margin_seconds


@dataclass(frozen=True)
class Attachment:
    """A file, picture, audio or video the member sent; fetched with its ``download_code``."""

    kind: str  # the message's msgtype: picture, file, audio, video, richText
    download_code: str
    file_name: str | None = None


@dataclass(frozen=True)
class RobotMessage:
    msg_id: str
    conversation_type: ConversationType
    conversation_id: str  # cid…: the group's openConversationId, or the 1:1 conversation
    sender_staff_id: str  # the member's userId in the organisation (what the send APIs take)
    sender_nick: str
    msgtype: str
    text: str | None  # text content, the text parts of rich text, or a voice's recognition
    attachments: tuple[Attachment, ...]
    session_webhook: SessionWebhook | None
    is_in_at_list: bool
    created_at: datetime
    conversation_title: str | None = None
    sender_corp_id: str | None = None
    is_admin: bool = False

    @property
    def is_group(self) -> bool:
        return self.conversation_type is ConversationType.GROUP


@dataclass(frozen=True)
class CardPress:
    """A member pressed a button (回传请求) of an interactive card we sent."""

    out_track_id: str
    user_id: str  # the presser's userId, from DingTalk, not from the card
    space_type: str  # IM_ROBOT (1:1) or IM_GROUP
    space_id: str
    action_ids: tuple[str, ...]
    params: dict[str, str]
    message_id: str  # the frame's messageId: presses have no id of their own


@dataclass(frozen=True)
class StreamGap:
    """The stream was down between ``since`` and ``until``: robot messages sent meanwhile are lost
    (DingTalk pushes them once, fire and forget) and cannot be fetched again."""

    since: datetime
    until: datetime

    @property
    def seconds(self) -> float:
        return (self.until - self.since).total_seconds()


Incoming = RobotMessage | CardPress | StreamGap


def _millis(value: object) -> datetime:
    return datetime.fromtimestamp(int(str(value)) / 1000, UTC)


def _required(data: JSON, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise BadEvent(f"{key} missing")
    return value


def _content(data: JSON) -> JSON:
    content = data.get("content") or {}
    return content if isinstance(content, dict) else {}


def _text_and_attachments(data: JSON, msgtype: str) -> tuple[str | None, tuple[Attachment, ...]]:
    content = _content(data)
    if msgtype == "text":
        text = (data.get("text") or {}).get("content")
        return (str(text).strip() if text is not None else None), ()
    if msgtype == "richText":
        parts = content.get("richText") or []
        words = [str(p["text"]) for p in parts if isinstance(p, dict) and "text" in p]
        files = tuple(Attachment("picture", str(p["downloadCode"])) for p in parts
                      if isinstance(p, dict) and p.get("downloadCode"))
        return ("\n".join(words).strip() or None), files
    recognition = content.get("recognition")  # a voice message's speech-to-text
    code = content.get("downloadCode")
    files = (Attachment(msgtype, str(code), content.get("fileName")),) if code else ()
    return (str(recognition) if recognition else None), files


def parse_robot_message(data: JSON) -> RobotMessage:
    try:
        conversation_type = ConversationType(str(data.get("conversationType")))
    except ValueError as error:
        raise BadEvent(f"conversationType {data.get('conversationType')!r}") from error
    msgtype = _required(data, "msgtype")
    text, attachments = _text_and_attachments(data, msgtype)
    webhook = None
    if data.get("sessionWebhook") and data.get("sessionWebhookExpiredTime"):
        webhook = SessionWebhook(str(data["sessionWebhook"]), _millis(data["sessionWebhookExpiredTime"]))
    created = data.get("createAt")
    return RobotMessage(
        msg_id=_required(data, "msgId"), conversation_type=conversation_type,
        conversation_id=_required(data, "conversationId"),
        sender_staff_id=_required(data, "senderStaffId"),
        sender_nick=str(data.get("senderNick") or ""), msgtype=msgtype, text=text,
        attachments=attachments, session_webhook=webhook,
        is_in_at_list=bool(data.get("isInAtList", conversation_type is ConversationType.PRIVATE)),
        created_at=_millis(created) if created else datetime.now(UTC),
        conversation_title=data.get("conversationTitle"), sender_corp_id=data.get("senderCorpId"),
        is_admin=bool(data.get("isAdmin", False)))


def parse_card_press(data: JSON, message_id: str) -> CardPress:
    raw_content = data.get("content") or "{}"
    try:
        content = json.loads(raw_content) if isinstance(raw_content, str) else raw_content
    except ValueError as error:
        raise BadEvent("card callback content is not JSON") from error
    private = (content or {}).get("cardPrivateData") or {}
    params = private.get("params") or {}
    if not isinstance(params, dict):
        raise BadEvent("card callback params is not an object")
    return CardPress(
        out_track_id=_required(data, "outTrackId"), user_id=_required(data, "userId"),
        space_type=str(data.get("spaceType") or ""), space_id=str(data.get("spaceId") or ""),
        action_ids=tuple(str(a) for a in private.get("actionIds") or ()),
        params={str(k): str(v) for k, v in params.items()}, message_id=message_id)
