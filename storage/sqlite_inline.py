"""aiosqlite's interface with each call run inline on the event loop's thread.

aiosqlite hands every cursor operation to a worker thread and waits for the result: about 130 µs
a hand-off here, five or so per statement, against some 10 µs for the SQLite call itself. For the
embedded SQLite of a single-process bot, calling SQLite directly is the cheaper way to not block:
SQLAlchemy's aiosqlite dialect drives this class exactly as it drives aiosqlite's own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Generator
from typing import Any

import aiosqlite


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
        return await InlineSqliteConnection(lambda: sqlite3.connect(database, isolation_level=""))

    return create
