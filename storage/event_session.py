"""One event's session: opened, committed, rolled back and closed here (``handlers.core.router``).

On PostgreSQL (or SQLite in memory) it is a session of the factory, as any other. On a SQLite file
called inline (``storage.sqlite_inline``) the session is bound to a connection checked out here,
and the ORM's own transaction (the session's, the connection's) is begun only when the ORM is
used: a query, a flush, an object added. A dialog step usually only runs the prepared statements
(``storage.prepared``) on that connection, inside the transaction SQLite begins at the first
write, and ``commit`` then commits it straight on the connection; the ORM's layers of
transactions around it cost twice what the step's own statements do.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from storage.db import runs_inline
from storage.prepared import bind_connection, raw_connection

_CONNECTION = "event_connection"  # session.info: the connection checked out for the event


async def open_session(sessions: async_sessionmaker[AsyncSession]) -> AsyncSession:
    """A session for one event (end it with ``close``)."""
    engine = sessions.kw["bind"]
    if not runs_inline(engine):
        return sessions()
    connection = await engine.connect()  # waits for SQLite's one connection (storage.db)
    session = sessions(bind=connection)
    session.info[_CONNECTION] = connection
    bind_connection(session, connection)
    return session


async def commit(session: AsyncSession) -> None:
    """Commit the event's work: the ORM's (flushed, its commit hooks run: ``storage.tallies``) if
    it did any, then, on a SQLite file, what only the prepared statements wrote."""
    sync = session.sync_session
    if sync.get_transaction() is not None or sync.dirty:
        await session.commit()
    raw = raw_connection(session)
    if raw is not None and raw.in_transaction:
        raw.commit()


async def rollback(session: AsyncSession) -> None:
    """Undo the event's work so far, the ORM's and the prepared statements' alike."""
    if session.sync_session.get_transaction() is not None:  # else the ORM has nothing to undo
        await session.rollback()
    raw = raw_connection(session)
    if raw is not None and raw.in_transaction:
        raw.rollback()


async def close(session: AsyncSession) -> None:
    """End the event's session: what was not committed is undone, the connection goes back.
    On a SQLite file (called inline: nothing to wait for, nothing a cancellation could interrupt)
    in place; elsewhere as ``async with session`` ends it, in a task of its own that a
    cancellation cannot abandon halfway (its connection back in the pool; the task costs two
    turns of the event loop)."""
    connection: AsyncConnection | None = session.info.get(_CONNECTION)
    if connection is None:
        async with session:
            pass
        return
    try:
        await rollback(session)  # what was not committed
        session.sync_session.close()  # nothing left to end on the database: no wait, in place
    finally:
        await connection.close()
