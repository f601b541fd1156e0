"""Keeps every robot send within DingTalk's limits: a sliding window for the app, one for each
group and one for each member. A send takes a place in each window before it starts and is
stamped with the time it ended, so a slow call never lets one more through than allowed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from bot.adapters.dingtalk.messages import Target, ToGroup


@dataclass(frozen=True)
class RobotLimits:
    """Defaults: 20 a minute per group, the custom robot's published limit (DingTalk publishes none
    for the app robot, which reports flow control per call); 60 a minute per member (a dialog at
    a person's pace sends up to two messages a step, and a member's answer is never held back
    behind a guess: DingTalk's own flow control, reported per call, pauses the member); 20 a
    second for the app, half the per-API rate DingTalk documents for third-party apps."""

    per_app_second: int = 20
    per_group_minute: int = 20
    per_user_minute: int = 60
    minute: float = 60.0  # shorter only in tests
    margin: float = 0.05  # seconds added to each window for clock and network jitter


@dataclass
class _Stamp:
    ended: float | None = None  # None while the send is under way


@dataclass
class _Window:
    limit: int
    seconds: float
    stamps: list[_Stamp] = field(default_factory=list)
    paused_until: float = 0.0

    def wait(self, now: float) -> float | None:
        """Seconds until a place is free: 0 now, None until a send under way ends."""
        self.stamps = [s for s in self.stamps if s.ended is None or s.ended > now - self.seconds]
        if self.paused_until > now:
            return self.paused_until - now
        if len(self.stamps) < self.limit:
            return 0.0
        ended = [s.ended for s in self.stamps if s.ended is not None]
        return min(ended) + self.seconds - now if ended else None

    def idle(self, now: float) -> bool:
        self.wait(now)
        return not self.stamps and self.paused_until <= now


class SendLimiter:
    def __init__(self, limits: RobotLimits = RobotLimits(),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits, self.clock = limits, clock
        self._windows: dict[Hashable, _Window] = {}
        self._changed = asyncio.Condition()

    def _window(self, key: Hashable) -> _Window:
        if key not in self._windows:
            if len(self._windows) > 4096:  # forget members and groups idle for a whole window
                now = self.clock()
                self._windows = {k: w for k, w in self._windows.items() if not w.idle(now)}
            if key == "app":
                self._windows[key] = _Window(self.limits.per_app_second, 1 + self.limits.margin)
            else:
                limit = self.limits.per_group_minute if key[0] == "group" else self.limits.per_user_minute
                self._windows[key] = _Window(limit, self.limits.minute + self.limits.margin)
        return self._windows[key]

    @staticmethod
    def _key(target: Target) -> tuple[str, str]:
        if isinstance(target, ToGroup):
            return ("group", target.open_conversation_id)
        return ("user", target.staff_id)

    def pause(self, target: Target | None, seconds: float) -> None:
        """DingTalk said slow down: nothing more to ``target`` (None: to anyone) for a while."""
        window = self._window("app" if target is None else self._key(target))
        window.paused_until = max(window.paused_until, self.clock() + seconds)

    async def acquire(self, target: Target) -> list[_Stamp]:
        windows = [self._window("app"), self._window(self._key(target))]
        async with self._changed:
            while True:
                now = self.clock()
                waits = [w.wait(now) for w in windows]
                if all(wait == 0.0 for wait in waits):
                    stamps = [_Stamp() for _ in windows]
                    for window, stamp in zip(windows, stamps, strict=True):
                        window.stamps.append(stamp)
                    return stamps
                timed = [wait for wait in waits if wait]
                try:
                    await asyncio.wait_for(self._changed.wait(), max(timed) if timed else None)
                except TimeoutError:
                    pass

    async def release(self, stamps: list[_Stamp]) -> None:
        async with self._changed:
            for stamp in stamps:
                stamp.ended = self.clock()
            self._changed.notify_all()
