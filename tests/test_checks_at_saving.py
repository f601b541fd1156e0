"""Issue 11 item 4: what allowed a change in /mine is checked again when it is saved.

The interleavings the issue names, on SQLite and PostgreSQL, each as the member and the
secretary do them (two chats on one core): the member opens the record, the secretary or a
meeting takes it over, the member confirms. Then the same race within the saving transaction
itself, on PostgreSQL: the member's save waits for the secretary's decision in flight.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from bot.runtime.app import App
from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.db import session_factory
from storage.models import AuditLog, Problem, StudyRecord, Visit
from storage.models import ProblemStatus as S
from storage.repositories.records import RecordRepository, Refusal
from tests.chat_driver import CoreChat
from tests.conftest import Branch
from tests.test_problem_lifecycle import add_problem, joined, problem, today


async def _secretary_accepts(secretary: CoreChat, deadline: str) -> None:
    """确认整改 from /problems: keep the measures, the owner as proposed, a new deadline."""
    await secretary.say("/problems")
    await secretary.press("待确认（1）")
    await secretary.press("1")
    await secretary.press("确认整改")
    await secretary.press(t("problem.keep_measures"))
    await secretary.press(secretary.labels[0])  # the owner as reported
    await secretary.say(deadline)
    await secretary.press("✅ 确认")
    assert secretary.text.endswith(t("problem.done_accept")), secretary.text


async def _rows(app: App, model: type, *where: object) -> list:
    async with session_factory(app.engine)() as session:
        return list(await session.scalars(select(model).where(*where).order_by(model.id)))


async def test_an_edit_opened_before_the_secretary_accepted_is_not_saved(app: App,
                                                                         branch: Branch) -> None:
    member = await joined(app, "1001", "李娜", branch.org.invite_code)
    secretary = await joined(app, "7", "王书记", branch.org.invite_code)
    problem_id = await add_problem(app, branch.roster_only)
    await member.say("/mine")
    await member.press("1")
    await member.press(t("mine.edit"))
    await member.press("✏️ 修改")
    await member.press("完成时限")
    later = (today() + timedelta(days=90)).isoformat()
    await member.say(later)
    await member.press("✏️ 修改")
    await member.press("整改措施")
    await member.say("我自己改的措施")
    assert "我自己改的措施" in member.text  # the card, ready to confirm

    chosen = (today() + timedelta(days=20)).isoformat()
    await _secretary_accepts(secretary, chosen)
    await member.press("✅ 确认")
    assert member.text == t("problem.locked")
    found = await problem(app, problem_id)
    assert found.status is S.rectifying and found.deadline == date.fromisoformat(chosen)
    assert found.measures == "增设助餐点"
    edits = await _rows(app, AuditLog, AuditLog.entity == "problem", AuditLog.action == "update")
    assert edits == []  # nothing of the member's edit was written


async def test_a_deletion_confirmed_after_the_secretary_accepted_deletes_nothing(
        app: App, branch: Branch) -> None:
    member = await joined(app, "1001", "李娜", branch.org.invite_code)
    secretary = await joined(app, "7", "王书记", branch.org.invite_code)
    problem_id = await add_problem(app, branch.roster_only)
    await member.say("/mine")
    await member.press("1")
    await member.press(t("mine.delete"))
    assert "确定删除" in member.text
    await _secretary_accepts(secretary, (today() + timedelta(days=20)).isoformat())
    await member.press(t("mine.delete_yes"))
    assert member.text == t("problem.locked")
    found = await problem(app, problem_id)
    assert found.deleted_at is None and found.status is S.rectifying


async def test_an_edit_of_a_record_a_meeting_took_over_is_not_saved(app: App, branch: Branch) -> None:
    member = await joined(app, "1001", "李娜", branch.org.invite_code)
    secretary = await joined(app, "7", "王书记", branch.org.invite_code)
    await member.say("/study")
    await member.press("集中学习")
    await member.press("今天")
    await member.say("1.5")
    await member.say("党章")
    await member.press("跳过")
    await member.press("✅ 确认")
    await member.say("/mine")
    await member.press("1")
    await member.press(t("mine.edit"))
    await member.press("✏️ 修改")
    await member.press("学习时长")
    await member.say("5")
    assert "学习时长：5小时" in member.text

    # The secretary records today's 集中学习 (09:00-11:00): it takes the hand-logged record over.
    await secretary.say("/meeting")
    await secretary.press(t("meeting.new"))
    await secretary.press("集中学习")
    await secretary.press("今天")
    await secretary.press("09:00-11:00")
    await secretary.say("党员活动室")
    await secretary.press("跳过")
    await secretary.press("王书记")
    await secretary.press("王书记")
    await secretary.press("跳过")
    await secretary.press("跳过")
    await secretary.press("跳过")
    await secretary.press("✅ 确认")
    (record,) = await _rows(app, StudyRecord, StudyRecord.deleted_at.is_(None),
                            StudyRecord.member_id == branch.roster_only.id)
    assert record.meeting_id is not None and record.minutes == 120

    await member.press("✅ 确认")
    assert member.text == t("meeting.credit_locked")
    (record,) = await _rows(app, StudyRecord, StudyRecord.deleted_at.is_(None),
                            StudyRecord.member_id == branch.roster_only.id)
    assert record.minutes == 120  # the meeting's two hours, not the member's five


async def test_an_edit_of_a_record_deleted_meanwhile_is_not_saved(
        app: App, branch: Branch) -> None:
    member = await joined(app, "1001", "李娜", branch.org.invite_code)
    await member.say("/visit")
    for press in ("走访", "今天"):
        await member.press(press)
    for typed in ("幸福社区", "张大爷", "反映助餐点远"):
        await member.say(typed)
    await member.press("0")
    await member.press("跳过")
    await member.press("✅ 确认")
    await member.press(t("visit.found_no"))
    await member.say("/mine")
    await member.press("1")
    await member.press(t("mine.edit"))
    await member.press("✏️ 修改")
    await member.press("地点/单位")
    await member.say("另一个社区")
    async with session_factory(app.engine)() as session, session.begin():  # deleted meanwhile
        repo = RecordRepository(session)
        (visit,) = await repo.recent(branch.roster_only, [Visit])
        await repo.delete(visit, branch.roster_only)
    await member.press("✅ 确认")
    assert member.text == t("record.gone")
    (visit,) = await _rows(app, Visit)
    assert visit.place == "幸福社区" and visit.deleted_at is not None
    deletions = await _rows(app, AuditLog, AuditLog.entity == "visit", AuditLog.action == "delete")
    assert len(deletions) == 1


@pytest.mark.parametrize("decision_first", [True, False])
async def test_the_save_waits_for_a_decision_in_flight(app: App, branch: Branch, db_url: str,
                                                       decision_first: bool) -> None:
    """Within one transaction each: the secretary's accept holds the row; the member's save of an
    edit checks the rule under the row lock, so it sees the accept (PostgreSQL waits for it and
    re-reads the row), or, when the member saved first, the accept sees the edit."""
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: there is no save in flight to wait for")
    problem_id = await add_problem(app, branch.roster_only)
    factory = session_factory(app.engine)
    holding, released = asyncio.Event(), asyncio.Event()

    async def accept() -> None:
        async with factory() as session, session.begin():
            await session.execute(update(Problem).where(Problem.id == problem_id,
                                                        Problem.status == S.pending)
                                  .values(status=S.rectifying))
            holding.set()
            await released.wait()

    async def member_saves() -> Problem | Refusal:
        async with factory() as session, session.begin():
            found = await RecordRepository(session).changeable(Problem, problem_id, branch.roster_only)
            if not isinstance(found, Refusal):
                found.measures = "我自己改的措施"
            return found

    if decision_first:
        task = asyncio.create_task(accept())
        await holding.wait()
        saving = asyncio.create_task(member_saves())
        await asyncio.sleep(0.3)
        assert not saving.done()  # it waits on the secretary's row lock
        released.set()
        await task
        assert await saving is Refusal.locked
        assert (await problem(app, problem_id)).measures == "增设助餐点"
    else:
        assert not isinstance(await member_saves(), Refusal)
        released.set()
        await accept()
        found = await problem(app, problem_id)
        assert found.measures == "我自己改的措施" and found.status is S.rectifying
