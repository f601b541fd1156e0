"""Feishu's long connection (长连接), spoken directly on ``websockets`` in our own event loop.

1. ``POST {base}/callback/ws/endpoint`` with ``{"AppID", "AppSecret"}`` gives a ``wss://`` URL
   (its query carries ``device_id`` and ``service_id``) and the ``ClientConfig`` to follow.
2. On the WebSocket every message is a protobuf ``pbbp2.Frame`` (``frames.py``): control frames
   (method 0) are our pings and the server's pongs, whose payload may carry a new ClientConfig;
   data frames (method 1) carry an event's JSON, possibly split over ``sum`` frames.
3. Each event is answered with the same frame sent back, a ``biz_rt`` header added and the
   payload ``{"code": 200|500, "data": base64(answer JSON)}``, within 3 seconds, or it is
   delivered again (perhaps to another process: the dispatcher drops what it has seen).

Reconnects follow the server's ClientConfig: a random wait up to ReconnectNonce before the
first attempt, then exponential backoff with jitter capped at ReconnectInterval, for at most
ReconnectCount attempts (-1: for ever). Refused credentials end ``run`` with
``FeishuConnectError``. Nothing here blocks the loop: the endpoint is asked with httpx, each
frame is handled in its own task, and a slow handler never holds up pings or other events.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from google.protobuf.message import DecodeError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus, WebSocketException

from bot.adapters.feishu import frames
from bot.adapters.feishu.dispatch import Answer, Dispatcher
from bot.runtime.platforms import CredentialsRefused

log = logging.getLogger(__name__)
ENDPOINT_PATH = "/callback/ws/endpoint"
SERVER_ERRORS = frozenset({1, 1000040343})  # "system busy", internal error: try again
AUTH_FAILED, FORBIDDEN, TOO_MANY_CONNECTIONS = 514, 403, 1000040350
MAX_PARTS = 64
PART_TTL = 5.0  # seconds a split event's parts wait for the rest
MAX_FRAME = 1024 * 1024


class FeishuConnectError(CredentialsRefused):
    """The long connection cannot be had: bad credentials, too many connections, or the
    server's reconnect count exhausted."""


class _TryAgain(Exception):
    pass


@dataclass(frozen=True)
class ClientConfig:
    """Seconds, as the server sends them (ReconnectCount, ReconnectInterval, ReconnectNonce,
    PingInterval)."""

    reconnect_count: int = -1
    reconnect_interval: float = 120.0
    reconnect_nonce: float = 30.0
    ping_interval: float = 120.0

    def updated(self, data: Mapping[str, Any] | None) -> ClientConfig:
        if not isinstance(data, Mapping):
            return self
        fields = {"ReconnectCount": "reconnect_count", "ReconnectInterval": "reconnect_interval",
                  "ReconnectNonce": "reconnect_nonce", "PingInterval": "ping_interval"}
        changes = {ours: data[theirs] for theirs, ours in fields.items()
                   if isinstance(data.get(theirs), int) and data[theirs] >= -1}
        if changes.get("ping_interval", 1) < 1:
            changes.pop("ping_interval")
        return replace(self, **changes)


class _Parts:
    """Split events being put together, bounded in number and age."""

    def __init__(self) -> None:
        self._parts: dict[str, tuple[float, list[bytes | None]]] = {}

    def add(self, message_id: str, total: int, seq: int, payload: bytes) -> bytes | None:
        now = time.monotonic()
        for key in [k for k, (born, _) in self._parts.items() if born + PART_TTL < now]:
            del self._parts[key]
        if not (1 < total <= MAX_PARTS and 0 <= seq < total):
            raise ValueError(f"bad split {seq}/{total}")
        if message_id not in self._parts and len(self._parts) >= MAX_PARTS:
            self._parts.pop(next(iter(self._parts)))
        born, parts = self._parts.setdefault(message_id, (now, [None] * total))
        if len(parts) != total:
            raise ValueError("split changed its size")
        parts[seq] = payload
        if any(part is None for part in parts):
            return None
        del self._parts[message_id]
        return b"".join(part for part in parts if part is not None)


