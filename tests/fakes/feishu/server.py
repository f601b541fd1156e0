"""A fake Feishu open platform on loopback, for tests: real HTTP and a real WebSocket.

- Long connection: ``POST /callback/ws/endpoint`` checks AppID/AppSecret and hands out a
  ``ws://`` URL with a one-time ticket and the ``ClientConfig``; the WebSocket speaks protobuf
  ``pbbp2.Frame``: it answers pings with pongs (optionally carrying a new ClientConfig), pushes
  events (``push_message``, ``push_card_action``, split over several frames if asked), waits for
  the client's answer frame, and can drop the connection before the answer, in which case it
  delivers the event again on the next connection, as Feishu does.
- HTTP callback: ``post_callback`` encrypts (AES-256-CBC, key sha256(encrypt key)) and signs
  (X-Lark-Signature) an event like Feishu and posts it to ``callback_url``; ``challenge`` sends
  the URL check. Both can be spoilt (wrong key, signature, token) to test refusals.
- OpenAPI: the tenant token, send, reply, card update and resource download, recording every
  call in ``calls``; bad or expired tokens, oversized bodies and limits broken get Feishu's JSON
  error ``{"code", "msg"}``. Going over 5/s to one chat or 50/s for the app is recorded in
  ``limit_violations`` and refused (230020 / 99991400 with ``x-ogw-ratelimit-reset``).

Simplifications: one tenant; ids are random; a send to an unknown user or chat succeeds (the
user's private chat is made up); the codes for a wrong secret at the endpoint (1000040344) and
the token (10014) and for an unknown file (234003) are the fake's choice, not confirmed.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import os
import secrets
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.adapters.feishu import frames

JSON = dict[str, Any]
APP_ID = "cli_a1b2c3d4e5f60718"
APP_SECRET = "fake-app-secret-0123456789"
VERIFICATION_TOKEN = "fake-verification-token"
ENCRYPT_KEY = "fake-encrypt-key"
TENANT_KEY = "736588c9260f175e"
TEXT_LIMIT, CARD_LIMIT = 150 * 1024, 30 * 1024
MISSING_TOKEN = (99991661, "Missing access token for authorization. Please make a request with "
                           "token attached.")
INVALID_TOKEN = (99991663, "Invalid access token for authorization. Please make a request with "
                           "token attached.")
RATE_LIMIT = (99991400, "request trigger frequency limit")
IM_RATE_LIMIT = (230020, "This operation triggers the frequency limit.")
BAD_PARAM = 230001
TOO_LONG = (230025, "The length of the message content reaches its limit.")


def _ms() -> str:
    return str(int(time.time() * 1000))


def _id(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def _dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class Call:
    """One OpenAPI request, recorded once answered."""

    method: str
    path: str
    query: dict[str, str]
    json: JSON | None
    token: str | None
    code: int  # Feishu's code in the answer, 0 for success
    at: float

    def content(self) -> JSON:
        """The ``content`` string of a send, reply or update, decoded."""
        assert self.json is not None
        return json.loads(self.json["content"])


@dataclass
class Sent:
    """A message the bot sent, with every update of its card."""

    message_id: str
    chat_id: str
    msg_type: str
    content: JSON
    reply_to: str | None = None
    updates: list[JSON] = field(default_factory=list)

    @property
    def current(self) -> JSON:
        return self.updates[-1] if self.updates else self.content


@dataclass
class WsAnswer:
    """The client's answer frame to one pushed event."""

    code: int
    data: JSON | None
    headers: dict[str, str]


@dataclass
class Posted:
    """What our callback server answered to one HTTP callback."""

    status: int
    body: Any


def encrypt(encrypt_key: str, plaintext: bytes) -> str:
    """As Feishu does: base64(iv ‖ AES-256-CBC(PKCS#7(plaintext))), key sha256(encrypt key)."""
    key = hashlib.sha256(encrypt_key.encode()).digest()
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + encryptor.update(padded) + encryptor.finalize()).decode()


