"""The frames of the AI bot's long connection: commands, error codes, request ids, JSON in and
out. See PROTOCOL.md beside this file for the sources."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any

JSON = dict[str, Any]
DEFAULT_WS_URL = "wss://openws.work.weixin.qq.com"


class Cmd(StrEnum):
    # client → WeCom
    SUBSCRIBE = "aibot_subscribe"
    PING = "ping"
    RESPOND_MSG = "aibot_respond_msg"
    RESPOND_WELCOME = "aibot_respond_welcome_msg"
    RESPOND_UPDATE = "aibot_respond_update_msg"
    SEND_MSG = "aibot_send_msg"
    # WeCom → client
    MSG_CALLBACK = "aibot_msg_callback"
    EVENT_CALLBACK = "aibot_event_callback"


class ErrCode(IntEnum):
    OK = 0
    INVALID_CREDENTIALS = 853000  # "invalid bot_id or secret"
    FREQ_OUT_OF_LIMIT = 45009
    INVALID_REQ_ID = 846605
    STREAM_EXPIRED = 846608
    NOT_SUBSCRIBED = 846609


class FrameError(ValueError):
    """A WebSocket message that is not a frame of this protocol."""


@dataclass(frozen=True)
class Frame:
    """A frame received: a callback (``cmd`` set) or the answer to one we sent (``errcode``)."""

    cmd: str | None
    req_id: str
    body: JSON
    errcode: int | None = None
    errmsg: str = ""


def new_req_id(prefix: str) -> str:
    """``<prefix>_<unix ms>_<8 hex>``, the official SDK's form."""
    return f"{prefix}_{int(time.time() * 1000)}_{secrets.token_hex(4)}"


def encode(cmd: str, req_id: str, body: JSON | None = None) -> str:
    frame: JSON = {"cmd": cmd, "headers": {"req_id": req_id}}
    if body is not None:
        frame["body"] = body
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def decode(message: str | bytes) -> Frame:
    try:
        data = json.loads(message)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FrameError(f"not JSON: {error}") from error
    if not isinstance(data, dict):
        raise FrameError("not a JSON object")
    headers = data.get("headers")
    req_id = headers.get("req_id") if isinstance(headers, dict) else None
    if not isinstance(req_id, str):
        raise FrameError("no headers.req_id")
    cmd, body, errcode = data.get("cmd"), data.get("body"), data.get("errcode")
    if cmd is not None and not isinstance(cmd, str):
        raise FrameError("cmd is not a string")
    if errcode is not None and not isinstance(errcode, int):
        raise FrameError("errcode is not a number")
    return Frame(cmd=cmd or None, req_id=req_id, body=body if isinstance(body, dict) else {},
                 errcode=errcode, errmsg=str(data.get("errmsg") or ""))
