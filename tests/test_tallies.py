"""The daily tallies stay equal to a recount from the records, whatever changes the records:
dialogs, edits that move a record to another day, deletion, two members saving at once, and the
upgrade that creates them on a database full of records. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.runtime.app import App
from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.db import create_engine, session_factory
from storage.event_session import close, open_session
from storage.event_session import commit as event_commit
from storage.migrate import alembic_config, upgrade
from storage.models import DailyTally, DailyTopic, Member, StudyRecord, Visit
from storage.prepared import PreparedQuery, columns_of, loaded
from storage.repositories.records import RecordRepository
from storage.vocabulary import GROUP_FORMS, READING_CLASS, STUDY_FORMS
from storage.tallies import TALLY_COLUMNS, day_rows, recount, recount_all, topic_rows
from tests.conftest import Branch
from tests.test_dialogs import TODAY, joined, study_until_confirm

DAY = date(2023, 10, 10)


async def stored(session: AsyncSession) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """The tallies as stored."""
    columns = [getattr(DailyTally, c) for c in TALLY_COLUMNS]
    days = {tuple(r) for r in await session.execute(select(DailyTally.org_id, DailyTally.day, *columns))}
    topics = {tuple(r) for r in await session.execute(select(DailyTopic.org_id, DailyTopic.day,
                                                             DailyTopic.topic, DailyTopic.visits))}
    return days, topics


async def recounted(session: AsyncSession) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    return ({tuple(r) for r in await session.execute(day_rows())},
            {tuple(r) for r in await session.execute(topic_rows())})


async def assert_in_step(app: App) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    async with session_factory(app.engine)() as session:
        now = await stored(session)
        assert now == await recounted(session)
        return now


async def waits_for(first: AsyncSession, second: Awaitable[Any]) -> Any:
    """Run ``second`` while ``first`` holds the day (it must wait), then commit ``first``; what
    ``second`` gave once it could go on."""
    waiting = asyncio.ensure_future(second)
    await asyncio.sleep(0.3)
    assert not waiting.done()  # held by the first one's lock on the day
    await first.commit()
    return await waiting


def tally(org_id: int, day: date, **counts: int) -> tuple[Any, ...]:
    return (org_id, day, *(counts.get(c, 0) for c in TALLY_COLUMNS))


def study(member_id: int, org_id: int, form: str, day: date = DAY, minutes: int = 60) -> StudyRecord:
    return StudyRecord(member_id=member_id, org_id=org_id, form=form, study_date=day, minutes=minutes,
                       content="《习近平著作选读》")


def visit(member_id: int, org_id: int, topic: str | None, day: date = DAY, solved: int = 1) -> Visit:
    return Visit(member_id=member_id, org_id=org_id, kind="走访", visit_date=day, place="幸福社区",
                 whom="居民", heard="停车难", solved_count=solved, topic=topic)


async def test_a_members_dialogs_keep_the_tallies(app: App, branch: Branch) -> None:
    chat = await joined(app, branch)
    await study_until_confirm(chat)  # 集中学习 yesterday, 1.5 h
    await chat.press("✅ 确认")
    yesterday, org = TODAY() - timedelta(days=1), branch.org.id
    days, _ = await assert_in_step(app)
    assert days == {tally(org, yesterday, study_minutes=90, study_records=1, group_sessions=1,
                          group_attendances=1)}
    await chat.say("/mine")
    await chat.press("1")
    await chat.press("✏️ 修改")
    await chat.press("✏️ 修改")
    await chat.press("学习形式")
    await chat.press("读书班")
    await chat.press("✅ 确认")
    days, _ = await assert_in_step(app)
    assert days == {tally(org, yesterday, study_minutes=90, study_records=1, group_sessions=1,
                          group_attendances=1, reading_days=1, reading_attendances=1, reading_longest=90)}
    await chat.say("/mine")
    await chat.press("1")
    await chat.press("🗑 删除")
    await chat.press(t("mine.delete_yes"))
    assert await assert_in_step(app) == (set(), set())


async def test_edits_moves_and_deletions(app: App, branch: Branch) -> None:
    org, other = branch.org.id, branch.other.id
    me, you = branch.secretary.id, branch.roster_only.id
    async with session_factory(app.engine)() as session, session.begin():
        moved = study(me, org, "集中学习")
        edited = visit(me, org, "老旧小区改造")
        removed = visit(you, org, "营商环境")
        session.add_all([moved, study(you, org, "集中学习", minutes=90), study(you, org, "自学", minutes=30),
                         edited, removed, visit(you, org, None, solved=0)])
    days, topics = await assert_in_step(app)
    assert days == {tally(org, DAY, study_minutes=180, study_records=3, group_sessions=1,
                          group_attendances=2, visits=3, solved=2)}
    assert topics == {(org, DAY, "老旧小区改造", 1), (org, DAY, "营商环境", 1)}

    async with session_factory(app.engine)() as session, session.begin():
        moving = await session.get(StudyRecord, moved.id)
        assert moving is not None
        moving.study_date, moving.org_id = DAY + timedelta(days=1), other  # another day, another branch
        changing = await session.get(Visit, edited.id)
        assert changing is not None
        changing.topic, changing.solved_count = "营商环境", 4
        going = await session.get(Visit, removed.id)
        assert going is not None
        await session.delete(going)  # gone for good, not only marked
    days, topics = await assert_in_step(app)
    assert days == {
        tally(org, DAY, study_minutes=120, study_records=2, group_sessions=1, group_attendances=1,
              visits=2, solved=4),
        tally(other, DAY + timedelta(days=1), study_minutes=60, study_records=1, group_sessions=1,
              group_attendances=1)}
    assert topics == {(org, DAY, "营商环境", 1)}

    async with session_factory(app.engine)() as session, session.begin():
        changed = await session.get(Visit, edited.id)
        assert changed is not None
        changed.heard = "停车难、充电难"  # a change the tallies do not count: nothing to recount
    assert (await assert_in_step(app))[1] == {(org, DAY, "营商环境", 1)}


async def test_two_members_saving_at_once_are_both_counted(db_url: str, app: App, branch: Branch) -> None:
    """The second saver waits for the first one's lock on the (branch, day) and counts after it."""
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: the second save waits before it writes anything")
    other_engine = create_engine(db_url)
    try:
        first = session_factory(app.engine)()
        second = session_factory(other_engine)()
        async with first, second:
            first.add(study(branch.secretary.id, branch.org.id, "集中学习"))
            await first.flush()
            # the first save, committing: it has locked and counted its day, and not yet committed
            await first.run_sync(lambda sync: recount(sync.connection(), [(branch.org.id, DAY)]))
            second.add(study(branch.roster_only.id, branch.org.id, "集中学习"))
            await second.flush()
            await waits_for(first, second.commit())
    finally:
        await other_engine.dispose()
    days, _ = await assert_in_step(app)
    assert days == {tally(branch.org.id, DAY, study_minutes=120, study_records=2, group_sessions=1,
                          group_attendances=2)}


