"""The deliverer: drains the outbox through a platform's sender, within the platform's limits.

One message at a time, each marked sent in its own transaction right after the platform took it:
killed mid fan-out, the bot resends at most the one message that was in flight, and skips nobody.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from handlers.core.events import Reply, from_payload
from storage.db import Sessions
from storage.models import OutboxMessage
from storage.repositories.outbox import OutboxRepository
from storage.types import utcnow

log = logging.getLogger(__name__)


class TemporaryFailure(Exception):
    """Try again later (rate limited, server error, network); ``retry_after`` if the platform said."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentFailure(Exception):
    """The platform refused for good (bot blocked, chat gone): do not try again."""


class Sender(Protocol):
    """A platform's way out. A sender may also have a ``ready`` attribute: while it is False
    (a process standing by for a connection another one holds) its deliverer leaves the outbox
    alone."""

    platform: str

    async def send(self, chat_id: str, reply: Reply) -> None: ...


def is_ready(sender: Sender) -> bool:
    return bool(getattr(sender, "ready", True))


@dataclass(frozen=True)
class Limits:
    """Sliding-window limits; the defaults are Telegram's. ``per_chat_minute`` and
    ``per_chat_hour`` (None: no such limit) hold for every chat, private or group."""

    per_second: int = 30
    per_chat_second: int = 1
    per_group_minute: int = 20
    group_window: float = 60.0  # seconds ("a minute"; shorter only in tests)
    margin: float = 0.05  # seconds added to each window, for clock and network jitter
    per_chat_minute: int | None = None
    per_chat_hour: int | None = None
    hour_window: float = 3600.0  # seconds ("an hour"; shorter only in tests)


class RateLimiter:
    def __init__(self, limits: Limits, clock: Callable[[], float]) -> None:
        self.limits, self.clock = limits, clock
        self._all: deque[float] = deque()
        self._chats: dict[str, deque[float]] = {}
        self._paused_until = 0.0

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.clock() + seconds)

    @staticmethod
    def _wait(times: deque[float], limit: int, window: float, now: float) -> float:
        while times and times[0] <= now - window:
            times.popleft()
        return 0.0 if len(times) < limit else times[0] + window - now

    def chat_wait(self, chat_id: str, is_group: bool) -> float:
        """Seconds until this chat may get another message."""
        limits, now = self.limits, self.clock()
        windows = [(limits.per_chat_minute, limits.group_window),
                   (limits.per_chat_hour, limits.hour_window),
                   (limits.per_group_minute, limits.group_window) if is_group
                   else (limits.per_chat_second, 1.0)]
        held = [(limit, window + limits.margin) for limit, window in windows if limit is not None]
        times = self._chats.setdefault(chat_id, deque())
        longest = max(window for _, window in held)
        while times and times[0] <= now - longest:
            times.popleft()
        return max(self._wait_within(times, limit, window, now) for limit, window in held)

    @staticmethod
    def _wait_within(times: deque[float], limit: int, window: float, now: float) -> float:
        """Seconds until fewer than ``limit`` of ``times`` (oldest first) lie in the window."""
        recent = [at for at in times if at > now - window]
        return 0.0 if len(recent) < limit else recent[len(recent) - limit] + window - now

    def overall_wait(self) -> float:
        now = self.clock()
        return max(self._paused_until - now,
                   self._wait(self._all, self.limits.per_second, 1 + self.limits.margin, now))

    def record(self, chat_id: str) -> None:
        now = self.clock()
        self._all.append(now)
        self._chats.setdefault(chat_id, deque()).append(now)


TELEGRAM_LIMITS = Limits()
LEASE = timedelta(seconds=60)  # how long a message taken for sending stays taken
UNLIMITED = Limits(per_second=10_000, per_chat_second=10_000, per_group_minute=10_000, margin=0)


class Deliverer:
    def __init__(self, sessions: Sessions, sender: Sender, *,
                 limits: Limits = TELEGRAM_LIMITS, max_attempts: int = 8,
                 now: Callable[[], datetime] = utcnow,
                 monotonic: Callable[[], float] | None = None) -> None:
        self.sessions, self.sender, self.max_attempts, self.now = sessions, sender, max_attempts, now
        loop_clock = monotonic or (lambda: asyncio.get_running_loop().time())
        self.limiter = RateLimiter(limits, loop_clock)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something new is in the outbox."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled."""
        while True:
            try:
                await self.drain()
                await self._sleep_until_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # a broken database connection must not end delivery for good
                log.exception("delivery round failed; trying again shortly")
                await asyncio.sleep(5)

    async def _sleep_until_due(self) -> None:
        async with self.sessions() as session:
            due = await OutboxRepository(session).next_due(self.sender.platform)
        timeout = 60.0 if due is None else min(60.0, max(0.05, (due - self.now()).total_seconds()))
        if not is_ready(self.sender):
            timeout = min(timeout, 1.0)  # look again soon: this process may take over
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except TimeoutError:
            pass

    async def drain(self) -> int:
        """Send everything due now; returns how many messages were handled."""
        handled = 0
        if not is_ready(self.sender):
            return handled
        while True:
            async with self.sessions() as session:
                batch = await OutboxRepository(session).due(self.now(), self.sender.platform)
            progressed = False
            for message in batch:
                if await self._deliver(message):
                    handled += 1
                    progressed = True
            if not batch or not progressed:
                return handled

    async def _deliver(self, message: OutboxMessage) -> bool:
        """Send one message; False when it had to wait for its chat's limit."""
        wait = self.limiter.chat_wait(message.chat_id, message.is_group)
        if wait > 0:
            await self._write(lambda o: o.defer(message.id, self.now() + timedelta(seconds=wait)))
            return False
        while (overall := self.limiter.overall_wait()) > 0:
            await asyncio.sleep(overall)
        async with self.sessions() as session, session.begin():
            now = self.now()
            if not await OutboxRepository(session).lease(message.id, now, now + LEASE):
                return True  # another deliverer has it
        try:
            try:
                await self.sender.send(message.chat_id, from_payload(message.payload))
            finally:
                # Counted when the call is over: the platform saw it arrive no later than that,
                # so however the network's delays vary, its window never sees one too many.
                self.limiter.record(message.chat_id)
        except PermanentFailure as error:
            log.warning("outbox %s refused for good: %s", message.key, error)
            reason = str(error)
            await self._write(lambda o: o.mark_failed(message.id, reason))
        except TemporaryFailure as error:
            await self._retry(message, str(error), error.retry_after)
        except Exception as error:  # an unexpected error is retried, then given up
            log.exception("outbox %s: unexpected error", message.key)
            await self._retry(message, repr(error), None)
        else:
            await self._write(lambda o: o.mark_sent(message.id, self.now()))
        return True

    async def _retry(self, message: OutboxMessage, reason: str, retry_after: float | None) -> None:
        if message.attempts + 1 >= self.max_attempts:
            await self._write(lambda o: o.mark_failed(message.id, f"gave up: {reason}"))
            return
        if retry_after is not None:
            self.limiter.pause(retry_after)
        delay = retry_after if retry_after is not None else min(300.0, 2.0 ** message.attempts)
        await self._write(lambda o: o.retry_later(
            message.id, self.now() + timedelta(seconds=delay), reason))

    async def _write(self, change: Callable[[OutboxRepository], Awaitable[None]]) -> None:
        async with self.sessions() as session, session.begin():
            await change(OutboxRepository(session))
