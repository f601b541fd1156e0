"""storage.event_session: an event's session commits everything the event wrote, whichever way
it was written (prepared statements straight on SQLite, the ORM, both), and nothing it did not
commit. On a SQLite file (the session bound to a connection of its own, the ORM's transaction
begun only when used) and on PostgreSQL (a session like any other)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine, session_factory
from storage.event_session import close, commit, open_session, rollback
from storage.models import HandledEvent, Organization, OrgKind
from storage.prepared import Prepared, PreparedInsert, PreparedQuery, columns_of, loaded

_HANDLED = Prepared(insert(HandledEvent.__table__))
_ORG = PreparedQuery(select(*columns_of(Organization)).where(Organization.name == "机关第一党支部"), ())
NOW = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    made = create_engine(db_url)
    async with session_factory(made)() as session, session.begin():
        session.add(Organization(name="机关第一党支部", kind=OrgKind.branch))
    yield made
    await made.dispose()


async def _handled(engine: AsyncEngine, event_id: str) -> None:
    """An event's dedupe row, written as the router writes it."""
    session = await open_session(session_factory(engine))
    try:
        await _HANDLED.run(session, {"platform": "telegram", "event_id": event_id, "at": NOW,
                                     "handled_at": NOW})
        await commit(session)
    finally:
        await close(session)


async def _saved(engine: AsyncEngine) -> tuple[list[str], list[str]]:
    async with session_factory(engine)() as session:
        events = list(await session.scalars(select(HandledEvent.event_id).order_by(HandledEvent.event_id)))
        orgs = list(await session.scalars(select(Organization.name).order_by(Organization.id)))
    return events, orgs


async def test_statements_alone_are_committed(engine: AsyncEngine) -> None:
    await _handled(engine, "1")
    await _handled(engine, "2")  # the connection went back: the next event has it
    assert (await _saved(engine))[0] == ["1", "2"]


async def test_statements_and_an_object_added_are_committed_together(engine: AsyncEngine) -> None:
    """A record written by one statement (``PreparedInsert``, as a dialog saves one) is added to
    the session: the ORM's transaction begins, and has nothing to flush, nothing to write, when
    the event commits. Everything the event wrote is committed all the same."""
    session = await open_session(session_factory(engine))
    try:
        await _HANDLED.run(session, {"platform": "telegram", "event_id": "1", "at": NOW, "handled_at": NOW})
        await PreparedInsert(Organization).add(session, Organization(name="机关第二党支部",
                                                                     kind=OrgKind.branch))
        await commit(session)
    finally:
        await close(session)
    assert await _saved(engine) == (["1"], ["机关第一党支部", "机关第二党支部"])


async def test_a_loaded_object_changed_is_saved_with_the_statements(engine: AsyncEngine) -> None:
    session = await open_session(session_factory(engine))
    try:
        row = await _ORG.first(session, {})
        assert row is not None
        org = loaded(session, Organization, row)
        org.name = "机关第一党支部（更名）"  # changed, with no query, no flush, nothing begun
        await _HANDLED.run(session, {"platform": "telegram", "event_id": "1", "at": NOW, "handled_at": NOW})
        await commit(session)
    finally:
        await close(session)
    assert await _saved(engine) == (["1"], ["机关第一党支部（更名）"])


async def test_what_is_rolled_back_or_left_uncommitted_is_gone(engine: AsyncEngine) -> None:
    session = await open_session(session_factory(engine))
    try:
        await _HANDLED.run(session, {"platform": "telegram", "event_id": "1", "at": NOW, "handled_at": NOW})
        await rollback(session)
        await _HANDLED.run(session, {"platform": "telegram", "event_id": "2", "at": NOW, "handled_at": NOW})
        await commit(session)  # after a rollback the event goes on (a redelivery check, say)
    finally:
        await close(session)
    session = await open_session(session_factory(engine))
    try:
        await _HANDLED.run(session, {"platform": "telegram", "event_id": "3", "at": NOW, "handled_at": NOW})
        session.add(Organization(name="机关第二党支部", kind=OrgKind.branch))
        await session.flush()
    finally:
        await close(session)  # failed before its commit: neither the row nor the object stays
    assert await _saved(engine) == (["2"], ["机关第一党支部"])
    async with engine.connect() as connection:  # and nothing of it holds the database
        assert await connection.scalar(select(func.count()).select_from(HandledEvent)) == 1


# Between events, on a SQLite file, the event's connection stays checked out ("parked") for the
# next event. Nobody else may wait for it because of that, and nothing of one event reaches the next.

def _sqlite_only(db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("only a SQLite file's one connection is parked between events")


async def test_a_parked_connection_is_given_to_whoever_else_asks(db_url: str,
                                                                 engine: AsyncEngine) -> None:
    """The scheduler or a report asking for the connection while it is parked gets it at once
    (no 30 s pool timeout), and the next event still finds one."""
    _sqlite_only(db_url)
    await _handled(engine, "1")  # parked now
    async with asyncio.timeout(5):
        async with session_factory(engine)() as session, session.begin():
            session.add(Organization(name="机关第二党支部", kind=OrgKind.branch))
        await _handled(engine, "2")
    assert await _saved(engine) == (["1", "2"], ["机关第一党支部", "机关第二党支部"])


async def test_an_event_ending_while_another_waits_hands_the_connection_over(
        db_url: str, engine: AsyncEngine) -> None:
    """Somebody waiting in the pool while an event holds the connection has it when the event
    ends: it is not parked then."""
    _sqlite_only(db_url)
    session = await open_session(session_factory(engine))
    waiter = asyncio.create_task(_saved(engine))
    await asyncio.sleep(0.05)  # the waiter waits in the pool now
    assert not waiter.done()
    try:
        await _HANDLED.run(session, {"platform": "telegram", "event_id": "1", "at": NOW, "handled_at": NOW})
        await commit(session)
    finally:
        await close(session)
    async with asyncio.timeout(5):
        assert await waiter == (["1"], ["机关第一党支部"])


async def test_a_failed_event_leaves_nothing_to_the_next(db_url: str, engine: AsyncEngine) -> None:
    """What an event left undone or noted in its session (a tally pending, an object) is gone
    when the next event takes the parked connection and session."""
    _sqlite_only(db_url)
    factory = session_factory(engine)
    session = await open_session(factory)
    try:
        await _HANDLED.run(session, {"platform": "telegram", "event_id": "1", "at": NOW, "handled_at": NOW})
        session.info["left_behind"] = True
        row = await _ORG.first(session, {})
        assert row is not None
        loaded(session, Organization, row).name = "改了但没有提交"
    finally:
        await close(session)  # no commit
    again = await open_session(factory)
    try:
        assert "left_behind" not in again.info and not again.sync_session.identity_map
        await _HANDLED.run(again, {"platform": "telegram", "event_id": "2", "at": NOW, "handled_at": NOW})
        await commit(again)
    finally:
        await close(again)
    assert await _saved(engine) == (["2"], ["机关第一党支部"])


async def test_disposing_the_engine_closes_a_parked_connection(db_url: str,
                                                              engine: AsyncEngine) -> None:
    _sqlite_only(db_url)
    await _handled(engine, "1")
    pool = engine.sync_engine.pool
    assert pool.checkedout() == 1  # parked
    await engine.dispose()
    assert pool.checkedout() == 0
