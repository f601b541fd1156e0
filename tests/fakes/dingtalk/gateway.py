"""The fake's Stream side: ``POST /v1.0/gateway/connections/open`` hands out single-use tickets
(90 s) for the right client id and secret, ``GET /connect?ticket=`` upgrades to the WebSocket,
and the test pushes frames through it and reads the client's ACKs back.

As on DingTalk, a frame pushed while no client is connected is lost (recorded in ``lost``):
robot messages are fire and forget.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

JSON = dict[str, Any]
TICKET_SECONDS = 90.0


@dataclass(frozen=True)
class Ack:
    message_id: str
    code: int
    message: str
    data: JSON  # the ACK's data, decoded from the JSON string it must be
    content_type: str


@dataclass
class StreamConnection:
    number: int
    ws: web.WebSocketResponse
    request: web.Request
    subscriptions: list[JSON]
    closed: asyncio.Event = field(default_factory=asyncio.Event)


def refusal(status: int, code: str, message: str) -> web.Response:
    """A new-API refusal as DingTalk words it."""
    return web.json_response({"code": code, "message": message,
                              "requestid": uuid.uuid4().hex.upper()}, status=status)


class Gateway:
    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.connections: list[StreamConnection] = []
        self.acks: list[Ack] = []
        self.bad_acks: list[str] = []  # text the client sent that is not a well-formed ACK
        self.lost: list[JSON] = []
        self.opens = 0  # connections/open calls that got a ticket
        self.refused_opens = 0
        self._tickets: dict[str, tuple[float, list[JSON]]] = {}
        self._numbers = itertools.count(1)
        self._ack_arrived = asyncio.Condition()
        self.endpoint = ""  # ws://…/connect, set by the server once it listens

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1.0/gateway/connections/open", self._open)
        app.router.add_get("/connect", self._connect)

    async def _open(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return refusal(400, "InvalidParameter", "body is not JSON")
        if body.get("clientId") != self.client_id or body.get("clientSecret") != self.client_secret:
            self.refused_opens += 1
            return refusal(401, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
        subscriptions = body.get("subscriptions")
        if (not isinstance(subscriptions, list) or not subscriptions
                or any(s.get("type") not in ("EVENT", "CALLBACK") or not s.get("topic") for s in subscriptions)):
            return refusal(400, "InvalidParameter", "subscriptions")
        ticket = str(uuid.uuid4())
        self._tickets[ticket] = (time.monotonic() + TICKET_SECONDS, subscriptions)
        self.opens += 1
        return web.json_response({"endpoint": self.endpoint, "ticket": ticket})

    async def _connect(self, request: web.Request) -> web.StreamResponse:
        expires, subscriptions = self._tickets.pop(request.query.get("ticket", ""), (0.0, []))
        if expires < time.monotonic():  # unknown, used or expired: each ticket opens one connection
            return web.Response(status=401, text="invalid ticket")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        connection = StreamConnection(next(self._numbers), ws, request, subscriptions)
        self.connections.append(connection)
        try:
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    await self._record_ack(message.data)
        finally:
            connection.closed.set()
        return ws

    async def _record_ack(self, text: str) -> None:
        try:
            document = json.loads(text)
            headers = document["headers"]
            ack = Ack(str(headers["messageId"]), int(document["code"]), str(document.get("message", "")),
                      json.loads(document["data"]), str(headers["contentType"]))
        except (ValueError, KeyError, TypeError):
            self.bad_acks.append(text)
            return
        async with self._ack_arrived:
            self.acks.append(ack)
            self._ack_arrived.notify_all()

    # --- the test's side -----------------------------------------------------------------------

    @property
    def live(self) -> list[StreamConnection]:
        return [c for c in self.connections if not c.closed.is_set() and not c.ws.closed]

    async def wait_connections(self, total: int, timeout: float = 10.0) -> StreamConnection:
        """Until ``total`` connections were made in all and the newest is up."""
        async with asyncio.timeout(timeout):
            while len(self.connections) < total or not self.live:
                await asyncio.sleep(0.01)
        return self.connections[-1]

    async def push(self, frame: JSON) -> bool:
        """Send ``frame`` on the newest live connection; False (and lost) when there is none."""
        live = self.live
        if not live:
            self.lost.append(frame)
            return False
        await live[-1].ws.send_str(json.dumps(frame, ensure_ascii=False))
        return True

    async def ack_for(self, message_id: str, timeout: float = 5.0, count: int = 1) -> Ack:
        """The ``count``-th ACK of ``message_id``, waiting for it."""
        async with asyncio.timeout(timeout), self._ack_arrived:
            while True:
                found = [a for a in self.acks if a.message_id == message_id]
                if len(found) >= count:
                    return found[count - 1]
                await self._ack_arrived.wait()

    async def ping(self) -> Ack:
        message_id = uuid.uuid4().hex
        await self.push({"specVersion": "1.0", "type": "SYSTEM",
                         "headers": {"topic": "ping", "messageId": message_id,
                                     "contentType": "application/json", "time": str(int(time.time() * 1000))},
                         "data": json.dumps({"opaque": message_id})})
        return await self.ack_for(message_id)

    async def announce_disconnect(self, grace: float = 0.5) -> StreamConnection:
        """What DingTalk does to rebalance: a disconnect notice, then the close ``grace`` later
        (ten seconds on DingTalk)."""
        connection = self.live[-1]
        await connection.ws.send_str(json.dumps({
            "specVersion": "1.0", "type": "SYSTEM",
            "headers": {"topic": "disconnect", "contentType": "application/json"},
            "data": json.dumps({"reason": "connection is expired"})}))
        asyncio.get_running_loop().call_later(
            grace, lambda: asyncio.ensure_future(connection.ws.close(code=1000)))
        return connection

    async def drop(self) -> StreamConnection:
        """Break the newest connection without a close frame, as a network fault would."""
        connection = self.live[-1]
        transport = connection.request.transport
        assert transport is not None
        transport.abort()
        await connection.closed.wait()
        return connection
