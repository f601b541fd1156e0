"""storage.prepared on SQLite and PostgreSQL: the same rows, the same errors, the same transaction
as the statement run through the session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import Session, create_engine, session_factory
from storage.models import (
    AuditLog,
    Commitment,
    DailyTally,
    DialogState,
    HandledEvent,
    Member,
    Organization,
    OrgKind,
    Problem,
    ProblemStatus,
    Role,
    StudyRecord,
    Visit,
)
from storage.prepared import Prepared, PreparedQuery, columns_of, loaded, one_of
from storage.queries.sender import sender
from storage.repositories.audit import audit
from storage.repositories.members import MemberRepository
from storage.repositories.orgs import OrgRepository
from storage.repositories.records import RecordRepository, snapshot

TABLE = DialogState.__table__
_INSERT = Prepared(insert(TABLE))
_MOVE = Prepared(update(TABLE).where(TABLE.c.platform_user_id == bindparam("who")))
_DROP = Prepared(delete(TABLE).where(TABLE.c.platform_user_id == bindparam("who")))
_HANDLED = Prepared(insert(HandledEvent.__table__))
WHEN = datetime(2026, 12, 1, 8, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    made = create_engine(db_url)
    yield made
    await made.dispose()


def _row(user: str, **changes: object) -> dict[str, object]:
    return {"platform": "telegram", "platform_user_id": user, "dialog": "study", "step": "form",
            "data": {"form": "集中学习", "n": [1, 2]}, "nonce": "abc123", "expires_at": WHEN,
            "updated_at": WHEN, "offered": [{"s": "1", "l": "今天"}], **changes}


async def test_rows_written_read_back_typed_and_counted(engine: AsyncEngine) -> None:
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


async def test_a_duplicate_is_sqlalchemys_integrity_error_and_rolls_back_with_the_session(
        engine: AsyncEngine) -> None:
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


async def test_a_column_left_to_a_python_default_is_refused_not_left_empty(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session:
        row = _row("1")
        del row["updated_at"]  # the model fills it (default=utcnow); SQL alone would not
        with pytest.raises(KeyError, match="updated_at"):
            await _INSERT.run(session, row)
        with pytest.raises(KeyError, match="updated_at"):  # onupdate=utcnow alike
            await _MOVE.run(session, {"who": "1", "step": "date"})


async def test_one_session_through_commits_and_rollbacks_writes_in_each_transaction(
        engine: AsyncEngine) -> None:
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


# Prepared queries and the objects they load (storage.queries.sender, the meetings' queries).
_MEMBER_ROW = PreparedQuery(select(*columns_of(Member)).where(Member.name == bindparam("name")), ("name",))
_MEMBERS_OF = PreparedQuery(select(*columns_of(Member)).where(
    Member.org_id == bindparam("org"), one_of(Member.role, [Role.secretary, Role.committee]))
    .order_by(Member.id), ("org",))


async def _branch(session: Session) -> Organization:
    org = await OrgRepository(session).add("机关第一党支部", kind=OrgKind.branch, books=["《选读》", "党章"])
    members = MemberRepository(session)
    for name, role in (("李娜", Role.member), ("王建国", Role.secretary), ("张伟", Role.committee)):
        member = await members.add(org, name)
        member.role = role
    await session.flush()
    return org


async def test_a_query_reads_what_the_orm_reads_and_loads_the_sessions_own_objects(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        org = await _branch(session)
    async with sessions() as session:
        expected = (await session.execute(select(Member).where(Member.name == "王建国"))).scalar_one()
        wanted = {key: getattr(expected, key) for key in ("id", "org_id", "name", "role", "active",
                                                         "created_at", "last_platform")}
    async with sessions() as session:
        row = await _MEMBER_ROW.first(session, {"name": "王建国"})
        assert row is not None and await _MEMBER_ROW.first(session, {"name": "无此人"}) is None
        wang = loaded(session, Member, row)
        assert {key: getattr(wang, key) for key in wanted} == wanted
        assert wang.role is Role.secretary and wang.created_at.tzinfo is not None
        # the session's own object: a query gets the same one, a change is written at commit
        assert (await session.execute(select(Member).where(Member.id == wang.id))).scalar_one() is wang
        assert loaded(session, Member, row) is wang
        wang.last_platform = "wecom"
        await session.commit()
    async with sessions() as session:
        assert (await session.get(Member, wanted["id"])).last_platform == "wecom"  # type: ignore[union-attr]
        names = [loaded(session, Member, r).name for r in await _MEMBERS_OF.all(session, {"org": org.id})]
        assert names == ["王建国", "张伟"]  # the IN list written in the statement


async def test_the_sender_loads_the_member_with_its_branch_and_nothing_pending(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        org = await _branch(session)
        li = (await session.execute(select(Member).where(Member.name == "李娜"))).scalar_one()
        await MemberRepository(session).bind(li, platform="telegram", user_id="1", display_name=None)
    async with sessions() as session:
        member, state = await sender(session, "telegram", "1")
        assert member is not None and state is None
        assert member.org.required_books == ["《选读》", "党章"] and member.org.id == org.id
        assert not session.dirty and not session.new  # loaded as a query loads: nothing to write
        assert member in session and member.org in session


async def test_a_statement_with_an_in_list_to_expand_is_refused_on_every_database(engine: AsyncEngine) -> None:
    query = PreparedQuery(select(Member.id).where(Member.name.in_(["a", "b"])), ())
    async with session_factory(engine)() as session:
        with pytest.raises(KeyError, match="name_1"):
            await query.first(session, {})


async def test_times_are_stored_as_sqlalchemy_stores_them(engine: AsyncEngine, db_url: str) -> None:
    """Rows written by a prepared statement and by the ORM compare alike in SQL (on SQLite, the
    same text: a whole second keeps its six zeros)."""
    whole_second = WHEN.replace(microsecond=0)
    async with session_factory(engine)() as session:
        await _INSERT.run(session, _row("1", expires_at=whole_second))
        session.add(DialogState(**{**_row("2"), "expires_at": whole_second}))
        await session.commit()
    async with engine.connect() as connection:
        stored = (await connection.execute(text(
            "SELECT CAST(expires_at AS TEXT) FROM dialog_states ORDER BY platform_user_id"))).scalars().all()
    assert stored[0] == stored[1]
    if db_url.startswith("sqlite"):
        assert stored[0] == "2026-12-01 08:30:15.000000"


async def test_an_audit_row_is_written_at_once_in_the_transaction(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session:
        await audit(session, actor_id=None, action="request", entity="join_request", entity_id=7,
                    after={"name": "李娜"})
        rows = (await session.execute(select(AuditLog))).scalars().all()
        assert [(r.action, r.entity_id, r.after) for r in rows] == [("request", 7, {"name": "李娜"})]
        await session.rollback()  # undone with the transaction
        assert (await session.execute(select(AuditLog))).first() is None


_RECORDS: list[tuple[type, dict[str, object]]] = [
    (StudyRecord, {"form": "集中学习", "study_date": date(2026, 11, 30), "minutes": 90, "content": "《选读》"}),
    (Visit, {"kind": "走访", "visit_date": date(2026, 11, 30), "place": "东村", "whom": "村委会",
             "heard": "道路失修", "topic": "基层治理"}),
    (Problem, {"description": "道路失修", "source": "走访", "kind": "民生", "owner_name": "王建国",
               "deadline": date(2026, 12, 31), "measures": "1.修路；2.复查"}),
    (Commitment, {"content": "每月走访一次"}),
]
_WRITTEN_AT = {"id", "created_at", "updated_at"}


@pytest.mark.parametrize(("model", "values"), _RECORDS, ids=[m.__name__ for m, _ in _RECORDS])
async def test_a_record_written_at_once_is_what_a_flush_writes(
        engine: AsyncEngine, model: type, values: dict[str, object]) -> None:
    """RecordRepository.create writes around the unit of work: the same row (defaults, the model's
    own rules such as a problem's 措施条数), the session's own object, the day's tallies recounted."""
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await _branch(session)
        li = (await session.execute(select(Member).where(Member.name == "李娜"))).scalar_one()
        made = await RecordRepository(session).create(model, li, dict(values))
        flushed = model(org_id=li.org_id, **{model.owner: li.id}, **values)
        session.add(flushed)
        await session.flush()
        assert made in session and made.id is not None and made.id != flushed.id
        assert (await session.get(model, made.id)) is made
        made_id, flushed_id = made.id, flushed.id
    async with sessions() as session:
        rows = {row.id: row for row in (await session.execute(select(model))).scalars()}
        mine, theirs = snapshot(rows[made_id]), snapshot(rows[flushed_id])
        assert {k: v for k, v in mine.items() if k not in _WRITTEN_AT} == {
            k: v for k, v in theirs.items() if k not in _WRITTEN_AT}
        assert rows[made_id].created_at is not None and rows[made_id].updated_at is not None
        audited = (await session.execute(select(AuditLog).where(AuditLog.entity_id == made_id,
                                                                AuditLog.entity == model.entity))).scalars().all()
        assert [(a.action, a.after["id"]) for a in audited] == [("create", made_id)]
        if model is StudyRecord:
            tally = (await session.execute(select(DailyTally))).scalar_one()
            assert (tally.study_records, tally.study_minutes) == (2, 180)  # both counted
        if model is Problem:
            assert rows[made_id].measure_items == 2 and rows[made_id].status is ProblemStatus.pending
