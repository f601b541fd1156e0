"""The Stream mode client: registers for a ticket (``POST /v1.0/gateway/connections/open``),
holds the WebSocket, answers pings, ACKs every frame, hands typed events to the handler, and
reconnects: at once (before the old connection closes) when DingTalk announces a disconnect,
with backoff and jitter when the connection broke. Events seen before are ACKed again and not
delivered twice. Robot messages are pushed once and never again, so a broken connection can
lose some: the handler then gets a ``StreamGap`` saying for how long the bot was unreachable.

Each frame is handled in its own task, started in the order the frames came (a handler that
takes a per-member turn first keeps each member's messages in order); a slow handler never
delays the pings.
"""

from __future__ import annotations

import asyncio
import logging
import platform
import random
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote_plus

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from bot.adapters.dingtalk.api import CredentialsRefused, DingTalkError, api_error
from bot.adapters.dingtalk.config import DingTalkConfig
from bot.adapters.dingtalk.events import (
    BadEvent, Incoming, StreamGap, parse_card_press, parse_robot_message,
)
from bot.adapters.dingtalk.frames import (
    TOPIC_CARD_CALLBACK, TOPIC_DISCONNECT, TOPIC_PING, TOPIC_ROBOT_MESSAGE, BadFrame, Frame,
    FrameType, ack, parse_frame,
)

log = logging.getLogger(__name__)
JSON = dict[str, Any]
Handler = Callable[[Incoming], Awaitable[JSON | None]]  # a card press's answer updates the card
USER_AGENT = f"branchbot/0.1 Python/{platform.python_version()}"


@dataclass(frozen=True)
class Backoff:
    """Waits base·2ⁿ seconds (at most ``cap``), each drawn between half and all of it."""

    base: float = 1.0
    cap: float = 60.0
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        ceiling = min(self.cap, self.base * 2 ** min(attempt, 16))
        return self.rng.uniform(ceiling / 2, ceiling)