class LongConnection:
    def __init__(self, base_url: str, app_id: str, app_secret: str, dispatcher: Dispatcher, *,
                 client: httpx.AsyncClient | None = None, backoff_base: float = 1.0,
                 rng: random.Random | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.app_id, self.app_secret = app_id, app_secret
        self.dispatcher = dispatcher
        self.client = client or httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
        self.backoff_base = backoff_base
        self.rng = rng or random.Random()
        self.config = ClientConfig()
        self.sessions = 0  # connections opened so far
        self._stop = asyncio.Event()
        self._socket: ClientConnection | None = None
        self._send_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._parts = _Parts()
        self._reconfigured = asyncio.Event()

    async def run(self) -> None:
        """Keep a connection until ``stop``; ``FeishuConnectError`` when none can be had."""
        failures = 0
        while not self._stop.is_set():
            sessions = self.sessions
            try:
                await self._session(await self._endpoint())
            except (_TryAgain, httpx.HTTPError, OSError, WebSocketException,
                    asyncio.TimeoutError) as error:
                log.warning("Feishu long connection: %s: %s", type(error).__name__, error)
            if self._stop.is_set():
                break
            failures = 1 if self.sessions != sessions else failures + 1
            if 0 <= self.config.reconnect_count < failures:
                raise FeishuConnectError(
                    f"no Feishu long connection after {failures - 1} reconnect attempts")
            await self._pause(self._delay(failures))

    async def stop(self) -> None:
        self._stop.set()
        if self._socket is not None:
            await self._socket.close()

    def _delay(self, failures: int) -> float:
        if failures == 1:
            return self.rng.uniform(0, self.config.reconnect_nonce)
        ceiling = min(self.config.reconnect_interval, self.backoff_base * 2 ** (failures - 2))
        return ceiling * self.rng.uniform(0.5, 1.0)

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass

    async def _endpoint(self) -> str:
        response = await self.client.post(
            self.base_url + ENDPOINT_PATH, headers={"locale": "zh"},
            json={"AppID": self.app_id, "AppSecret": self.app_secret})
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            raise _TryAgain(f"endpoint answered HTTP {response.status_code}")
        code = body.get("code")
        if code in SERVER_ERRORS:
            raise _TryAgain(f"endpoint busy (code {code})")
        if code != 0:
            raise FeishuConnectError(
                f"Feishu refused the long connection (code {code}: {body.get('msg', '')}); "
                "check BRANCHBOT_FEISHU_APP_ID and BRANCHBOT_FEISHU_APP_SECRET")
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        self._configure(data.get("ClientConfig"))
        url = data.get("URL")
        if not isinstance(url, str) or urlsplit(url).scheme not in ("ws", "wss"):
            raise _TryAgain("endpoint gave no WebSocket URL")
        return url

    async def _session(self, url: str) -> None:
        query = parse_qs(urlsplit(url).query)
        service_id = query.get("service_id", ["0"])[0]
        service = int(service_id) if service_id.isascii() and service_id.isdigit() else 0
        try:
            socket = await connect(url, max_size=MAX_FRAME, open_timeout=10)
        except InvalidStatus as error:
            self._refused(error)
            raise
        self._socket = socket
        self.sessions += 1
        if self._stop.is_set():  # stopped while connecting
            await socket.close()
        log.info("Feishu long connection open (device %s)", query.get("device_id", ["?"])[0])
        pinger = asyncio.create_task(self._ping(socket, service))
        try:
            async for raw in socket:
                if isinstance(raw, bytes):
                    self._spawn(self._frame(socket, raw))
        finally:
            pinger.cancel()
            self._socket = None
            await socket.close()

    def _refused(self, error: InvalidStatus) -> None:
        headers = error.response.headers
        status = headers.get("handshake-status", "")
        auth_code = headers.get("handshake-autherrcode", "")
        if status == str(FORBIDDEN) or (status == str(AUTH_FAILED)
                                        and auth_code == str(TOO_MANY_CONNECTIONS)):
            raise FeishuConnectError(
                f"Feishu refused the WebSocket ({status}: {headers.get('handshake-msg', '')})"
            ) from error

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, socket: ClientConnection, data: bytes) -> None:
        async with self._send_lock:
            await socket.send(data)

    async def _ping(self, socket: ClientConnection, service: int) -> None:
        """A ping now and every PingInterval after, a new interval taking effect at once."""
        while True:
            try:
                await self._send(socket, frames.ping(service))
            except WebSocketException:
                return
            sent = time.monotonic()
            while (remaining := sent + self.config.ping_interval - time.monotonic()) > 0:
                self._reconfigured.clear()
                try:
                    await asyncio.wait_for(self._reconfigured.wait(), timeout=remaining)
                except asyncio.TimeoutError:
                    break

    def _configure(self, data: Mapping[str, Any] | None) -> None:
        self.config = self.config.updated(data)
        self._reconfigured.set()

    async def _frame(self, socket: ClientConnection, raw: bytes) -> None:
        try:
            frame = frames.Frame.FromString(raw)
        except DecodeError:
            log.warning("Feishu sent a frame that is not a pbbp2.Frame")
            return
        kind = frames.header(frame, frames.HEADER_TYPE)
        if frame.method == frames.FrameMethod.CONTROL:
            if kind == frames.FrameType.PONG.value and frame.payload:
                self._configure(_json(frame.payload))
            return
        if frame.method != frames.FrameMethod.DATA or kind != frames.FrameType.EVENT.value:
            return  # "card" frames: the SDKs do not answer them either
        payload = self._whole(frame)
        if payload is None:
            return
        started = time.monotonic()
        event = _json(payload)
        answer = await self.dispatcher.handle(event) if event is not None else Answer(ok=True)
        frame.headers.add(key=frames.HEADER_BIZ_RT,
                          value=str(int((time.monotonic() - started) * 1000)))
        response: dict[str, Any] = {"code": 200 if answer.ok else 500}
        if answer.body is not None:
            response["data"] = base64.b64encode(_dumps(answer.body)).decode()
        frame.payload = _dumps(response)
        try:
            await self._send(socket, frame.SerializeToString())
        except WebSocketException:
            log.info("Feishu connection closed before an answer went out; it will redeliver")

    def _whole(self, frame: Any) -> bytes | None:
        total = frames.header(frame, frames.HEADER_SUM) or "1"
        seq = frames.header(frame, frames.HEADER_SEQ) or "0"
        if total == "1":
            return bytes(frame.payload)
        message_id = frames.header(frame, frames.HEADER_MESSAGE_ID) or ""
        try:
            return self._parts.add(message_id, int(total), int(seq), bytes(frame.payload))
        except ValueError as error:
            log.warning("dropped a bad split Feishu frame: %s", error)
            return None


def _json(data: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
