"""The Telegram webhook, one per worker: an update is stored (the inbox) before it is answered.

Checked before anything is done with it: the secret header (403), the body's size (413, not
read past the limit), JSON (400). Then stored and answered 200, and handled by the inbox; a
database that cannot store it answers 503, so the proxy or Telegram tries again. ``GET
/healthz`` says whether this worker can take updates, and whether it leads the pushes.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from telegram import Bot, Update

from bot.adapters.telegram.adapter import to_incoming
from bot.runtime.inbox import Inbox

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024  # an update is a few KiB (files come by file_id)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class TooLarge(Exception):
    pass


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, refused (TooLarge) as soon as it passes ``limit`` bytes: never read further."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge
    return bytes(body)


class Webhook:
    def __init__(self, inbox: Inbox, bot: Bot, secret: str, ping: Callable[[], Awaitable[None]],
                 role: Callable[[], str]) -> None:
        self.inbox, self.bot, self.secret, self.ping, self.role = inbox, bot, secret, ping, role
        self.closing = False

    def asgi(self, path: str) -> Starlette:
        return Starlette(routes=[Route(path, self.update, methods=["POST"]),
                                 Route("/healthz", self.health, methods=["GET"])])

    async def update(self, request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return PlainTextResponse("forbidden", status_code=403)
        if self.closing:
            return PlainTextResponse("shutting down", status_code=503)
        try:
            body = await read_limited(request, MAX_BODY)
        except TooLarge:
            return PlainTextResponse("too large", status_code=413)
        except ClientDisconnect:
            return PlainTextResponse("incomplete", status_code=400)
        try:
            payload = json.loads(body)
            update = Update.de_json(payload, self.bot) if isinstance(payload, dict) else None
            event = to_incoming(update) if update is not None else None
        except Exception:  # noqa: BLE001 - whatever a malformed update makes the parser raise
            update = event = None
        if update is None:
            return PlainTextResponse("not an update", status_code=400)
        if event is None:
            return PlainTextResponse("ok")  # not one the bot takes (an edit, a join …)
        try:
            await self.inbox.store(event, payload)
        except Exception as error:  # noqa: BLE001 - not stored: not acknowledged either
            log.warning("could not store update %s: %r", event.event_id, error)
            return PlainTextResponse("not stored", status_code=503)
        return PlainTextResponse("ok")

    async def health(self, request: Request) -> Response:
        role = self.role()
        if self.closing:
            return JSONResponse({"ok": False, "db": "shutting down", "role": role}, 503)
        try:
            await self.ping()
        except Exception as error:  # noqa: BLE001 - what failed is the answer
            return JSONResponse({"ok": False, "db": type(error).__name__, "role": role}, 503)
        return JSONResponse({"ok": True, "db": "ok", "role": role,
                             "handling": self.inbox.busy})