async def test_recount_while_a_member_is_saving(db_url: str, app: App, branch: Branch) -> None:
    """`branchbot db recount` on a running bot waits for the save in progress and counts it."""
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: the recount waits before it writes anything")
    other_engine = create_engine(db_url)
    try:
        async with session_factory(app.engine)() as saving:
            saving.add(study(branch.secretary.id, branch.org.id, "集中学习"))
            await saving.flush()
            await saving.run_sync(lambda sync: recount(sync.connection(), [(branch.org.id, DAY)]))

            async def rebuild() -> int:
                async with other_engine.begin() as connection:
                    return await connection.run_sync(recount_all)
            assert await waits_for(saving, rebuild()) == 1
    finally:
        await other_engine.dispose()
    days, _ = await assert_in_step(app)
    assert days == {tally(branch.org.id, DAY, study_minutes=60, study_records=1, group_sessions=1,
                          group_attendances=1)}


_MEMBER = PreparedQuery(select(*columns_of(Member)).where(Member.id == bindparam("id")), ("id",))


async def _create(engine: AsyncEngine, member_id: int, *records: dict[str, Any],
                  delete_last: bool = False, in_event: bool = False, commit: bool = True) -> None:
    """New study records of a member written as the dialogs write them (``RecordRepository.create``),
    in one transaction: a factory's session (committed by the ORM), or ``in_event`` an event's
    session as the router opens it, the member read as the router reads it (on SQLite only the
    statements wrote anything, and they are committed as they are: ``storage.event_session``)."""
    session = await open_session(session_factory(engine)) if in_event else session_factory(engine)()
    try:
        if in_event:
            row = await _MEMBER.first(session, {"id": member_id})
            assert row is not None
            member = loaded(session, Member, row)
        else:
            found = await session.get(Member, member_id)
            assert found is not None
            member = found
        made = [await RecordRepository(session).create(StudyRecord, member, {
            "study_date": DAY, "minutes": 60, "content": "《习近平著作选读》", **values}) for values in records]
        if delete_last:
            made[-1].deleted_at = datetime.now(UTC)
        if commit:
            await (event_commit(session) if in_event else session.commit())
    finally:
        await (close(session) if in_event else session.close())