def sign(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()


def _error(code_msg: tuple[int, str], status: int = 400, **headers: str) -> web.Response:
    code, msg = code_msg
    return web.json_response({"code": code, "msg": msg}, status=status, headers=headers)


class _Windows:
    """Counts requests per key in sliding windows, to tell when a limit was broken."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit, self.period = limit, period
        self._times: dict[str, deque[float]] = defaultdict(deque)

    def over(self, key: str, now: float) -> bool:
        times = self._times[key]
        while times and times[0] <= now - self.period:
            times.popleft()
        times.append(now)
        return len(times) > self.limit


class FakeFeishu:
    def __init__(self, *, app_id: str = APP_ID, app_secret: str = APP_SECRET,
                 verification_token: str = VERIFICATION_TOKEN, encrypt_key: str = ENCRYPT_KEY,
                 client_config: JSON | None = None) -> None:
        self.app_id, self.app_secret = app_id, app_secret
        self.verification_token, self.encrypt_key = verification_token, encrypt_key
        self.client_config: JSON = client_config or {
            "ReconnectCount": -1, "ReconnectInterval": 1, "ReconnectNonce": 0,
            "PingInterval": 120}
        self.pong_config: JSON | None = None  # sent with every pong when set
        self.service_id = 7
        self.base_url = ""
        self.callback_url: str | None = None
        self.calls: list[Call] = []
        self.endpoint_calls = 0
        self.connections = 0
        self.pings = 0
        self.refused_handshakes = 0
        self._refusals: list[str] = []  # handshake-status of the next handshakes to refuse
        self.answers: dict[str, list[WsAnswer]] = defaultdict(list)  # event_id → answers
        self.limit_violations: list[str] = []
        self.sent: dict[str, Sent] = {}
        self._tokens: set[str] = set()
        self._tickets: set[str] = set()
        self._socket: web.WebSocketResponse | None = None
        self._connected = asyncio.Condition()
        self._waiting: dict[str, asyncio.Future[WsAnswer]] = {}
        self._unanswered: dict[str, tuple[str, JSON, int]] = {}  # frame id → event id, payload
        self._frame_ids = itertools.count(1)
        self._p2p: dict[str, str] = {}
        # Events carry the sender's tenant user_id only if the app has the permission to read it.
        self.user_ids_readable = True
        self._user_messages: dict[str, str] = {}  # message_id → chat_id, of pushed messages
        self._resources: dict[tuple[str, str], tuple[bytes, str, str]] = {}
        self._uuids: dict[str, str] = {}
        self.uploads: dict[str, tuple[str, str, bytes]] = {}  # file_key → name, type, content
        self._chat_windows = _Windows(5, 1.0)
        self._app_windows = _Windows(50, 1.0)
        self._update_windows = _Windows(5, 1.0)
        self._forced_limits = 0
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/open-apis/auth/v3/tenant_access_token/internal", self._token)
        app.router.add_post("/callback/ws/endpoint", self._endpoint)
        app.router.add_get("/ws/v2", self._websocket)
        app.router.add_post("/open-apis/im/v1/messages", self._send)
        app.router.add_post("/open-apis/im/v1/messages/{message_id}/reply", self._reply)
        app.router.add_patch("/open-apis/im/v1/messages/{message_id}", self._patch)
        app.router.add_post("/open-apis/im/v1/files", self._upload)
        app.router.add_get("/open-apis/im/v1/messages/{message_id}/resources/{file_key}",
                           self._resource)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        await self.drop()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeFeishu:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ---------------------------------------------------------------- ids and events

    def p2p_chat(self, open_id: str) -> str:
        """The private chat between a user and the bot (made up on first use)."""
        return self._p2p.setdefault(open_id, _id("oc_"))

    def user_ids(self, open_id: str) -> JSON:
        """A person's ids as an event gives them; ``user_id`` (here the 8 characters after
        ``ou_``) only with the permission to read it."""
        ids = {"open_id": open_id, "union_id": "on_" + open_id[3:]}
        if self.user_ids_readable:
            ids["user_id"] = open_id[3:11]
        return ids

    def _header(self, event_type: str, event_id: str | None, token: str | None) -> JSON:
        return {"event_id": event_id or uuid.uuid4().hex, "event_type": event_type,
                "create_time": _ms(), "token": token or self.verification_token,
                "app_id": self.app_id, "tenant_key": TENANT_KEY}

    def message_event(self, text: str | None = "你好", *, sender: str = "ou_member1",
                      chat_type: str = "p2p", chat_id: str | None = None,
                      message_type: str = "text", content: JSON | None = None,
                      mentions: list[JSON] | None = None, event_id: str | None = None,
                      message_id: str | None = None, token: str | None = None) -> JSON:
        """An ``im.message.receive_v1`` event as Feishu sends it (schema 2.0)."""
        chat = chat_id or (self.p2p_chat(sender) if chat_type == "p2p" else _id("oc_"))
        message_id = message_id or _id("om_")
        self._user_messages[message_id] = chat
        body = content if content is not None else {"text": text}
        return {"schema": "2.0", "header": self._header("im.message.receive_v1", event_id, token),
                "event": {
                    "sender": {"sender_id": self.user_ids(sender), "sender_type": "user",
                               "tenant_key": TENANT_KEY},
                    "message": {"message_id": message_id, "root_id": "", "parent_id": "",
                                "create_time": _ms(), "update_time": _ms(), "chat_id": chat,
                                "chat_type": chat_type, "message_type": message_type,
                                "content": json.dumps(body, ensure_ascii=False),
                                "mentions": mentions or [], "user_agent": "fake"}}}

    def card_action_event(self, value: JSON | str, *, open_message_id: str,
                          operator: str = "ou_member1", open_chat_id: str | None = None,
                          tag: str = "button", event_id: str | None = None,
                          token: str | None = None) -> JSON:
        """A ``card.action.trigger`` callback as Feishu sends it (schema 2.0)."""
        sent = self.sent.get(open_message_id)
        chat = open_chat_id or (sent.chat_id if sent else self.p2p_chat(operator))
        return {"schema": "2.0", "header": self._header("card.action.trigger", event_id, token),
                "event": {
                    "operator": {"tenant_key": TENANT_KEY, **self.user_ids(operator)},
                    "token": "c-" + secrets.token_hex(16),
                    "action": {"value": value, "tag": tag},
                    "host": "im_message", "delivery_type": "",
                    "context": {"open_message_id": open_message_id, "open_chat_id": chat}}}

    # ---------------------------------------------------------------- long connection

    async def wait_connected(self, count: int = 1, timeout: float = 5.0) -> None:
        """Until ``count`` connections have been accepted and one is open."""
        async with self._connected:
            await asyncio.wait_for(self._connected.wait_for(
                lambda: self.connections >= count and self._socket is not None), timeout)

    async def push(self, payload: JSON, *, split: int = 1, drop_before_answer: bool = False,
                   timeout: float = 5.0) -> WsAnswer | None:
        """Push an event on the open connection and wait for the client's answer; with
        ``drop_before_answer`` close the connection right after sending instead (the event is
        delivered again on the next connection) and return None."""
        if self._socket is None:
            raise AssertionError("no long connection is open")
        frame_id = f"fm-{next(self._frame_ids)}"
        event_id = payload["header"]["event_id"]
        self._unanswered[frame_id] = (event_id, payload, split)
        future = asyncio.get_running_loop().create_future()
        self._waiting[frame_id] = future
        await self._deliver(self._socket, frame_id, payload, split)
        if drop_before_answer:
            await self.drop()
            return None
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self._waiting.pop(frame_id, None)

    async def push_message(self, text: str | None = "你好", **options: Any) -> WsAnswer | None:
        push = {k: options.pop(k) for k in ("split", "drop_before_answer", "timeout")
                if k in options}
        return await self.push(self.message_event(text, **options), **push)

    async def push_card_action(self, value: JSON | str, **options: Any) -> WsAnswer | None:
        push = {k: options.pop(k) for k in ("split", "drop_before_answer", "timeout")
                if k in options}
        return await self.push(self.card_action_event(value, **options), **push)

    async def answered(self, event_id: str, count: int = 1, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.answers[event_id]) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"event {event_id} answered {len(self.answers[event_id])}"
                                     f" times, not {count}")
            await asyncio.sleep(0.01)

    async def drop(self) -> None:
        """Close the long connection from the server's side."""
        socket, self._socket = self._socket, None
        if socket is not None and not socket.closed:
            await socket.close()

    async def _deliver(self, socket: web.WebSocketResponse, frame_id: str, payload: JSON,
                       split: int) -> None:
        data = _dumps(payload)
        size = -(-len(data) // split)
        parts = [data[i * size:(i + 1) * size] for i in range(split)]
        for seq, part in enumerate(parts):
            frame = frames.new_frame(
                frames.FrameMethod.DATA, self.service_id,
                {frames.HEADER_TYPE: "event", frames.HEADER_MESSAGE_ID: frame_id,
                 frames.HEADER_SUM: str(split), frames.HEADER_SEQ: str(seq),
                 frames.HEADER_TRACE_ID: uuid.uuid4().hex}, part,
                seq_id=next(self._frame_ids), log_id=next(self._frame_ids))
            await socket.send_bytes(frame.SerializeToString())

    async def _endpoint(self, request: web.Request) -> web.Response:
        self.endpoint_calls += 1
        body = await request.json()
        if body.get("AppID") != self.app_id or body.get("AppSecret") != self.app_secret:
            return web.json_response({"code": 1000040344, "msg": "app id or secret invalid",
                                      "data": None})
        ticket = secrets.token_hex(8)
        self._tickets.add(ticket)
        port = request.url.port
        url = (f"ws://127.0.0.1:{port}/ws/v2?fpid=493&aid=552564&device_id={secrets.token_hex(8)}"
               f"&access_key={secrets.token_hex(8)}&service_id={self.service_id}&ticket={ticket}")
        return web.json_response({"code": 0, "msg": "ok",
                                  "data": {"URL": url, "ClientConfig": self.client_config}})

    def refuse_handshakes(self, times: int, status: str = "500") -> None:
        """Refuse the next ``times`` WebSocket handshakes with that ``handshake-status``
        (403: forbidden for good, 500: a passing server fault)."""
        self._refusals.extend([status] * times)

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        refusal = self._refusals.pop(0) if self._refusals else None
        if ticket not in self._tickets or refusal is not None:
            self.refused_handshakes += 1
            status = refusal or "403"
            return web.Response(status=403 if status == "403" else 503, headers={
                "handshake-status": status, "handshake-msg": "refused by the fake"})
        self._tickets.discard(ticket)
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await self.drop()
        async with self._connected:
            self._socket = socket
            self.connections += 1
            self._connected.notify_all()
        for frame_id, (_, payload, split) in list(self._unanswered.items()):
            await self._deliver(socket, frame_id, payload, split)
        async for message in socket:
            if message.type == aiohttp.WSMsgType.BINARY:
                await self._from_client(socket, message.data)
        if self._socket is socket:
            self._socket = None
        return socket

    async def _from_client(self, socket: web.WebSocketResponse, raw: bytes) -> None:
        frame = frames.Frame.FromString(raw)
        kind = frames.header(frame, frames.HEADER_TYPE)
        if frame.method == frames.FrameMethod.CONTROL and kind == "ping":
            self.pings += 1
            pong = frames.new_frame(frames.FrameMethod.CONTROL, frame.service,
                                    {frames.HEADER_TYPE: "pong"},
                                    _dumps(self.pong_config) if self.pong_config else None)
            await socket.send_bytes(pong.SerializeToString())
            return
        frame_id = frames.header(frame, frames.HEADER_MESSAGE_ID) or ""
        if frame.method != frames.FrameMethod.DATA or frame_id not in self._unanswered:
            return
        body = json.loads(frame.payload)
        data = json.loads(base64.b64decode(body["data"])) if body.get("data") else None
        answer = WsAnswer(int(body["code"]), data, {h.key: h.value for h in frame.headers})
        event_id, _, _ = self._unanswered[frame_id]
        if answer.code == 200:
            del self._unanswered[frame_id]
        self.answers[event_id].append(answer)
        future = self._waiting.get(frame_id)
        if future is not None and not future.done():
            future.set_result(answer)

    # ---------------------------------------------------------------- HTTP callback

    async def post_callback(self, payload: JSON, *, encrypt_key: str | None = None,
                            signature: str | None = None, timestamp: str | None = None,
                            signed: bool = True, raw_body: bytes | None = None) -> Posted:
        """Encrypt and sign ``payload`` as Feishu does and post it to ``callback_url``."""
        assert self.callback_url and self._session is not None
        key = encrypt_key or self.encrypt_key
        body = raw_body if raw_body is not None else _dumps(
            {"encrypt": encrypt(key, _dumps(payload))})
        timestamp = timestamp or str(int(time.time()))
        nonce = secrets.token_hex(8)
        headers = {"Content-Type": "application/json"}
        if signed:
            headers.update({
                "X-Lark-Request-Timestamp": timestamp, "X-Lark-Request-Nonce": nonce,
                "X-Lark-Signature": signature or sign(timestamp, nonce, key, body)})
        async with self._session.post(self.callback_url, data=body, headers=headers) as response:
            text = await response.text()
            try:
                parsed: Any = json.loads(text)
            except ValueError:
                parsed = text
            return Posted(response.status, parsed)

    async def challenge(self, *, token: str | None = None) -> Posted:
        """The URL check the developer console sends when the callback URL is saved."""
        return await self.post_callback({"challenge": str(uuid.uuid4()),
                                         "token": token or self.verification_token,
                                         "type": "url_verification"}, signed=False)

    # ---------------------------------------------------------------- OpenAPI

    def expire_tokens(self) -> None:
        self._tokens.clear()

    def force_rate_limit(self, times: int = 1) -> None:
        """The next ``times`` message requests get the gateway's rate limit error."""
        self._forced_limits += times

    def add_resource(self, message_id: str, file_key: str, content: bytes, file_name: str,
                     content_type: str = "application/octet-stream") -> None:
        self._resources[(message_id, file_key)] = (content, file_name, content_type)

    def sent_to(self, chat_id: str) -> list[Sent]:
        return [s for s in self.sent.values() if s.chat_id == chat_id]

    def message_calls(self) -> list[Call]:
        return [c for c in self.calls if c.path.startswith("/open-apis/im/")]

    def _record(self, request: web.Request, body: JSON | None, token: str | None,
                code: int) -> None:
        self.calls.append(Call(request.method, request.path, dict(request.query), body, token,
                               code, time.monotonic()))

    async def _token(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("app_id") != self.app_id or body.get("app_secret") != self.app_secret:
            self._record(request, body, None, 10014)
            return web.json_response({"code": 10014, "msg": "app secret invalid"})
        token = "t-" + secrets.token_hex(16)
        self._tokens.add(token)
        self._record(request, body, None, 0)
        return web.json_response({"code": 0, "msg": "ok", "tenant_access_token": token,
                                  "expire": 7200})

    async def _authorized(self, request: web.Request) -> tuple[str | None, web.Response | None]:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None, _error(MISSING_TOKEN)
        token = header[len("Bearer "):]
        if token not in self._tokens:
            return token, _error(INVALID_TOKEN)
        return token, None

    async def _json_body(self, request: web.Request) -> JSON | None:
        try:
            body = await request.json()
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def _limits(self, chat: str | None, updated: str | None) -> web.Response | None:
        now = time.monotonic()
        if self._forced_limits:
            self._forced_limits -= 1
            return _error(RATE_LIMIT, 429, **{"x-ogw-ratelimit-limit": "50",
                                              "x-ogw-ratelimit-reset": "1"})
        if self._app_windows.over("app", now):
            self.limit_violations.append("app: over 50 per second")
            return _error(RATE_LIMIT, 429, **{"x-ogw-ratelimit-limit": "50",
                                              "x-ogw-ratelimit-reset": "1"})
        if chat is not None and self._chat_windows.over(chat, now):
            self.limit_violations.append(f"{chat}: over 5 per second")
            return _error(IM_RATE_LIMIT)
        if updated is not None and self._update_windows.over(updated, now):
            self.limit_violations.append(f"{updated}: over 5 updates per second")
            return _error(IM_RATE_LIMIT)
        return None

    def _content(self, body: JSON, *, patch: bool = False) -> tuple[str, JSON] | web.Response:
        msg_type = "interactive" if patch else body.get("msg_type")
        content = body.get("content")
        if msg_type not in ("text", "post", "image", "file", "interactive") or not isinstance(
                content, str):
            return _error((BAD_PARAM, "msg_type or content missing"))
        limit = TEXT_LIMIT if msg_type == "text" else CARD_LIMIT
        if len(_dumps(body)) > limit:
            return _error(TOO_LONG)
        try:
            parsed = json.loads(content)
        except ValueError:
            return _error((BAD_PARAM, "content is not JSON"))
        if not isinstance(parsed, dict):
            return _error((BAD_PARAM, "content is not a JSON object"))
        if msg_type == "text" and not isinstance(parsed.get("text"), str):
            return _error((BAD_PARAM, "text content needs text"))
        if msg_type == "file" and parsed.get("file_key") not in self.uploads:
            return _error((BAD_PARAM, "file_key was not uploaded"))
        if msg_type == "interactive" and not isinstance(parsed.get("elements"), list):
            return _error((BAD_PARAM, "card needs elements"))
        return msg_type, parsed

    async def _message_request(self, request: web.Request, handle: Any) -> web.Response:
        token, refused = await self._authorized(request)
        body = await self._json_body(request)
        if refused is None:
            refused = await handle(body) if body is not None else _error(
                (BAD_PARAM, "body is not JSON"))
        payload = json.loads(refused.body) if isinstance(refused.body, bytes) else {}
        self._record(request, body, token, int(payload.get("code", -1)))
        return refused

    def _created(self, sent: Sent) -> web.Response:
        return web.json_response({"code": 0, "msg": "success", "data": {
            "message_id": sent.message_id, "root_id": sent.reply_to or "",
            "parent_id": sent.reply_to or "", "msg_type": sent.msg_type,
            "create_time": _ms(), "update_time": _ms(), "deleted": False, "updated": False,
            "chat_id": sent.chat_id,
            "sender": {"id": self.app_id, "id_type": "app_id", "sender_type": "app",
                       "tenant_key": TENANT_KEY},
            "body": {"content": json.dumps(sent.content, ensure_ascii=False)}, "mentions": []}})

    async def _send(self, request: web.Request) -> web.Response:
        kind = request.query.get("receive_id_type", "")

        async def handle(body: JSON) -> web.Response:
            if kind not in ("open_id", "user_id", "union_id", "chat_id", "email"):
                return _error((BAD_PARAM, "receive_id_type invalid"))
            receive_id = body.get("receive_id")
            if not isinstance(receive_id, str) or not receive_id:
                return _error((BAD_PARAM, "receive_id missing"))
            chat = receive_id if kind == "chat_id" else self.p2p_chat(receive_id)
            return self._store(body, chat, None)
        return await self._message_request(request, handle)

    async def _reply(self, request: web.Request) -> web.Response:
        parent = request.match_info["message_id"]

        async def handle(body: JSON) -> web.Response:
            chat = self._user_messages.get(parent) or (
                self.sent[parent].chat_id if parent in self.sent else None)
            if chat is None:
                return _error((BAD_PARAM, "message_id invalid"))
            return self._store(body, chat, parent)
        return await self._message_request(request, handle)

    def _store(self, body: JSON, chat: str, reply_to: str | None) -> web.Response:
        checked = self._content(body)
        if isinstance(checked, web.Response):
            return checked
        known = self._uuids.get(str(body.get("uuid"))) if body.get("uuid") else None
        if known is not None:
            return self._created(self.sent[known])
        limited = self._limits(chat, None)
        if limited is not None:
            return limited
        msg_type, content = checked
        sent = Sent(_id("om_"), chat, msg_type, content, reply_to)
        self.sent[sent.message_id] = sent
        if body.get("uuid"):
            self._uuids[str(body["uuid"])] = sent.message_id
        return self._created(sent)

    async def _patch(self, request: web.Request) -> web.Response:
        message_id = request.match_info["message_id"]

        async def handle(body: JSON) -> web.Response:
            sent = self.sent.get(message_id)
            if sent is None or sent.msg_type != "interactive":
                return _error((BAD_PARAM, "not a card the bot sent"))
            checked = self._content(body, patch=True)
            if isinstance(checked, web.Response):
                return checked
            _, card = checked
            for which in (sent.current, card):
                if not (which.get("config") or {}).get("update_multi"):
                    return _error((BAD_PARAM, "cards must set config.update_multi"))
            limited = self._limits(None, message_id)
            if limited is not None:
                return limited
            sent.updates.append(card)
            return web.json_response({"code": 0, "msg": "success", "data": {}})
        return await self._message_request(request, handle)

    async def _resource(self, request: web.Request) -> web.Response:
        token, refused = await self._authorized(request)
        key = (request.match_info["message_id"], request.match_info["file_key"])
        if refused is None and request.query.get("type") not in ("image", "file"):
            refused = _error((BAD_PARAM, "type must be image or file"))
        if refused is None and key not in self._resources:
            refused = _error((234003, "File not in msg."))
        if refused is not None:
            self._record(request, None, token, json.loads(refused.body)["code"])  # type: ignore[arg-type]
            return refused
        content, file_name, content_type = self._resources[key]
        self._record(request, None, token, 0)
        return web.Response(body=content, content_type=content_type, headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(file_name)}"})

    async def _upload(self, request: web.Request) -> web.Response:
        token, refused = await self._authorized(request)
        form = await request.post()
        upload = form.get("file")
        fields = {k: str(v) for k, v in form.items() if k != "file"}
        if refused is None and not isinstance(upload, web.FileField):
            refused = _error((BAD_PARAM, "file missing"))
        if refused is None and fields.get("file_type") not in (
                "opus", "mp4", "pdf", "doc", "xls", "ppt", "stream"):
            refused = _error((BAD_PARAM, "file_type invalid"))
        content = upload.file.read() if isinstance(upload, web.FileField) else b""
        if refused is None and not 0 < len(content) <= 30 * 1024 * 1024:
            refused = _error((BAD_PARAM, "file empty or over 30 MB"))
        if refused is not None:
            self._record(request, fields, token, json.loads(refused.body)["code"])  # type: ignore[arg-type]
            return refused
        file_key = "file_v3_" + secrets.token_hex(12)
        self.uploads[file_key] = (fields.get("file_name", ""), fields["file_type"], content)
        self._record(request, fields, token, 0)
        return web.json_response({"code": 0, "msg": "success", "data": {"file_key": file_key}})
