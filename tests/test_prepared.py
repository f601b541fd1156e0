"""storage.prepared on SQLite and PostgreSQL: the same rows, the same errors, the same transaction
as the statement run through the session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from storage.db import create_engine, session_factory
from storage.models import DialogState, HandledEvent
from storage.prepared import Prepared

TABLE = DialogState.__table__
_INSERT = Prepared(insert(TABLE))
_MOVE = Prepared(update(TABLE).where(TABLE.c.platform_user_id == bindparam("who")))
_DROP = Prepared(delete(TABLE).where(TABLE.c.platform_user_id == bindparam("who")))
_HANDLED = Prepared(insert(HandledEvent.__table__))
WHEN = datetime(2026, 12, 1, 8, 30, 15, 123456, tzinfo=UTC)


def _row(user: str, **changes: object) -> dict[str, object]:
    return {"platform": "telegram", "platform_user_id": user, "dialog": "study", "step": "form",
            "data": {"form": "集中学习", "n": [1, 2]}, "nonce": "abc123", "expires_at": WHEN,
            "updated_at": WHEN, "offered": [{"s": "1", "l": "今天"}], **changes}


async def test_rows_written_read_back_typed_and_counted(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            assert await _INSERT.run(session, _row("1")) == 1
            assert await _INSERT.run(session, _row("2", data={})) == 1
            assert await _MOVE.run(session, {"who": "1", "step": "date", "updated_at": WHEN,
                                             "expires_at": WHEN + timedelta(hours=1)}) == 1
            assert await _MOVE.run(session, {"who": "nobody", "step": "date", "updated_at": WHEN}) == 0
            assert await _DROP.run(session, {"who": "2"}) == 1
            await session.commit()
        async with session_factory(engine)() as session:
            rows = (await session.execute(select(DialogState))).scalars().all()
        assert len(rows) == 1
        state = rows[0]
        assert (state.platform_user_id, state.step, state.data, state.offered) == (
            "1", "date", {"form": "集中学习", "n": [1, 2]}, [{"s": "1", "l": "今天"}])
        assert state.expires_at == WHEN + timedelta(hours=1) and state.updated_at == WHEN
    finally:
        await engine.dispose()


async def test_a_duplicate_is_sqlalchemys_integrity_error_and_rolls_back_with_the_session(
        db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            await _HANDLED.run(session, {"platform": "telegram", "event_id": "7", "at": WHEN})
            await session.commit()
        async with session_factory(engine)() as session:
            await _INSERT.run(session, _row("1"))  # written in this transaction …
            with pytest.raises(IntegrityError):
                await _HANDLED.run(session, {"platform": "telegram", "event_id": "7", "at": WHEN})
            await session.rollback()  # … and undone with it
        async with session_factory(engine)() as session:
            assert (await session.execute(select(DialogState))).first() is None
            assert len((await session.execute(select(HandledEvent))).all()) == 1
    finally:
        await engine.dispose()


async def test_a_column_left_to_a_python_default_is_refused_not_left_empty(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            row = _row("1")
            del row["updated_at"]  # the model fills it (default=utcnow); SQL alone would not
            with pytest.raises(KeyError, match="updated_at"):
                await _INSERT.run(session, row)
            with pytest.raises(KeyError, match="updated_at"):  # onupdate=utcnow alike
                await _MOVE.run(session, {"who": "1", "step": "date"})
    finally:
        await engine.dispose()


async def test_one_session_through_commits_and_rollbacks_writes_in_each_transaction(
        db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            await _INSERT.run(session, _row("1"))
            await session.rollback()  # undone: the next statement is in a new transaction
            await _INSERT.run(session, _row("2"))
            await session.commit()
            await _INSERT.run(session, _row("3"))
            await session.commit()
            await _DROP.run(session, {"who": "2"})
            await session.rollback()
        async with session_factory(engine)() as session:
            users = (await session.execute(select(DialogState.platform_user_id))).scalars().all()
        assert sorted(users) == ["2", "3"]
    finally:
        await engine.dispose()
