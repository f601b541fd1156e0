"""storage.event_session: an event's session commits everything the event wrote, whichever way
it was written (prepared statements straight on SQLite, the ORM, both), and nothing it did not
commit. On a SQLite file (the session bound to a connection of its own, the ORM's transaction
begun only when used) and on PostgreSQL (a session like any other)."""

from __future__ import annotations

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
