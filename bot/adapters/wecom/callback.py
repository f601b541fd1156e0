"""WeCom's callbacks as an ASGI app (Starlette): the URL check (GET) and encrypted XML (POST).

Every request is checked before anything is done with it: a fresh timestamp, the signature, the
AES padding and the corp id, a body of bounded size, XML through defusedxml. A bad one gets a
4xx and is not processed. A good POST is answered at once (WeCom retries after 5 s) and handled
in the background; the event id lets the core drop a retried copy.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Lifespan

from bot.adapters.wecom import PLATFORM
from bot.adapters.wecom.crypto import CryptoError, MsgCrypt
from handlers.core.events import Account, FileRef, Incoming

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024  # a callback is a few hundred bytes
MAX_SKEW = 300  # seconds a callback's timestamp may be off our clock


@dataclass(frozen=True)
class Callback:
    """One message or button press from WeCom, with what replying to it needs."""

    event: Incoming
    response_code: str | None = None  # a pressed template card's, to update that card once


class BadCallback(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def parse_xml(data: bytes | str) -> Element:
    try:
        return fromstring(data, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as error:
        raise BadCallback(400, f"malformed XML: {type(error).__name__}") from error


def _field(root: Element, name: str) -> str:
    return (root.findtext(name) or "").strip()


def _event_id(*parts: str) -> str:
    return "e:" + hashlib.sha1("\x1f".join(parts).encode()).hexdigest()


# What a member may send as evidence: a photo or a file (its type is detected from the content
# when it is kept; the hint here is only the platform's).
MEDIA_KINDS: dict[str, str | None] = {"image": "image/jpeg", "file": None}


def to_callback(root: Element, agent_id: int | None) -> Callback | None:
    """The neutral event of a decrypted message, or None for what the core does not take."""
    if agent_id is not None and _field(root, "AgentID") not in ("", str(agent_id)):
        return None
    user = _field(root, "FromUserName")
    kind = _field(root, "MsgType")
    if not user:
        return None
    # WeCom authenticated the userid (FromUserName of a callback signed with the app's token).
    base = dict(platform=PLATFORM, user_id=user, user_name="", chat_id=user, is_private=True,
                accounts=(Account("wecom", user),))
    if kind == "text" and _field(root, "MsgId"):
        return Callback(Incoming(**base, text=root.findtext("Content") or "",  # type: ignore[arg-type]
                                 event_id="m:" + _field(root, "MsgId")))
    if kind in MEDIA_KINDS and _field(root, "MediaId") and _field(root, "MsgId"):
        name = (root.findtext("FileName") or root.findtext("Title") or "").strip() or None
        file = FileRef(_field(root, "MediaId"), name, MEDIA_KINDS[kind])
        return Callback(Incoming(**base, file=file,  # type: ignore[arg-type]
                                 event_id="m:" + _field(root, "MsgId")))
    if kind == "event" and _field(root, "Event") == "template_card_event":
        key, task = root.findtext("EventKey") or "", _field(root, "TaskId")
        if not key:
            return None
        event_id = _event_id(user, _field(root, "CreateTime"), task, key)
        return Callback(Incoming(**base, callback_data=key, message_id=task or None,  # type: ignore[arg-type]
                                 event_id=event_id),
                        response_code=_field(root, "ResponseCode") or None)
    return None


def _query(request: Request, crypt: MsgCrypt, now: Callable[[], float]) -> tuple[str, str, str]:
    params = request.query_params
    signature, timestamp, nonce = (params.get("msg_signature", ""), params.get("timestamp", ""),
                                   params.get("nonce", ""))
    if not (signature and timestamp.isascii() and timestamp.isdigit() and nonce) or len(timestamp) > 12:
        raise BadCallback(400, "missing msg_signature, timestamp or nonce")
    if abs(now() - int(timestamp)) > MAX_SKEW:
        raise BadCallback(403, "stale timestamp")
    return signature, timestamp, nonce


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY:
        raise BadCallback(413, "body too large")
    body = b""
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                raise BadCallback(413, "body too large")
    except ClientDisconnect as error:
        raise BadCallback(400, "client went away") from error
    return body


def callback_app(crypt: MsgCrypt, agent_id: int | None, path: str,
                 accept: Callable[[Callback], Awaitable[None]], *,
                 lifespan: Lifespan[Starlette] | None = None,
                 now: Callable[[], float] = time.time) -> Starlette:
    """``accept`` gets each good callback; it must return quickly (queue the work)."""

    async def verify_url(request: Request) -> Response:
        try:
            signature, timestamp, nonce = _query(request, crypt, now)
            # base64 has no spaces: one here is a "+" that was not URL-encoded
            echo = request.query_params.get("echostr", "").replace(" ", "+")
            return PlainTextResponse(crypt.verified(signature, timestamp, nonce, echo))
        except BadCallback as error:
            return _refused(request, error)
        except CryptoError as error:
            return _refused(request, BadCallback(403, str(error)))

    async def receive(request: Request) -> Response:
        try:
            signature, timestamp, nonce = _query(request, crypt, now)
            outer = parse_xml(await _body(request))
            ciphertext = _field(outer, "Encrypt")
            plain = crypt.verified(signature, timestamp, nonce, ciphertext)
            callback = to_callback(parse_xml(plain), agent_id)
        except BadCallback as error:
            return _refused(request, error)
        except CryptoError as error:
            return _refused(request, BadCallback(403, str(error)))
        if callback is not None:
            await accept(callback)
        return PlainTextResponse("")

    routes = [Route(path, verify_url, methods=["GET"]), Route(path, receive, methods=["POST"])]
    return Starlette(routes=routes, lifespan=lifespan)


def _refused(request: Request, error: BadCallback) -> Response:
    client = request.client.host if request.client else "?"
    log.warning("refused a WeCom callback from %s: %s", client, error)
    return PlainTextResponse("", status_code=error.status)

