"""A fake WeCom AI bot (智能机器人) long-connection server on loopback, for tests.

It speaks the wire format of ``bot/adapters/wecom_bot/PROTOCOL.md``, written out here on its own
(it shares no code with the client, so a mistake in one is not mirrored in the other):
WebSocket text frames of JSON, the ``aibot_subscribe`` handshake with a bot id and secret check,
``ping`` answered, callbacks pushed by the test (``push_text``, ``push_card_event``,
``push_enter_chat``, ``redeliver``), replies checked and recorded (``received``), a connection
that subscribes as a bot displacing the older one (``disconnected_event``, then the fake closes
the old one), and connections dropped on demand (``drop``).

Checks as WeCom makes them: a frame on a connection that is not subscribed gets 846609; a reply
must quote the req_id of a callback pushed on *that* connection, with the command that callback
takes (a message: ``aibot_respond_msg``; ``enter_chat``: the welcome; a card press: the card
update), else 846605; a reply body of a msgtype the command does not take gets 40008. A refused
subscription (853000) leaves the socket open, as the real server does.

Simplifications: the 5 s and 6 min reply windows, the per-bot uniqueness of a card's task_id
and the rate limits are not enforced; an active send is accepted for any chat id.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

JSON = dict[str, Any]
BOT_ID = "aibAbCdEfGh0123456789"
SECRET = "aibot-secret"
BOT_NAME = "党建助手"

# Which callback a reply command answers, and the msgtypes its body may have.
_REPLIES: dict[str, tuple[str, frozenset[str]]] = {
    "aibot_respond_msg": ("message", frozenset({"stream", "template_card",
                                                "stream_with_template_card"})),
    "aibot_respond_welcome_msg": ("enter_chat", frozenset({"text", "template_card"})),
    "aibot_respond_update_msg": ("template_card_event", frozenset()),
}
_SEND_TYPES = frozenset({"markdown", "template_card"})


@dataclass(frozen=True)
class Received:
    """A frame a client sent, and the errcode the fake answered (None: not answered)."""

    connection: int
    cmd: str
    req_id: str
    body: JSON
    errcode: int | None


@dataclass(frozen=True)
class Pushed:
    """A callback the fake pushed: what a reply must quote (``req_id``), and its ``msgid``."""

    connection: int
    req_id: str
    msgid: str
    kind: str  # "message", or the event type
    frame: JSON


@dataclass
class _Conn:
    number: int
    ws: ServerConnection
    subscribed: bool = False
    callbacks: dict[str, str] = field(default_factory=dict)  # req_id → what it answers


class FakeAiBot:
    def __init__(self, bot_id: str = BOT_ID, secret: str = SECRET, *, port: int = 0,
                 displaced_close_after: float | None = 0.5) -> None:
        self.bot_id, self.secret, self.port = bot_id, secret, port
        self.displaced_close_after = displaced_close_after  # None: the server never closes it
        self.received: list[Received] = []
        self.subscriptions = 0  # accepted, over all connections
        self.silent: set[str] = set()  # commands recorded but not answered
        self._conns: dict[int, _Conn] = {}
        self._live: _Conn | None = None
        self._numbers = itertools.count(1)
        self._ids = itertools.count(1)
        self._failures: dict[str, list[tuple[int, str]]] = {}
        self._changed = asyncio.Event()
        self._server: Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # --- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> FakeAiBot:
        self._server = await serve(self._serve, "127.0.0.1", self.port, ping_interval=None)
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def open_connections(self) -> list[int]:
        return sorted(self._conns)

    @property
    def live(self) -> int | None:
        """The number of the subscribed connection (connections count from 1)."""
        return self._live.number if self._live is not None else None

    # --- what the test does ------------------------------------------------------------------

    async def push_text(self, user_id: str, text: str, *, chat_id: str | None = None,
                        msgid: str | None = None) -> Pushed:
        """A text to the bot: in the 1:1 chat, or in group ``chat_id`` (where the bot only
        gets messages that @ it, so the fake puts the mention first, as WeCom does)."""
        content = f"@{BOT_NAME} {text}" if chat_id is not None else text
        return await self._push_message(user_id, chat_id, msgid,
                                        {"msgtype": "text", "text": {"content": content}})

    async def push_mixed(self, user_id: str, texts: list[str], *,
                         chat_id: str | None = None) -> Pushed:
        items: list[JSON] = [{"msgtype": "image",
                              "image": {"url": "https://example.invalid/1", "aeskey": "k"}}]
        items += [{"msgtype": "text", "text": {"content": t}} for t in texts]
        return await self._push_message(user_id, chat_id, None,
                                        {"msgtype": "mixed", "mixed": {"msg_item": items}})

    async def push_voice(self, user_id: str, transcript: str) -> Pushed:
        return await self._push_message(user_id, None, None,
                                        {"msgtype": "voice", "voice": {"content": transcript}})

    async def push_image(self, user_id: str) -> Pushed:
        return await self._push_message(
            user_id, None, None,
            {"msgtype": "image", "image": {"url": "https://example.invalid/2", "aeskey": "k"}})

    async def push_card_event(self, user_id: str, key: str, task_id: str, *,
                              chat_id: str | None = None) -> Pushed:
        """A press of the button ``key`` on the card ``task_id`` (the measured nested form)."""
        return await self._push_event(user_id, chat_id, "template_card_event", {
            "template_card_event": {"card_type": "button_interaction", "event_key": key,
                                    "task_id": task_id}})

    async def push_enter_chat(self, user_id: str) -> Pushed:
        return await self._push_event(user_id, None, "enter_chat", {})

    async def push_raw(self, message: str) -> None:
        """Anything, as it is, to the subscribed connection (to test what the client ignores)."""
        await self._require_live().ws.send(message)

    async def redeliver(self, pushed: Pushed) -> Pushed:
        """The same callback again (same msgid) to the subscribed connection, with a new
        req_id, as after a reconnect."""
        frame = {**pushed.frame, "headers": {"req_id": self._req_id()}}
        return await self._send_callback(self._require_live(), frame, pushed.kind)

    def fail_next(self, cmd: str, errcode: int, errmsg: str = "fake failure") -> None:
        """Answer the next frame of ``cmd`` with this error (after the usual checks pass)."""
        self._failures.setdefault(cmd, []).append((errcode, errmsg))

    async def drop(self, number: int | None = None) -> None:
        """Cut connection ``number`` (default: the subscribed one) without a close frame, as a
        network failure would."""
        conn = self._conns[number] if number is not None else self._require_live()
        conn.ws.transport.abort()
        await conn.ws.wait_closed()

    def frames(self, cmd: str) -> list[Received]:
        return [r for r in self.received if r.cmd == cmd]

    async def wait_for(self, match: Callable[[Received], bool],
                       timeout: float = 5.0) -> Received:
        """The first frame received that matches (waiting for it if need be)."""
        async with asyncio.timeout(timeout):
            while True:
                found = next((r for r in self.received if match(r)), None)
                if found is not None:
                    return found
                await self._changed.wait()

    async def wait_subscriptions(self, count: int, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while self.subscriptions < count:
                await self._changed.wait()

    # --- the server --------------------------------------------------------------------------

    async def _serve(self, ws: ServerConnection) -> None:
        conn = _Conn(next(self._numbers), ws)
        self._conns[conn.number] = conn
        try:
            async for message in ws:
                await self._on_frame(conn, message)
        except ConnectionClosed:
            pass
        finally:
            conn.subscribed = False
            del self._conns[conn.number]
            if self._live is conn:
                self._live = None
            self._notify()

    async def _on_frame(self, conn: _Conn, message: str | bytes) -> None:
        try:
            frame = json.loads(message)
            cmd, req_id = frame["cmd"], frame["headers"]["req_id"]
            body = frame.get("body", {})
            assert isinstance(cmd, str) and isinstance(req_id, str) and isinstance(body, dict)
        except (ValueError, KeyError, TypeError, AssertionError):
            self.received.append(Received(conn.number, "?", "", {"raw": str(message)}, None))
            self._notify()
            return  # WeCom's answer to junk is not known; the fake says nothing
        errcode, errmsg = self._check(conn, cmd, req_id, body)
        if errcode == 0 and self._failures.get(cmd):
            errcode, errmsg = self._failures[cmd].pop(0)
        answered = cmd not in self.silent
        self.received.append(Received(conn.number, cmd, req_id, body,
                                      errcode if answered else None))
        self._notify()
        if answered:
            await self._answer(conn, req_id, errcode, errmsg)
        if cmd == "aibot_subscribe" and errcode == 0:
            await self._subscribed(conn)

    def _check(self, conn: _Conn, cmd: str, req_id: str, body: JSON) -> tuple[int, str]:
        if cmd == "aibot_subscribe":
            if body.get("bot_id") != self.bot_id or body.get("secret") != self.secret:
                return 853000, "invalid bot_id or secret"
            return 0, "ok"
        if not conn.subscribed:
            return 846609, "aibot websocket not subscribed"
        if cmd == "ping":
            return 0, "ok"
        if cmd in _REPLIES:
            answers, msgtypes = _REPLIES[cmd]
            if conn.callbacks.get(req_id) != answers:
                return 846605, "invalid req_id"
            if cmd == "aibot_respond_update_msg":
                ok = (body.get("response_type") == "update_template_card"
                      and isinstance(body.get("template_card"), dict))
                return (0, "ok") if ok else (40008, "invalid message type")
            return (0, "ok") if _has_body(body, msgtypes) else (40008, "invalid message type")
        if cmd == "aibot_send_msg":
            if not isinstance(body.get("chatid"), str) or not body["chatid"]:
                return 40008, "invalid chatid"
            return (0, "ok") if _has_body(body, _SEND_TYPES) else (40008, "invalid message type")
        return 40008, f"unknown cmd {cmd}"

    async def _answer(self, conn: _Conn, req_id: str, errcode: int, errmsg: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await conn.ws.send(json.dumps({"headers": {"req_id": req_id}, "errcode": errcode,
                                           "errmsg": errmsg}, ensure_ascii=False))

    async def _subscribed(self, conn: _Conn) -> None:
        old, self._live = self._live, conn
        conn.subscribed = True
        self.subscriptions += 1
        self._notify()
        if old is not None and old is not conn:
            old.subscribed = False
            await self._send_callback(old, self._event_frame(None, None, "disconnected_event",
                                                             {}), "disconnected_event")
            if self.displaced_close_after is not None:
                task = asyncio.create_task(self._close_later(old, self.displaced_close_after))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _close_later(self, conn: _Conn, delay: float) -> None:
        await asyncio.sleep(delay)
        await conn.ws.close()

    # --- callbacks -----------------------------------------------------------------------------

    async def _push_message(self, user_id: str, chat_id: str | None, msgid: str | None,
                            content: JSON) -> Pushed:
        body: JSON = {"msgid": msgid or self._msgid(), "aibotid": self.bot_id,
                      "chattype": "group" if chat_id is not None else "single",
                      "from": {"userid": user_id}, "create_time": int(time.time()),
                      "response_url": "https://example.invalid/aibot/response", **content}
        if chat_id is not None:
            body["chatid"] = chat_id
        frame = {"cmd": "aibot_msg_callback", "headers": {"req_id": self._req_id()},
                 "body": body}
        return await self._send_callback(self._require_live(), frame, "message")

    async def _push_event(self, user_id: str, chat_id: str | None, eventtype: str,
                          extra: JSON) -> Pushed:
        frame = self._event_frame(user_id, chat_id, eventtype, extra)
        return await self._send_callback(self._require_live(), frame, eventtype)

    def _event_frame(self, user_id: str | None, chat_id: str | None, eventtype: str,
                     extra: JSON) -> JSON:
        body: JSON = {"msgid": self._msgid(), "create_time": int(time.time()),
                      "aibotid": self.bot_id, "msgtype": "event",
                      "event": {"eventtype": eventtype, **extra}}
        if user_id is not None:
            body["from"] = {"userid": user_id}
            body["chattype"] = "group" if chat_id is not None else "single"
        if chat_id is not None:
            body["chatid"] = chat_id
        return {"cmd": "aibot_event_callback", "headers": {"req_id": self._req_id()},
                "body": body}

    async def _send_callback(self, conn: _Conn, frame: JSON, kind: str) -> Pushed:
        req_id = frame["headers"]["req_id"]
        conn.callbacks[req_id] = kind
        await conn.ws.send(json.dumps(frame, ensure_ascii=False))
        return Pushed(conn.number, req_id, frame["body"]["msgid"], kind, frame)

    def _require_live(self) -> _Conn:
        if self._live is None:
            raise RuntimeError("no connection is subscribed")
        return self._live

    def _msgid(self) -> str:
        return f"msg{next(self._ids):08d}"

    def _req_id(self) -> str:
        return f"cb{next(self._ids):08d}"

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()


def _has_body(body: JSON, msgtypes: frozenset[str]) -> bool:
    """``msgtype`` one of ``msgtypes``, and the object it names there (a stream with a card
    has its ``stream``)."""
    msgtype = body.get("msgtype")
    part = "stream" if msgtype == "stream_with_template_card" else msgtype
    return msgtype in msgtypes and isinstance(body.get(str(part)), dict)
