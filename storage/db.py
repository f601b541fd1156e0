"""Engine and session factory. One session per incoming event."""

from __future__ import annotations

import weakref
from typing import Any, TypeAlias

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.sqlite_inline import ParkingPool, inline_creator
from storage.tallies import TalliedSession

# What the rest of branchbot passes around (handlers/ name these, never SQLAlchemy itself): one
# session per incoming event, and the factory that makes them.
Session: TypeAlias = AsyncSession
Sessions: TypeAlias = async_sessionmaker[AsyncSession]


_INLINE: weakref.WeakSet[Engine] = weakref.WeakSet()  # engines whose SQLite calls run inline


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
        inline = bool(parsed.database and parsed.database != ":memory:") and "async_creator" not in kwargs
        if inline:
            kwargs["async_creator"] = inline_creator(parsed.database)
            kwargs.setdefault("poolclass", ParkingPool)  # events park it (storage.event_session)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        if inline:
            _INLINE.add(engine.sync_engine)
        return engine
    # A pooled connection the server ended (a restart, a failover, pg_terminate_backend) is
    # found out before an update uses it, not by the update.
    return create_async_engine(url, **{"pool_pre_ping": True, **kwargs})


class ConnectionLost(Exception):
    """The database connection went away under a transaction: it may be tried again."""


try:  # the PostgreSQL driver's own names for a connection that is gone
    from asyncpg.exceptions import (
        AdminShutdownError,
        CannotConnectNowError,
        ConnectionDoesNotExistError,
        PostgresConnectionError,
    )
    from asyncpg.exceptions import InterfaceError as AsyncpgInterfaceError

    _DRIVER_LOST: tuple[type[BaseException], ...] = (
        AdminShutdownError, CannotConnectNowError, ConnectionDoesNotExistError,
        PostgresConnectionError, AsyncpgInterfaceError)
except ImportError:  # pragma: no cover - SQLite-only installs
    _DRIVER_LOST = ()


def connection_lost(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) says the connection to the database was lost, as
    opposed to a statement the database refused."""
    seen: BaseException | None = error
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, (DisconnectionError, ConnectionError, *_DRIVER_LOST)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def sqlite_file(url: str) -> str | None:
    """The file of a SQLite database URL; None for any other database (or SQLite in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.database


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep the daily tallies in step with the records (``storage.tallies``)."""
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=TalliedSession)


def runs_inline(engine: AsyncEngine) -> bool:
    """Whether ``engine`` is on a SQLite file whose calls run inline (``create_engine``)."""
    return engine.sync_engine in _INLINE


async def ping(engine: AsyncEngine) -> None:
    """Raises unless the database answers ``SELECT 1`` now."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
