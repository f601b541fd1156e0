"""Each user's events one after another, different users' at once: a lock per key, kept only
while someone holds or waits for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager


class InOrder:
    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}  # key → (lock, holders)

    @asynccontextmanager
    async def turn(self, key: Hashable) -> AsyncIterator[None]:
        """Wait for the earlier holders of ``key`` (first come, first served), then hold it."""
        lock, holders = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, holders + 1)
        try:
            async with lock:
                yield
        finally:
            lock, holders = self._locks[key]
            if holders == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, holders - 1)


class Background:
    """Events handed off to be handled in the background, each key's one after another (an
    adapter that answers its platform at once and the core afterwards); ``drain`` waits for them
    all (at shutdown, and in tests)."""

    def __init__(self) -> None:
        self._order = InOrder()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    def start(self, key: Hashable, work: Callable[[], Awaitable[None]]) -> None:
        async def in_turn() -> None:
            async with self._order.turn(key):
                await work()

        task = asyncio.create_task(in_turn())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