class SeenEvents:
    """The last ``size`` events handled, with the answer each got (bounded memory)."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._answers: OrderedDict[Hashable, JSON | None] = OrderedDict()

    def __contains__(self, key: Hashable) -> bool:
        return key in self._answers

    def __len__(self) -> int:
        return len(self._answers)

    def answer(self, key: Hashable) -> JSON | None:
        self._answers.move_to_end(key)
        return self._answers[key]

    def add(self, key: Hashable, answer: JSON | None) -> None:
        self._answers[key] = answer
        self._answers.move_to_end(key)
        while len(self._answers) > self.size:
            self._answers.popitem(last=False)


@dataclass(eq=False)
class _Connection:
    ws: ClientConnection
    opened_at: datetime
    draining: asyncio.Event = field(default_factory=asyncio.Event)  # DingTalk said disconnect
    frames: int = 0
    last_frame_at: datetime | None = None


class StreamClient:
    def __init__(self, config: DingTalkConfig, handler: Handler, *,
                 client: httpx.AsyncClient | None = None,
                 topics: tuple[str, ...] = (TOPIC_ROBOT_MESSAGE, TOPIC_CARD_CALLBACK),
                 backoff: Backoff | None = None, seen: SeenEvents | None = None,
                 max_in_flight: int = 64, ping_interval: float = 30.0, ping_timeout: float = 30.0,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.config, self.handler, self.topics, self.now = config, handler, topics, now
        self._own_client = client is None
        self.client = client or httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
        self.backoff = backoff or Backoff()
        self.seen = seen or SeenEvents()
        self.ping_interval, self.ping_timeout = ping_interval, ping_timeout
        self.connected = asyncio.Event()
        self.connections_opened = 0
        self._slots = asyncio.Semaphore(max_in_flight)
        self._in_flight: dict[Hashable, asyncio.Future[JSON | None]] = {}
        self._live: set[_Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._down_since: datetime | None = None  # None: up, or never connected yet
        self._stopping = asyncio.Event()

    # --- the connection ------------------------------------------------------------------------

    async def open_connection(self) -> tuple[str, str]:
        """The WebSocket endpoint and a ticket (one connection, 90 seconds)."""
        response = await self.client.post(
            f"{self.config.api}/v1.0/gateway/connections/open",
            json={"clientId": self.config.client_id, "clientSecret": self.config.client_secret,
                  "subscriptions": [{"type": "CALLBACK", "topic": t} for t in self.topics],
                  "ua": USER_AGENT},
            headers={"Accept": "application/json"})
        if response.status_code >= 400:
            error = api_error(response)
            if response.status_code in (400, 401, 403) and not error.temporary:
                raise CredentialsRefused(error.status, error.code, error.message)
            raise error
        body = response.json()
        return str(body["endpoint"]), str(body["ticket"])

    async def run(self) -> None:
        """Stay connected until ``stop()``; raises ``CredentialsRefused`` (nothing else) at once."""
        attempt = 0
        while not self._stopping.is_set():
            try:
                endpoint, ticket = await self.open_connection()
                ws = await connect(f"{endpoint}?ticket={quote_plus(ticket)}", open_timeout=10,
                                   ping_interval=self.ping_interval, ping_timeout=self.ping_timeout,
                                   user_agent_header=USER_AGENT, max_size=2 ** 22)
            except CredentialsRefused:
                raise
            except (DingTalkError, httpx.HTTPError, OSError, TimeoutError, InvalidHandshake,
                    InvalidURI, KeyError, ValueError) as error:
                log.warning("DingTalk stream: cannot connect (%s: %s)", type(error).__name__, error)
                await self._pause(self.backoff.delay(attempt))
                attempt += 1
                continue
            connection = self._opened(ws)
            reader = self._spawn(self._serve(connection))
            draining = asyncio.ensure_future(connection.draining.wait())
            stopping = asyncio.ensure_future(self._stopping.wait())
            await asyncio.wait({reader, draining, stopping}, return_when=asyncio.FIRST_COMPLETED)
            draining.cancel()
            stopping.cancel()
            if connection.draining.is_set():
                attempt = 0  # make before break: the old one reads on until DingTalk closes it
                continue
            if not self._stopping.is_set():
                attempt = 0 if connection.frames else attempt + 1
                await self._pause(self.backoff.delay(attempt))
        await self._shut()

    async def stop(self) -> None:
        self._stopping.set()

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass

    def _spawn(self, work: Awaitable[None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _opened(self, ws: ClientConnection) -> _Connection:
        connection = _Connection(ws, self.now())
        self._live.add(connection)
        self.connections_opened += 1
        self.connected.set()
        if self._down_since is not None:
            gap = StreamGap(self._down_since, self.now())
            self._down_since = None
            log.warning("DingTalk stream was down for %.1f s: robot messages sent meanwhile are lost",
                        gap.seconds)
            self._spawn(self._deliver_gap(gap))
        return connection

    def _closed(self, connection: _Connection) -> None:
        self._live.discard(connection)
        if not self._live:
            self.connected.clear()
            if not self._stopping.is_set():
                self._down_since = self._last_alive(connection)

    def _last_alive(self, connection: _Connection) -> datetime:
        """Closed by DingTalk: until now. Broken: frames may have been lost since its last frame,
        or since its last answered ping (at most one interval and timeout ago)."""
        now = self.now()
        if connection.ws.protocol.close_rcvd is not None:
            return now
        proof = now - timedelta(seconds=self.ping_interval + self.ping_timeout)
        return max(proof, connection.last_frame_at or connection.opened_at)

    async def _shut(self) -> None:
        for connection in list(self._live):
            await connection.ws.close()
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=5.0)
            for task in pending:
                task.cancel()
        if self._own_client:
            await self.client.aclose()

    # --- frames --------------------------------------------------------------------------------

    async def _serve(self, connection: _Connection) -> None:
        try:
            async for raw in connection.ws:
                connection.frames += 1
                connection.last_frame_at = self.now()
                try:
                    frame = parse_frame(raw)
                except BadFrame as error:
                    log.warning("DingTalk stream: %s", error)
                    continue
                if frame.type is FrameType.SYSTEM:
                    await self._system(connection, frame)
                    continue
                await self._slots.acquire()
                task = self._spawn(self._dispatch(connection, frame))
                task.add_done_callback(lambda _: self._slots.release())
        except ConnectionClosed as closed:
            log.info("DingTalk stream connection closed (%s)", closed)
        finally:
            self._closed(connection)

    async def _system(self, connection: _Connection, frame: Frame) -> None:
        if frame.topic == TOPIC_PING:
            await self._ack(connection, ack(frame.message_id, frame.data))  # opaque echoed
        elif frame.topic == TOPIC_DISCONNECT:
            log.info("DingTalk announced a disconnect (%s)", frame.data.get("reason"))
            connection.draining.set()

    @staticmethod
    async def _ack(connection: _Connection, text: str) -> None:
        try:
            await connection.ws.send(text)
        except ConnectionClosed:
            log.info("DingTalk stream: connection gone before the ACK")

    def _event(self, frame: Frame) -> tuple[Hashable, Incoming]:
        if frame.type is FrameType.CALLBACK and frame.topic == TOPIC_ROBOT_MESSAGE:
            message = parse_robot_message(frame.data)
            return ("message", message.msg_id), message
        if frame.type is FrameType.CALLBACK and frame.topic == TOPIC_CARD_CALLBACK:
            if not frame.message_id:
                raise BadEvent("card callback without a messageId")
            return ("card", frame.message_id), parse_card_press(frame.data, frame.message_id)
        raise LookupError(frame.topic)

    async def _dispatch(self, connection: _Connection, frame: Frame) -> None:
        try:
            key, event = self._event(frame)
        except BadEvent as error:
            log.warning("DingTalk stream: bad %s frame: %s", frame.topic, error)
            await self._ack(connection, ack(frame.message_id, {"response": None}, code=400, message=str(error)))
            return
        except LookupError:
            await self._ack(connection, ack(frame.message_id, {"response": None}, code=404,
                                            message="topic not subscribed"))
            return
        if key in self.seen:
            log.info("DingTalk stream: %s delivered again, not handled twice", key)
            await self._ack(connection, ack(frame.message_id, {"response": self.seen.answer(key)}))
            return
        if key in self._in_flight:  # the same event again while the first is being handled
            try:
                answer = await asyncio.shield(self._in_flight[key])
            except Exception:  # noqa: BLE001 - the first delivery failed; it is not ACKed either
                return
            await self._ack(connection, ack(frame.message_id, {"response": answer}))
            return
        future: asyncio.Future[JSON | None] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            answer = await self.handler(event)
        except Exception as error:  # noqa: BLE001 - one bad event must not end the stream
            log.exception("DingTalk stream: handler failed on %s", key)
            future.set_exception(error)
            future.exception()  # retrieved: a failure nobody else waits for is not an error
            await self._ack(connection, ack(frame.message_id, {"response": None}, code=500,
                                            message="internal error"))
            return
        finally:
            del self._in_flight[key]
        self.seen.add(key, answer)
        future.set_result(answer)
        await self._ack(connection, ack(frame.message_id, {"response": answer}))

    async def _deliver_gap(self, gap: StreamGap) -> None:
        try:
            await self.handler(gap)
        except Exception:  # noqa: BLE001
            log.exception("DingTalk stream: handler failed on a gap")
