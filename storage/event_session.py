"""One event's session: opened, committed, rolled back and closed here (``handlers.core.router``).

On PostgreSQL (or SQLite in memory) it is a session of the factory, as any other. On a SQLite file
called inline (``storage.sqlite_inline``) the session is bound to a connection checked out here,
and the ORM's own transaction (the session's, the connection's) is begun only when the ORM is
used: a query, a flush, an object added. A dialog step usually only runs the prepared statements
(``storage.prepared``) on that connection, inside the transaction SQLite begins at the first
write, and ``commit`` then commits it straight on the connection; the ORM's layers of
transactions around it cost twice what the step's own statements do.

Between events that connection and its session are parked (``storage.sqlite_inline.ParkingPool``)
while nobody else waits for the connection: the next event takes both as they are, where a
checkout, its checkin and a new session would cost more than a dialog step's statements. Whoever
else asks the pool for the connection (the scheduler, a report) has it given back first.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from storage.db import runs_inline
from storage.prepared import BOUND, bind_connection, bound_connection, raw_connection
from storage.sqlite_inline import ParkingPool
from storage.tallies import forget_noted, settle_noted

_EVENT = "event"  # session.info: the _Event it serves


@dataclass(eq=False)
class _Event:
    """An event's connection (checked out for it) and session, parked between events."""

    connection: AsyncConnection
    session: AsyncSession
    sessions: async_sessionmaker[AsyncSession]  # the factory that made ``session``
    pool: ParkingPool

    def give_back(self) -> None:
        """The parked connection back to the pool (``storage.sqlite_inline.Parked``)."""
        self.connection.sync_connection.close()  # type: ignore[union-attr]


async def open_session(sessions: async_sessionmaker[AsyncSession]) -> AsyncSession:
    """A session for one event (end it with ``close``)."""
    engine = sessions.kw["bind"]
    if not runs_inline(engine):
        return sessions()
    pool = engine.sync_engine.pool
    assert isinstance(pool, ParkingPool)
    parked = pool.take_parked()  # at once: no other event can take it in between
    if parked is not None:
        assert isinstance(parked, _Event)
        if parked.sessions is sessions:
            return parked.session
        return _session(sessions, parked.connection, pool)
    connection = await engine.connect()  # waits for SQLite's one connection (storage.db)
    try:
        return _session(sessions, connection, pool)
    except BaseException:
        await connection.close()
        raise


def _session(sessions: async_sessionmaker[AsyncSession], connection: AsyncConnection,
             pool: ParkingPool) -> AsyncSession:
    session = sessions(bind=connection)
    session.info[_EVENT] = _Event(connection, session, sessions, pool)
    bind_connection(session, connection)
    return session


async def commit(session: AsyncSession) -> None:
    """Commit the event's work: the ORM's (flushed, its commit hooks run: ``storage.tallies``) if
    it did any, then, on a SQLite file, what only the prepared statements wrote (with the tallies
    of the records they wrote: ``settle_noted``)."""
    sync = session.sync_session
    if sync.get_transaction() is not None or sync.dirty:
        await session.commit()
    else:  # what the statements wrote is all there is, the records' tallies still to settle
        connection = bound_connection(session)
        if connection is not None:
            settle_noted(sync, connection)
    raw = raw_connection(session)
    if raw is not None and raw.in_transaction:
        raw.commit()


async def rollback(session: AsyncSession) -> None:
    """Undo the event's work so far, the ORM's and the prepared statements' alike."""
    if session.sync_session.get_transaction() is not None:  # else the ORM has nothing to undo
        await session.rollback()
    else:
        forget_noted(session.sync_session)
    raw = raw_connection(session)
    if raw is not None and raw.in_transaction:
        raw.rollback()


async def close(session: AsyncSession) -> None:
    """End the event's session: what was not committed is undone, the connection goes back.
    On a SQLite file (called inline: nothing to wait for, nothing a cancellation could interrupt)
    in place, the connection parked with the session when nothing is left on it and nobody else
    waits for it; elsewhere as ``async with session`` ends it, in a task of its own that a
    cancellation cannot abandon halfway (its connection back in the pool; the task costs two
    turns of the event loop)."""
    info = session.info
    event: _Event | None = info.get(_EVENT)
    if event is None:
        async with session:
            pass
        return
    clean = False
    try:
        await rollback(session)  # what was not committed
        session.sync_session.close()  # nothing left to end on the database: no wait, in place
        raw = raw_connection(session)
        connection = event.connection
        clean = (not connection.invalidated and not connection.in_transaction()
                 and raw is not None and not raw.in_transaction)
    finally:
        if clean and not event.pool.waiting:  # parked for the next event, as it is now
            if len(info) > 2:  # what the event left there goes with it
                kept = {key: info[key] for key in (_EVENT, BOUND)}
                info.clear()
                info.update(kept)
            event.pool.park(event)
        else:
            await event.connection.close()
