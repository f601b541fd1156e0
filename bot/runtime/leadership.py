"""One process at a time for a job (the long poll, the planner and deliverer, a long connection):
hold the lock named X, or stand by and take over when its holder dies.

    lead = Leadership(database_url, "telegram-poller")
    await lead.run(work)      # runs ``await work()`` while this process holds the lock

PostgreSQL: a session advisory lock on a connection of its own (``pg_try_advisory_lock``, tried
every ``interval`` seconds): the server lets it go the moment the holder's connection ends (the
process died, or the connection was killed), so a stand-by takes over within about ``interval``.
The holder checks its connection every ``interval``; once it is gone the lock may be someone
else's, so ``work`` is cancelled and this process stands by again. SQLite (one host): an
exclusive ``flock`` on a file next to the database, which the kernel drops with the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import create_engine, sqlite_file
from storage.locks import name_key

log = logging.getLogger(__name__)

LEADER_SPACE = 0x6262  # the first of the two int keys: leaders ("bb"); members use one bigint


def _keys(name: str) -> tuple[int, int]:
    return LEADER_SPACE, name_key(name) & 0x7FFFFFFF


class Leadership:
    """Hold the lock ``name`` for this process, or stand by (see the module's docstring)."""

    def __init__(self, database_url: str, name: str, *, interval: float = 1.0) -> None:
        self.database_url, self.name, self.interval = database_url, name, interval
        self.holding = False
        self._engine: AsyncEngine | None = None

    @property
    def role(self) -> str:
        return "leader" if self.holding else "standby"

    async def run(self, work: Callable[[], Awaitable[Any]]) -> None:
        """Run ``work`` whenever this process holds the lock, until cancelled. ``work`` ending on
        its own gives the lock back (and it is taken again, the work run again, after a pause)."""
        path = sqlite_file(self.database_url)
        if path is not None:
            await self._run_with_file(Path(f"{path}.{self.name}.lock"), work)
        elif make_url(self.database_url).get_backend_name() == "postgresql":
            await self._run_with_advisory_lock(work)
        else:  # SQLite in memory: one process by definition
            self.holding = True
            try:
                await work()
            finally:
                self.holding = False

    async def _run_with_advisory_lock(self, work: Callable[[], Awaitable[Any]]) -> None:
        self._engine = create_engine(self.database_url, pool_size=1, max_overflow=0)
        said_standby = False
        try:
            while True:
                try:
                    async with self._engine.connect() as connection:
                        while not await self._try_lock(connection):
                            if not said_standby:
                                log.info("%s: another process holds the lock; standing by",
                                         self.name)
                                said_standby = True
                            await asyncio.sleep(self.interval)
                        log.info("%s: this process holds the lock now", self.name)
                        said_standby = False
                        await self._hold(connection, work)
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # noqa: BLE001 - the database is away: try again
                    log.warning("%s: lock connection failed (%r); standing by", self.name, error)
                finally:
                    self.holding = False
                await asyncio.sleep(self.interval)
        finally:
            await self._engine.dispose()

    async def _try_lock(self, connection: AsyncConnection) -> bool:
        a, b = _keys(self.name)
        got = await connection.scalar(text("SELECT pg_try_advisory_lock(:a, :b)"), {"a": a, "b": b})
        await connection.commit()  # no transaction left open on the lock's connection
        return bool(got)

    async def _hold(self, connection: AsyncConnection, work: Callable[[], Awaitable[Any]]) -> None:
        """Run ``work`` while the lock's connection answers; give the lock back after."""
        self.holding = True
        task = asyncio.create_task(work(), name=f"leader:{self.name}")
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=self.interval)
                if not task.done():
                    await connection.scalar(text("SELECT 1"))
                    await connection.commit()
            task.result()
        finally:
            self.holding = False
            await _cancel(task)
            with contextlib.suppress(Exception):
                a, b = _keys(self.name)
                await connection.execute(text("SELECT pg_advisory_unlock(:a, :b)"),
                                         {"a": a, "b": b})
                await connection.commit()

    async def _run_with_file(self, path: Path, work: Callable[[], Awaitable[Any]]) -> None:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            said_standby = False
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    if not said_standby:
                        log.info("%s: another process holds %s; standing by", self.name, path)
                        said_standby = True
                    await asyncio.sleep(self.interval)
                    continue
                log.info("%s: this process holds the lock now", self.name)
                said_standby = False
                self.holding = True
                try:
                    await work()
                finally:
                    self.holding = False
                    fcntl.flock(descriptor, fcntl.LOCK_UN)
                await asyncio.sleep(self.interval)
        finally:
            os.close(descriptor)


async def _cancel(task: asyncio.Task[Any]) -> None:
    if not task.done():
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
