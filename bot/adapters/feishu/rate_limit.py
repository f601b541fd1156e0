"""Feishu's message limits kept on our side, so they are never exceeded rather than hit.

- 5 per second to one user, 5 per second to one group (shared by all bots in it),
- 50 per second and 1000 per minute for the app (per API: one budget is kept for send, reply
  and card update together, which is stricter),
- 5 per second updates of one message.

Sliding windows: a request goes out only when every window it falls in has room, and is then
recorded in all of them at once (so waiting for one window never spends another's room).
A small margin widens each window against network jitter between us and Feishu's counters.
After Feishu says "too many" anyway, ``pause`` holds every request until its reset time.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

MARGIN = 0.05  # seconds added to each window


@dataclass(frozen=True)
class Window:
    limit: int
    period: float


PER_CHAT = Window(5, 1.0)
PER_MESSAGE_UPDATE = Window(5, 1.0)
APP_WINDOWS = (Window(50, 1.0), Window(1000, 60.0))


class KeyedWindow:
    """One window per key; keys idle for a whole period are forgotten, so memory stays bounded
    by the number of keys the app-wide limit lets be active at once."""

    def __init__(self, window: Window, margin: float = MARGIN) -> None:
        self.limit, self.period = window.limit, window.period + margin
        self._times: dict[str, deque[float]] = {}

    def wait(self, key: str, now: float) -> float:
        times = self._times.get(key)
        if times is None or len(times) < self.limit:
            return 0.0
        return max(0.0, times[0] + self.period - now)

    def record(self, key: str, now: float) -> None:
        times = self._times.get(key)
        if times is None:
            times = self._times[key] = deque(maxlen=self.limit)
            if len(self._times) > 4 * self.limit:
                self._forget_idle(now)
        times.append(now)

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, t in self._times.items() if t and t[-1] + self.period <= now]:
            del self._times[key]

    def __len__(self) -> int:
        return len(self._times)


APP = "app"


class FeishuLimiter:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 margin: float = MARGIN) -> None:
        self.clock, self.sleep = clock, sleep
        self.app = [KeyedWindow(w, margin) for w in APP_WINDOWS]
        self.chats = KeyedWindow(PER_CHAT, margin)
        self.updates = KeyedWindow(PER_MESSAGE_UPDATE, margin)
        self._paused_until = 0.0

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.clock() + seconds)

    async def acquire(self, *, chat: str | None = None, updated_message: str | None = None,
                      ) -> None:
        """Wait until one more request to ``chat`` (a user's or group's id) or one more update of
        ``updated_message`` fits every window, then count it."""
        while True:
            now = self.clock()
            checks: list[tuple[KeyedWindow, str]] = [(w, APP) for w in self.app]
            if chat is not None:
                checks.append((self.chats, chat))
            if updated_message is not None:
                checks.append((self.updates, updated_message))
            delay = max([self._paused_until - now] + [w.wait(k, now) for w, k in checks])
            if delay <= 0:
                for window, key in checks:
                    window.record(key, now)
                return
            await self.sleep(delay)
