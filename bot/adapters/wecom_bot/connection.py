"""The client side of the AI bot's long connection: connect, subscribe, heartbeat, reconnect with
backoff, drop redelivered callbacks, and stand by when another connection displaces this one.

    async with AiBotConnection(bot_id, secret, url) as connection:
        await connection.wait_live()
        event = await connection.next_event()
        await connection.deliver(ReplyMarkdown(event.req_id, "收到"))

Only one connection per bot is live: when another subscribes, WeCom sends this one a
``disconnected_event``. Reconnecting would displace the other in turn, and the two would kick
each other for ever, so this connection reports ``Displaced``, closes, and waits in
``State.STANDBY`` until ``resume()`` (called by whoever decides which process holds the bot).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from enum import StrEnum

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.uri import parse_uri

from bot.runtime.in_order import InOrder
from bot.adapters.wecom_bot.backoff import Backoff
from bot.adapters.wecom_bot.events import AiBotEvent, Displaced, parse_callback
from bot.adapters.wecom_bot.outgoing import Outgoing
from bot.adapters.wecom_bot.recent import RecentIds
from bot.adapters.wecom_bot.wire import (
    DEFAULT_WS_URL, JSON, Cmd, ErrCode, Frame, FrameError, decode, encode, new_req_id)

log = logging.getLogger(__name__)


class State(StrEnum):
    CONNECTING = "connecting"  # opening, subscribing, or waiting to try again
    LIVE = "live"
    STANDBY = "standby"  # displaced by another connection: waits for resume()
    REFUSED = "refused"  # WeCom refused the bot id or secret: stays so
    CLOSED = "closed"


class AiBotError(Exception):
    """WeCom answered a frame with an error code."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"errcode {errcode}: {errmsg}")
        self.errcode, self.errmsg = errcode, errmsg


class SubscribeRefused(AiBotError):
    """WeCom refused the subscription (853000: wrong bot id or secret)."""


class NotLive(RuntimeError):
    """Nothing can be sent: the connection is not subscribed (``state`` says why)."""

    def __init__(self, state: State) -> None:
        super().__init__(f"the AI bot connection is {state}")
        self.state = state


class ConnectionLost(ConnectionError):
    """The connection ended before WeCom answered the frame."""


