"""Engine and session factory. One session per incoming event."""

from __future__ import annotations

from typing import Any, TypeAlias

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.sqlite_inline import inline_creator
from storage.tallies import TalliedSession

# What the rest of branchbot passes around (handlers/ name these, never SQLAlchemy itself): one
# session per incoming event, and the factory that makes them.
Session: TypeAlias = AsyncSession
Sessions: TypeAlias = async_sessionmaker[AsyncSession]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; for a SQLite file, one connection, called inline, that events queue for.

    SQLite has one writer at a time. Several connections would wait for each other inside
    SQLite's sleeping busy handler (tens of milliseconds a turn); one shared connection makes
    them wait on an asyncio queue instead, which wakes them the moment it is free. Its calls run
    on the loop's thread (see storage.sqlite_inline).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs = {"pool_size": 1, "max_overflow": 0, **kwargs}
        if parsed.database and parsed.database != ":memory:":
            kwargs.setdefault("async_creator", inline_creator(parsed.database))
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, **kwargs)


def sqlite_file(url: str) -> str | None:
    """The file of a SQLite database URL; None for any other database (or SQLite in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.database


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep the daily tallies in step with the records (``storage.tallies``)."""
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=TalliedSession)
