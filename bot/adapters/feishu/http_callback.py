"""Feishu's HTTP callback (events and card presses) as a Starlette app, for ``event_mode=http``.

Only encrypted callbacks are taken (the app's Encrypt Key set in the developer console): the
body is ``{"encrypt": …}``. The URL check (``type: url_verification``) is answered with its
``challenge`` once its verification token matches; every other callback must also carry a valid
``X-Lark-Signature`` over a fresh ``X-Lark-Request-Timestamp``, and the token in its header.
Anything else gets a 4xx and is not handled. Feishu waits 3 seconds for the answer, else
delivers again; the dispatcher answers a second delivery without handling it twice.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Lifespan

from bot.adapters.feishu.crypto import CryptoError, decrypt, signature_matches
from bot.adapters.feishu.dispatch import Dispatcher

log = logging.getLogger(__name__)
MAX_BODY = 256 * 1024
MAX_SKEW = 300  # seconds a callback's timestamp may be off our clock
TIMESTAMP, NONCE, SIGNATURE = ("X-Lark-Request-Timestamp", "X-Lark-Request-Nonce",
                               "X-Lark-Signature")


class BadCallback(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY:
        raise BadCallback(413, "body too large")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                raise BadCallback(413, "body too large")
    except ClientDisconnect as error:
        raise BadCallback(400, "client went away") from error
    return bytes(body)


def _object(data: bytes | str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError as error:
        raise BadCallback(400, f"{what} is not JSON") from error
    if not isinstance(value, dict):
        raise BadCallback(400, f"{what} is not a JSON object")
    return value


def _check_token(given: object, expected: str) -> None:
    if not isinstance(given, str) or not hmac.compare_digest(given.encode(), expected.encode()):
        raise BadCallback(403, "wrong verification token")


def _check_signature(request: Request, body: bytes, encrypt_key: str,
                     now: Callable[[], float]) -> None:
    timestamp, nonce = request.headers.get(TIMESTAMP, ""), request.headers.get(NONCE, "")
    given = request.headers.get(SIGNATURE, "")
    if not (timestamp and nonce and given):
        raise BadCallback(401, "unsigned callback")
    if (not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12
            or abs(now() - int(timestamp)) > MAX_SKEW):
        raise BadCallback(403, "stale or bad timestamp")
    if not signature_matches(given, timestamp, nonce, encrypt_key, body):
        raise BadCallback(403, "bad signature")


def _opened(body: bytes, encrypt_key: str) -> dict[str, Any]:
    encrypted = _object(body, "body").get("encrypt")
    if not isinstance(encrypted, str) or not encrypted:
        raise BadCallback(400, "callback is not encrypted")
    try:
        return _object(decrypt(encrypt_key, encrypted), "decrypted callback")
    except CryptoError as error:
        raise BadCallback(400, str(error)) from error


def callback_app(path: str, verification_token: str, encrypt_key: str, dispatcher: Dispatcher,
                 *, lifespan: Lifespan[Starlette] | None = None,
                 now: Callable[[], float] = time.time) -> Starlette:
    async def receive(request: Request) -> Response:
        try:
            body = await _body(request)
            payload = _opened(body, encrypt_key)
            if payload.get("type") == "url_verification":
                _check_token(payload.get("token"), verification_token)
                return JSONResponse({"challenge": str(payload.get("challenge", ""))})
            _check_signature(request, body, encrypt_key, now)
            header = payload.get("header")
            _check_token(header.get("token") if isinstance(header, dict) else None,
                         verification_token)
        except BadCallback as error:
            client = request.client.host if request.client else "?"
            log.warning("refused a Feishu callback from %s: %s", client, error)
            return JSONResponse({"msg": str(error)}, status_code=error.status)
        answer = await dispatcher.handle(payload)
        if not answer.ok:
            return JSONResponse({"msg": "not handled"}, status_code=500)
        return JSONResponse(answer.body if answer.body is not None else {"msg": "success"})

    return Starlette(routes=[Route(path, receive, methods=["POST"])], lifespan=lifespan)


def callback_server(app: Starlette, host: str, port: int) -> uvicorn.Server:
    """A uvicorn server for the callback app (port 0: any free port, for tests)."""
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                         lifespan="on"))