@pytest.mark.parametrize("in_event", [False, True], ids=["factory", "event"])
async def test_new_records_added_to_their_day_equal_a_recount(app: App, branch: Branch,
                                                              in_event: bool) -> None:
    """A new record alone on its day in its transaction is added to the day's tallies rather than
    the day recounted: every form, a form's second record (no second session), the longest
    读书班, two records of a day at once, a record deleted before its transaction commits."""
    me, you, org = branch.secretary.id, branch.roster_only.id, branch.org.id
    for form in STUDY_FORMS:
        await _create(app.engine, me, {"form": form, "minutes": 45}, in_event=in_event)
        await assert_in_step(app)
    await _create(app.engine, you, {"form": "集中学习"}, in_event=in_event)
    await _create(app.engine, you, {"form": READING_CLASS, "minutes": 240}, in_event=in_event)
    await _create(app.engine, you, {"form": READING_CLASS, "minutes": 120}, in_event=in_event)
    await _create(app.engine, me, {"form": "联组学习", "study_date": DAY + timedelta(days=1)},
                  {"form": "联组学习", "study_date": DAY + timedelta(days=1), "minutes": 30},
                  in_event=in_event)
    await _create(app.engine, you, {"form": "中心组学习", "study_date": DAY + timedelta(days=2)},
                  delete_last=True, in_event=in_event)
    await _create(app.engine, you, {"form": "中心组学习", "study_date": DAY + timedelta(days=3)},
                  in_event=in_event, commit=False)  # never committed: nothing of it is counted
    days, _ = await assert_in_step(app)
    groups = len(GROUP_FORMS)
    assert days == {
        tally(org, DAY, study_minutes=45 * len(STUDY_FORMS) + 60 + 240 + 120,
              study_records=len(STUDY_FORMS) + 3, group_sessions=groups,
              group_attendances=groups + 3, reading_days=1, reading_attendances=3, reading_longest=240,
              org_life_sessions=2, centre_sessions=1, joint_sessions=1),
        tally(org, DAY + timedelta(days=1), study_minutes=90, study_records=2, group_sessions=1,
              group_attendances=2, joint_sessions=1)}


async def test_two_first_records_of_a_form_at_once_make_one_session(db_url: str, app: App,
                                                                    branch: Branch) -> None:
    """Two members saving the day's first 集中学习 at once: the second adds to the day only once
    the first has committed, sees the first's record, and counts no second session."""
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: the second save waits before it writes anything")
    org = branch.org.id
    await _create(app.engine, branch.roster_only.id, {"form": "自学"})  # the day's row is there
    other_engine = create_engine(db_url)
    try:
        async with session_factory(app.engine)() as first:
            await first.execute(select(DailyTally).where(DailyTally.org_id == org, DailyTally.day == DAY)
                                .with_for_update())  # the first saver, committing: the day is held
            member = await first.get(Member, branch.secretary.id)
            assert member is not None
            await RecordRepository(first).create(StudyRecord, member, {
                "form": "集中学习", "study_date": DAY, "minutes": 60, "content": "《习近平著作选读》"})
            await waits_for(first, _create(other_engine, branch.roster_only.id, {"form": "集中学习"}))
    finally:
        await other_engine.dispose()
    days, _ = await assert_in_step(app)
    assert days == {tally(org, DAY, study_minutes=180, study_records=3, group_sessions=1,
                          group_attendances=2)}


