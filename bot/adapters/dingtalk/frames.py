"""Stream mode frames as they travel on the WebSocket, and the ACKs we answer with.

A frame is ``{"specVersion", "type": SYSTEM|EVENT|CALLBACK, "headers": {topic, messageId,
contentType, time, ...}, "data": "<a JSON document, as a string>"}``; an ACK is
``{"code", "headers": {messageId, contentType}, "message", "data": "<JSON string>"}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

JSON = dict[str, Any]
CONTENT_TYPE = "application/json"
TOPIC_ROBOT_MESSAGE = "/v1.0/im/bot/messages/get"
TOPIC_CARD_CALLBACK = "/v1.0/card/instances/callback"
TOPIC_PING = "ping"
TOPIC_DISCONNECT = "disconnect"


class FrameType(StrEnum):
    SYSTEM = "SYSTEM"
    EVENT = "EVENT"
    CALLBACK = "CALLBACK"


class BadFrame(ValueError):
    """Not a frame of the protocol (logged and skipped; the connection stays up)."""


@dataclass(frozen=True)
class Frame:
    type: FrameType
    topic: str
    message_id: str  # empty for a SYSTEM disconnect, which carries none
    data: JSON
    headers: dict[str, str] = field(default_factory=dict)
    spec_version: str = "1.0"


def parse_frame(raw: str | bytes) -> Frame:
    try:
        document = json.loads(raw)
        kind = FrameType(document["type"])
        headers = {str(k): str(v) for k, v in dict(document.get("headers") or {}).items()}
        data_text = document.get("data") or "{}"
        data = json.loads(data_text) if isinstance(data_text, (str, bytes)) else data_text
    except (ValueError, KeyError, TypeError) as error:
        raise BadFrame(f"not a stream frame: {error}") from error
    if not isinstance(data, dict):
        raise BadFrame("frame data is not a JSON object")
    return Frame(kind, headers.get("topic", ""), headers.get("messageId", ""), data, headers,
                 str(document.get("specVersion", "1.0")))


def ack(message_id: str, data: JSON | None, *, code: int = 200, message: str = "OK") -> str:
    """The ACK for the frame ``message_id``; ``data`` goes as a JSON string, as the protocol asks."""
    return json.dumps({"code": code, "headers": {"messageId": message_id, "contentType": CONTENT_TYPE},
                       "message": message, "data": json.dumps(data, ensure_ascii=False)},
                      ensure_ascii=False)