class AiBotConnection:
    def __init__(self, bot_id: str, secret: str, url: str = DEFAULT_WS_URL, *,
                 bot_name: str | None = None, heartbeat: float = 30.0, missed_pings: int = 2,
                 ack_timeout: float = 5.0, open_timeout: float = 10.0,
                 backoff: Backoff | None = None, stable_after: float = 60.0,
                 recent: RecentIds | None = None) -> None:
        parse_uri(url)  # a wrong URL is a configuration error, not a reason to retry
        self.url = url
        self._bot_id, self._secret, self._bot_name = bot_id, secret, bot_name
        self._heartbeat, self._missed_pings = heartbeat, missed_pings
        self._ack_timeout, self._open_timeout = ack_timeout, open_timeout
        self._backoff = backoff or Backoff()
        self._stable_after = stable_after  # a connection that lived this long resets the backoff
        self._recent = recent or RecentIds()
        self._events: asyncio.Queue[AiBotEvent] = asyncio.Queue()
        self._pending: dict[str, asyncio.Future[Frame]] = {}
        self._serial = InOrder()  # the frames of one req_id one after another (answers match by it)
        self._ws: ClientConnection | None = None
        self._state = State.CONNECTING
        self._changed = asyncio.Event()
        self._resume = asyncio.Event()
        self._refusal: SubscribeRefused | None = None
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    # --- lifecycle --------------------------------------------------------------------------

    async def __aenter__(self) -> AiBotConnection:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def state(self) -> State:
        return self._state

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="wecom-aibot-connection")
            self._task.add_done_callback(self._ended)

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._fail_pending("the connection was closed")
        self._set_state(State.CLOSED)

    def resume(self) -> None:
        """Subscribe again after a displacement (this process now holds the bot)."""
        if self._state is State.STANDBY:
            self._backoff.reset()
            self._resume.set()

    async def wait_live(self) -> None:
        """Until subscribed; raises ``SubscribeRefused`` if the credentials were refused and
        ``NotLive`` if the connection was closed."""
        while self._state is not State.LIVE:
            if self._state is State.REFUSED and self._refusal is not None:
                raise self._refusal
            if self._state is State.CLOSED:
                raise NotLive(self._state)
            await self._changed.wait()

    # --- in and out -------------------------------------------------------------------------

    async def next_event(self) -> AiBotEvent:
        """The next callback, each ``msgid`` once; ``Displaced`` when another connection took
        over."""
        return await self._events.get()

    async def deliver(self, outgoing: Outgoing) -> None:
        """Send a frame and wait for WeCom's answer. Raises ``NotLive`` unless subscribed,
        ``AiBotError`` for an error code, ``TimeoutError`` without an answer in time and
        ``ConnectionLost`` if the connection ends first."""
        req_id = outgoing.req_id or new_req_id(outgoing.cmd)
        async with self._serial.turn(req_id):
            ws = self._ws
            if self._state is not State.LIVE or ws is None:
                raise NotLive(self._state)
            answer = await self._exchange(ws, outgoing.cmd, req_id, outgoing.body(),
                                          self._ack_timeout)
        if answer.errcode != ErrCode.OK:
            raise AiBotError(answer.errcode if answer.errcode is not None else -1, answer.errmsg)

    # --- the connection ---------------------------------------------------------------------

    def _set_state(self, state: State) -> None:
        if state is not self._state:
            self._state = state
            changed, self._changed = self._changed, asyncio.Event()
            changed.set()

    def _ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("the AI bot connection stopped", exc_info=task.exception())
        if self._state is not State.REFUSED:
            self._set_state(State.CLOSED)

    async def _run(self) -> None:
        while not self._closing:
            if self._state is State.STANDBY:
                await self._resume.wait()
                self._resume.clear()
                self._set_state(State.CONNECTING)
            try:
                await self._connect_once()
            except SubscribeRefused as refusal:
                if refusal.errcode == ErrCode.INVALID_CREDENTIALS:
                    log.error("WeCom refused the AI bot's id or secret (%s); not retrying",
                              refusal)
                    self._refusal = refusal
                    self._set_state(State.REFUSED)
                    return
                log.warning("WeCom refused the AI bot's subscription (%s); retrying", refusal)
            except (OSError, TimeoutError, WebSocketException) as error:
                log.warning("AI bot connection to %s: %s", self.url,
                            str(error) or type(error).__name__)
            if self._state is not State.STANDBY:
                self._set_state(State.CONNECTING)
                await asyncio.sleep(self._backoff.next_delay())

    async def _connect_once(self) -> None:
        loop = asyncio.get_running_loop()
        live_since: float | None = None
        async with connect(self.url, open_timeout=self._open_timeout, ping_interval=None,
                           close_timeout=2) as ws:
            reader = asyncio.create_task(self._read(ws))
            heartbeat: asyncio.Task[None] | None = None
            try:
                answer = await self._exchange(
                    ws, Cmd.SUBSCRIBE, new_req_id(Cmd.SUBSCRIBE),
                    {"bot_id": self._bot_id, "secret": self._secret}, self._ack_timeout)
                if answer.errcode != ErrCode.OK:
                    raise SubscribeRefused(answer.errcode if answer.errcode is not None else -1,
                                           answer.errmsg)
                self._ws, live_since = ws, loop.time()
                self._set_state(State.LIVE)
                log.info("AI bot subscribed at %s", self.url)
                heartbeat = asyncio.create_task(self._beat(ws))
                await reader
            finally:
                self._ws = None
                if self._state is State.LIVE:
                    self._set_state(State.CONNECTING)
                for task in (heartbeat, reader):
                    if task is not None and not task.done():
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task
                if live_since is not None and loop.time() - live_since >= self._stable_after:
                    self._backoff.reset()

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for message in ws:
                try:
                    frame = decode(message)
                except FrameError as error:
                    log.warning("AI bot frame ignored: %s", error)
                    continue
                if frame.cmd in (Cmd.MSG_CALLBACK, Cmd.EVENT_CALLBACK):
                    await self._callback(ws, frame)
                elif (future := self._pending.get(frame.req_id)) and not future.done():
                    future.set_result(frame)
                else:
                    log.debug("AI bot frame for nobody: %s %s", frame.cmd, frame.req_id)
        finally:
            self._fail_pending("the connection ended")

    async def _callback(self, ws: ClientConnection, frame: Frame) -> None:
        event = parse_callback(frame, self._bot_name)
        if event is None:
            return
        if not self._recent.first_time(event.msgid):
            log.info("dropped redelivered AI bot callback %s", event.msgid)
            return
        if isinstance(event, Displaced):
            log.warning("another connection subscribed as this AI bot: standing by")
            self._set_state(State.STANDBY)
            self._events.put_nowait(event)
            await ws.close()
            return
        self._events.put_nowait(event)

    async def _beat(self, ws: ClientConnection) -> None:
        missed = 0
        while missed < self._missed_pings:
            await asyncio.sleep(self._heartbeat)
            try:
                answer = await self._exchange(ws, Cmd.PING, new_req_id(Cmd.PING), None,
                                              self._heartbeat)
                missed = 0 if answer.errcode == ErrCode.OK else missed + 1
            except TimeoutError:
                missed += 1
            except ConnectionLost:
                return
        log.warning("no answer to %d pings from %s: reconnecting", missed, self.url)
        await ws.close()

    async def _exchange(self, ws: ClientConnection, cmd: str, req_id: str, body: JSON | None,
                        timeout: float) -> Frame:
        future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = future
        try:
            await ws.send(encode(cmd, req_id, body))
            return await asyncio.wait_for(future, timeout)
        except ConnectionClosed as error:
            raise ConnectionLost(str(error)) from error
        finally:
            if self._pending.get(req_id) is future:
                del self._pending[req_id]

    def _fail_pending(self, reason: str) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionLost(reason))