async def test_a_failed_save_leaves_no_tally_behind(app: App, branch: Branch) -> None:
    async with session_factory(app.engine)() as session:
        session.add(study(branch.secretary.id, branch.org.id, "集中学习"))
        await session.flush()
        await session.rollback()
        session.add(study(branch.secretary.id, branch.org.id, "自学", day=DAY + timedelta(days=1)))
        await session.commit()
    days, _ = await assert_in_step(app)
    assert days == {tally(branch.org.id, DAY + timedelta(days=1), study_minutes=60, study_records=1)}


async def test_upgrade_counts_the_tallies_of_existing_records(empty_db_url: str) -> None:
    engine = create_engine(empty_db_url)
    try:
        async with engine.begin() as connection:
            def before_tallies(sync: Any) -> None:
                config = alembic_config(empty_db_url)
                config.attributes["connection"] = sync
                command.upgrade(config, "0004")
            await connection.run_sync(before_tallies)
            await connection.execute(text(
                "INSERT INTO organizations (id, name, kind, required_books, created_at) "
                "VALUES (1, '机关第一党支部', 'branch', '[]', CURRENT_TIMESTAMP)"))
            await connection.execute(text(
                "INSERT INTO members (id, org_id, name, role, active, created_at) "
                "VALUES (1, 1, '李娜', 'member', true, CURRENT_TIMESTAMP)"))
            for form, minutes in (("集中学习", 90), ("自学", 30)):
                await connection.execute(text(
                    "INSERT INTO study_records (created_at, updated_at, member_id, org_id, form, study_date, "
                    "minutes, content) VALUES (CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1, 1, :form, :day, "
                    ":minutes, '学习')"), {"form": form, "day": DAY, "minutes": minutes})
        await upgrade(engine)
        async with session_factory(engine)() as session:
            assert await stored(session) == ({tally(1, DAY, study_minutes=120, study_records=2,
                                                    group_sessions=1, group_attendances=1)}, set())
    finally:
        await engine.dispose()


async def test_upgrade_to_0010_recounts_and_counts_measures(empty_db_url: str) -> None:
    """A database at 0009 with tallies and a problem: the upgrade counts the day's sessions by
    form (the tallies emptied and counted again) and the problem's 整改措施条数."""
    engine = create_engine(empty_db_url)
    try:
        async with engine.begin() as connection:
            def at_0009(sync: Any) -> None:
                config = alembic_config(empty_db_url)
                config.attributes["connection"] = sync
                command.upgrade(config, "0009")
            await connection.run_sync(at_0009)
            await connection.execute(text(
                "INSERT INTO organizations (id, name, kind, required_books, created_at) "
                "VALUES (1, '机关第一党支部', 'branch', '[]', CURRENT_TIMESTAMP)"))
            await connection.execute(text(
                "INSERT INTO members (id, org_id, name, role, active, created_at) "
                "VALUES (1, 1, '李娜', 'member', true, CURRENT_TIMESTAMP)"))
            for form, minutes in (("三会一课", 90), ("主题党日", 60), ("读书班", 180)):
                await connection.execute(text(
                    "INSERT INTO study_records (created_at, updated_at, member_id, org_id, form, study_date, "
                    "minutes, content) VALUES (CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1, 1, :form, :day, "
                    ":minutes, '学习')"), {"form": form, "day": DAY, "minutes": minutes})
            await connection.execute(text(  # the tallies as 0009 counted them
                "INSERT INTO daily_tallies (org_id, day, study_minutes, study_records, group_sessions, "
                "group_attendances, reading_days, reading_attendances, visits, solved) "
                "VALUES (1, :day, 330, 3, 3, 3, 1, 1, 0, 0)"), {"day": DAY})
            await connection.execute(text(
                "INSERT INTO problems (created_at, updated_at, reporter_id, org_id, description, source, kind, "
                "owner_name, deadline, measures, status) VALUES (CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1, 1, "
                "'停车难', '调研', '限期整改', '李娜', :day, '1.排查车位；2.协调共享；3.回访', 'rectifying')"),
                {"day": DAY})
        await upgrade(engine)
        async with session_factory(engine)() as session:
            assert await stored(session) == ({tally(1, DAY, study_minutes=330, study_records=3, group_sessions=3,
                                                    group_attendances=3, reading_days=1, reading_attendances=1,
                                                    org_life_sessions=2, reading_longest=180)}, set())
            assert await session.scalar(text("SELECT measure_items FROM problems")) == 3
    finally:
        await engine.dispose()
