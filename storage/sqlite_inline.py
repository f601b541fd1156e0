"""aiosqlite's interface with each call run inline on the event loop's thread.

aiosqlite hands every cursor operation to a worker thread and waits for the result: about 130 µs
a hand-off here, five or so per statement, against some 10 µs for the SQLite call itself. For the
embedded SQLite of a single-process bot, calling SQLite directly is the cheaper way to not block:
SQLAlchemy's aiosqlite dialect drives this class exactly as it drives aiosqlite's own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Generator
from typing import Any, Protocol

import aiosqlite
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry


class InlineSqliteConnection(aiosqlite.Connection):
    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self._connection is None:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The sqlite3 connection itself, for statements run straight on it (``storage.prepared``)."""
        if self._connection is None:
            raise ValueError("Connection closed")
        return self._connection

    async def _connect(self) -> InlineSqliteConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    def __await__(self) -> Generator[Any, None, InlineSqliteConnection]:
        return self._connect().__await__()

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        self.stop()


def inline_creator(database: str) -> Callable[[], Any]:
    """An ``async_creator`` for ``create_async_engine`` on the SQLite file ``database``."""

    async def create() -> InlineSqliteConnection:
        # Used on the loop's thread only; but an engine nobody disposed may be collected on
        # another thread, and closing the connection there must not fail.
        return await InlineSqliteConnection(
            lambda: sqlite3.connect(database, isolation_level="", check_same_thread=False))

    return create


class Parked(Protocol):
    """A connection its holder parked (``ParkingPool``)."""

    def give_back(self) -> None:
        """Return the connection to the pool: a plain, synchronous close (run in the greenlet
        of whoever asked the pool for it)."""


class ParkingPool(AsyncAdaptedQueuePool):
    """The pool of a SQLite file's one connection, which its holder may park between uses: it
    stays checked out, ready for the holder's next use with no checkout (``storage.event_session``
    parks it between events while nobody else waits for it). Anybody else's checkout, and
    ``dispose``, have it given back first, so nobody waits for a parked connection."""

    _sqla_logger_namespace = "sqlalchemy.pool.impl.ParkingPool"  # with SQLAlchemy's own loggers

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._parked: Parked | None = None
        self.waiting = 0  # checkouts waiting for the connection now

    def park(self, parked: Parked) -> None:
        assert self._parked is None and not self.waiting, "parked while another waits for it"
        self._parked = parked

    def take_parked(self) -> Parked | None:
        """The parked connection, taken (None: none is parked)."""
        parked, self._parked = self._parked, None
        return parked

    def _give_back_parked(self) -> None:
        parked = self.take_parked()
        if parked is not None:
            parked.give_back()

    def _do_get(self) -> ConnectionPoolEntry:
        self._give_back_parked()
        self.waiting += 1
        try:
            return super()._do_get()
        finally:
            self.waiting -= 1

    def dispose(self) -> None:
        self._give_back_parked()
        super().dispose()
