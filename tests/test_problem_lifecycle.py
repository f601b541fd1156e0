"""The problem lifecycle on SQLite and PostgreSQL: every state × action, who may act, stale and
forged buttons, deadline requests, two approvers at once, and the export's rows."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from bot.runtime.app import App, build_app
from handlers.core.context import Context
from handlers.core.events import FileRef, Incoming
from handlers.core.i18n import DEFAULT_TEXTS as t
from handlers.problems import export
from handlers.problems.actions import DONE_TEXT, perform
from handlers.problems.lifecycle import ACTION_TEXT, STATUS_TEXT, Action, is_overdue
from storage.db import session_factory
from storage.models import (
    Member,
    Organization,
    OutboxMessage,
    Problem,
    ProblemEvent,
    ProblemEvidence,
    Role,
)
from storage.models import ProblemStatus as S
from storage.repositories.members import MemberRepository
from storage.repositories.problems import ProblemRepository
from storage.repositories.records import RecordRepository
from storage.types import utcnow
from tests.chat_driver import CoreChat
from tests.conftest import Branch, make_settings
from tests.joining import join_approved

TZ = ZoneInfo("Asia/Shanghai")
A = Action

# Written out on purpose (not read from the module): the rule as the issue states it.
ALLOWED: dict[tuple[S, Action], S] = {
    (S.pending, A.accept): S.rectifying, (S.pending, A.reject): S.rejected,
    (S.rectifying, A.update): S.rectifying, (S.rectifying, A.request_extension): S.rectifying,
    (S.rectifying, A.extend): S.rectifying, (S.rectifying, A.decline_extension): S.rectifying,
    (S.rectifying, A.request_closure): S.closure_requested,
    (S.closure_requested, A.approve): S.closed, (S.closure_requested, A.send_back): S.rectifying,
    (S.closed, A.reopen): S.rectifying,
}


def today() -> date:
    return datetime.now(TZ).date()


async def add_problem(app: App, member: Member, *, status: S = S.pending, kind: str = "限期整改",
                      description: str = "社区助餐点覆盖不足", owner: Member | None = None,
                      deadline: date | None = None) -> int:
    async with session_factory(app.engine)() as session, session.begin():
        owner = owner or member
        record = await RecordRepository(session).create(Problem, member, {
            "description": description, "source": "群众反映", "kind": kind,
            "owner_name": owner.name, "owner_id": owner.id,
            "deadline": deadline or today() + timedelta(days=10), "measures": "增设助餐点",
            "visit_id": None})
        await session.execute(update(Problem).where(Problem.id == record.id).values(status=status))
        return record.id


async def add_member(app: App, name: str, role: Role, org_id: int) -> Member:
    async with session_factory(app.engine)() as session, session.begin():
        org = await session.get(Organization, org_id)
        assert org is not None
        return await MemberRepository(session).add(org, name, role)


async def joined(app: App, user_id: str, name: str, code: str | None) -> CoreChat:
    """A chat of someone on the roster (or of a new member when the name is not on it), whose
    join request was approved."""
    return await join_approved(app, code, user_id, name)


async def bind(app: App, member: Member, user_id: str) -> CoreChat:
    """A chat for a member who is not in a branch (the office): bound directly."""
    async with session_factory(app.engine)() as session, session.begin():
        await MemberRepository(session).bind(member, platform="test", user_id=user_id,
                                             display_name=member.name)
    return CoreChat(app.core, user_id, member.name)


async def open_card(chat: CoreChat, tab: str | None) -> None:
    """The first problem's card: from a tab of /problems, or (tab None) from /progress."""
    await chat.say("/problems" if tab else "/progress")
    if tab:
        await chat.press(tab)
    await chat.press("1")


async def events_of(app: App, problem_id: int) -> list[ProblemEvent]:
    async with session_factory(app.engine)() as session:
        return list(await session.scalars(select(ProblemEvent).where(
            ProblemEvent.problem_id == problem_id).order_by(ProblemEvent.id)))


async def problem(app: App, problem_id: int) -> Problem:
    async with session_factory(app.engine)() as session:
        found = await session.get(Problem, problem_id)
        assert found is not None
        return found


# --- the table: every state × action ----------------------------------------------------------

async def test_every_state_and_action(app: App, branch: Branch) -> None:
    incoming = Incoming(platform="test", user_id="7", user_name="王书记", chat_id="7", is_private=True)
    later = today() + timedelta(days=40)
    for status in S:
        for action in Action:
            # reported by the secretary, owned by 李娜: the secretary decides (not their own)
            problem_id = await add_problem(app, branch.secretary, status=status,
                                           owner=branch.roster_only)
            if action is A.decline_extension:  # declining needs a request to decline
                async with session_factory(app.engine)() as session, session.begin():
                    session.add(ProblemEvent(problem_id=problem_id, actor_id=branch.secretary.id,
                                             action="request_extension", new_deadline=later))
            before = len(await events_of(app, problem_id))
            async with session_factory(app.engine)() as session, session.begin():
                ctx = Context(session, incoming, branch.secretary, app.core.config, utcnow(), app.core.registry)
                said = await perform(ctx, problem_id, action, note="理由", new_deadline=later)
            after = await events_of(app, problem_id)
            expected = ALLOWED.get((status, action))
            if expected is None:
                assert said == t("problem.transition_refused", action=t(ACTION_TEXT[action.value]),
                                 status=t(STATUS_TEXT[status])), (status, action)
                assert len(after) == before and (await problem(app, problem_id)).status is status
            else:
                assert said == t(DONE_TEXT[action]), (status, action, said)
                assert (await problem(app, problem_id)).status is expected
                assert len(after) == before + 1
                event = after[-1]
                assert (event.action, event.from_status, event.to_status, event.note) == (
                    action.value, status, expected, "理由")
                assert event.actor_id == branch.secretary.id


def test_the_office_kind_is_one_members_can_pick() -> None:
    from storage.vocabulary import COORDINATION_KIND, PROBLEM_KINDS

    assert COORDINATION_KIND in PROBLEM_KINDS


def test_overdue_is_open_and_past_its_deadline() -> None:
    day = date(2026, 11, 22)
    assert is_overdue(S.rectifying, day - timedelta(days=1), day)
    assert is_overdue(S.closure_requested, day - timedelta(days=1), day)
    assert not is_overdue(S.rectifying, day, day)
    assert not is_overdue(S.closed, day - timedelta(days=9), day)
    assert not is_overdue(S.pending, day - timedelta(days=9), day)


# --- who may see and do what ------------------------------------------------------------------

async def test_members_and_other_branches(app: App, branch: Branch) -> None:
    member = await joined(app, "1001", "李娜", branch.org.invite_code)
    problem_id = await add_problem(app, branch.roster_only, status=S.rectifying)
    await member.say("/problems")
    assert member.text == t("problem.board_not_allowed")
    await member.say("/problems export")
    assert member.text == t("problem.board_not_allowed")

    colleague = await joined(app, "1002", "张伟", branch.org.invite_code)  # same branch, not owner
    await colleague.say("/progress")
    assert colleague.text == t("problem.progress_none")
    async with session_factory(app.engine)() as session, session.begin():
        other = await session.scalar(select(Member).where(Member.name == "张伟"))
    assert other is not None
    other_secretary = await add_member(app, "周婷", Role.secretary, branch.other.id)
    other_member = await add_member(app, "孙磊", Role.member, branch.other.id)
    incoming = Incoming(platform="test", user_id="1002", user_name="张伟", chat_id="1002",
                        is_private=True)
    async with session_factory(app.engine)() as session, session.begin():
        ctx = Context(session, incoming, other, app.core.config, utcnow(), app.core.registry)
        said = await perform(ctx, problem_id, A.update, note="代为更新")
        assert said == t("problem.not_allowed", action="报告进展")
        ctx.member = other_secretary
        assert await perform(ctx, problem_id, A.approve) == t("problem.not_found")
        ctx.member = other_member
        assert await perform(ctx, problem_id, A.update, note="x") == t("problem.not_found")

    stranger_secretary = await joined(app, "2001", "赵敏", branch.other.invite_code)
    async with session_factory(app.engine)() as session, session.begin():
        await session.execute(update(Member).where(Member.name == "赵敏").values(role=Role.secretary))
    await stranger_secretary.say("/problems")
    assert "发现问题 0 个" in stranger_secretary.text and "需上级协调" not in stranger_secretary.text
    await stranger_secretary.say("/problems export")
    rows = list(load_workbook(BytesIO(stranger_secretary.replies[0].document.content)).active.values)
    assert len(rows) == 1  # the header only: nothing of the first branch
    assert len(await events_of(app, problem_id)) == 1  # only the report: nobody acted

    group = CoreChat(app.core, "7", "王书记", chat_id="-5", private=False)
    await group.say("/problems")
    assert group.text == t("problem.board_private")


async def test_office_sees_every_branch_and_coordination(app: App, branch: Branch) -> None:
    other_secretary = await add_member(app, "周婷", Role.secretary, branch.other.id)
    await add_problem(app, branch.roster_only, kind="需上级协调", description="跨部门审批")
    await add_problem(app, other_secretary, status=S.rectifying, description="第二支部的问题",
                      deadline=today() - timedelta(days=2))
    assert branch.org.parent_id is not None
    office = await bind(app, await add_member(app, "马主任", Role.office, branch.org.parent_id), "9")
    await office.say("/problems")
    assert "全局各支部" in office.text and "发现问题 2 个" in office.text and "逾期 1 个" in office.text
    await office.press("需上级协调（1）")
    assert "跨部门审批" in office.text and "第二支部" not in office.text
    await office.press("1")
    assert "机关第一党支部" in office.text
    assert office.labels[:2] == ["确认整改", "不属于问题"]
    await office.press("不属于问题")
    await office.say("属于正常工作安排")
    assert office.text.endswith(t("problem.done_reject"))
    await office.say("/problems")
    await office.press("逾期（1）")
    assert "第二支部的问题" in office.text and "逾期" in office.text


async def test_stale_and_forged_buttons(app: App, branch: Branch) -> None:
    secretary = await joined(app, "7", "王书记", branch.org.invite_code)
    problem_id = await add_problem(app, branch.roster_only, status=S.closure_requested)
    await secretary.say("/problems")
    board = secretary.data_of("申请销号（1）")
    await secretary.press("申请销号（1）")
    await secretary.press("1")
    approve = secretary.data_of("批准销号")
    for forged in (board, "d:abcdef:0", approve.rsplit(":", 1)[0] + ":77", "x:1:2"):
        await secretary.press_data(forged)
        assert secretary.notice == t("button.stale") and secretary.replies == []
    stranger = CoreChat(app.core, "1003", "路人")
    await stranger.press_data(approve)
    assert stranger.notice == t("button.stale")
    await secretary.press_data(approve)
    assert secretary.text.endswith(t("problem.ask_approve", problem="社区助餐点覆盖不足"))
    assert [e.action for e in await events_of(app, problem_id)] == ["report"]  # asked first
    sure = secretary.data_of(t("problem.approve_yes"))
    await secretary.press_data(sure)
    assert secretary.text.endswith(t("problem.done_approve"))
    for again in (approve, sure):  # pressed twice
        await secretary.press_data(again)
        assert secretary.notice == t("button.stale")
    assert [e.action for e in await events_of(app, problem_id)] == ["report", "approve"]


async def test_a_screen_shown_before_someone_else_acted(app: App, branch: Branch) -> None:
    secretary = await joined(app, "7", "王书记", branch.org.invite_code)
    problem_id = await add_problem(app, branch.roster_only, status=S.closure_requested)
    await open_card(secretary, "申请销号（1）")
    async with session_factory(app.engine)() as session, session.begin():
        await session.execute(update(Problem).values(status=S.rectifying))  # returned meanwhile
    await secretary.press("批准销号")
    assert secretary.text.endswith(t("problem.transition_refused", action="批准销号",
                                     status="整改中"))
    assert [e.action for e in await events_of(app, problem_id)] == ["report"]


# --- deadline requests, progress input --------------------------------------------------------

async def test_deadline_request_needs_the_secretary(app: App, branch: Branch) -> None:
    member = await joined(app, "1001", "李娜", branch.org.invite_code)
    secretary = await joined(app, "7", "王书记", branch.org.invite_code)
    problem_id = await add_problem(app, branch.roster_only, status=S.rectifying)
    deadline = (await problem(app, problem_id)).deadline

    await open_card(member, None)
    assert "调整时限" not in member.labels and "批准销号" not in member.labels
    await member.press("申请延期")
    await member.say("昨天")
    assert "不能早于今天" in member.text
    await member.press("一个月内")
    await member.say("需要等区里的审批")
    await member.press("✅ 确认")
    assert member.text.endswith(t("problem.done_request_extension"))
    assert (await problem(app, problem_id)).deadline == deadline  # not moved yet

    await open_card(secretary, "整改中（1）")
    assert "延期申请" in secretary.text and "需要等区里的审批" in secretary.text
    assert "不同意延期" in secretary.labels and "申请延期" not in secretary.labels
    await secretary.press("不同意延期")
    await secretary.say("时限不能再拖")
    assert secretary.text.endswith(t("problem.done_decline_extension"))
    await open_card(secretary, "整改中（1）")
    assert "不同意延期" not in secretary.labels and "延期申请：" not in secretary.text

    await open_card(member, None)
    await member.press("申请延期")
    await member.press("两周内")
    await member.say("施工队延期进场")
    await member.press("✅ 确认")
    await open_card(secretary, "整改中（1）")
    await secretary.press("调整时限")
    requested = today() + timedelta(days=14)
    await secretary.press(f"按申请：{requested.year}年{requested.month}月{requested.day}日")
    await secretary.press("同意申请理由")
    assert secretary.text.endswith(t("problem.done_extend"))
    assert (await problem(app, problem_id)).deadline == requested
    events = await events_of(app, problem_id)
    assert [(e.action, e.new_deadline, e.note) for e in events[1:]] == [
        ("request_extension", today() + timedelta(days=30), "需要等区里的审批"),
        ("decline_extension", None, "时限不能再拖"),
        ("request_extension", requested, "施工队延期进场"),
        ("extend", requested, "施工队延期进场")]
    async with session_factory(app.engine)() as session:
        told = [(m.chat_id, m.payload["text"]) for m in
                await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "problem")
                                      .order_by(OutboxMessage.id))]
    assert [chat for chat, _ in told] == ["7", "1001", "7", "1001"]  # each decision to the other side
    assert told[0][1] == t("problem.notify", problem="社区助餐点覆盖不足", actor="李娜",
                           action="申请延期", note="：需要等区里的审批",
                           hint=t("problem.notify_hint_board"))
    assert "王书记 不同意延期：时限不能再拖" in told[1][1] and "/progress" in told[1][1]


async def test_progress_percent_and_files(app: App, branch: Branch) -> None:
    member = await joined(app, "1001", "李娜", branch.org.invite_code)
    problem_id = await add_problem(app, branch.roster_only, status=S.rectifying)
    await open_card(member, None)
    await member.press("报告进展")
    await member.say("   ")
    assert "不能为空" in member.text
    await member.say("已增设两个助餐点")
    for bad in ("120", "很多", "-5"):
        await member.say(bad)
        assert member.text.startswith(t("problem.percent_invalid")), bad
    await member.say("百分之六十")
    assert "佐证" in member.text and "跳过" in member.labels and "完成" not in member.labels
    await member.say("现在没有照片")  # text on a file step: buttons or files only
    assert member.text.startswith(t("dialog.use_buttons"))
    file_event = dict(platform="test", user_id="1001", user_name="李娜", chat_id="1001",
                      is_private=True)
    await member._send(Incoming(**file_event, file=FileRef("photo-1", None, "image/jpeg")))
    await member._send(Incoming(**file_event, file=FileRef("doc-2", "验收单.pdf", "application/pdf"),
                                text="验收单"))
    assert member.text.startswith(t("dialog.file_received", count=2).split("\n")[0])
    assert "完成" in member.labels and "跳过" not in member.labels
    await member.say("完成")
    assert "完成比例：60%" in member.text and "佐证材料：照片1、验收单.pdf" in member.text
    await member.press("✅ 确认")
    async with session_factory(app.engine)() as session:
        evidence = list(await session.scalars(select(ProblemEvidence).order_by(ProblemEvidence.id)))
    assert [(e.file_id, e.file_name, e.platform) for e in evidence] == [
        ("photo-1", None, "test"), ("doc-2", "验收单.pdf", "test")]
    (_, update_event) = await events_of(app, problem_id)
    assert (update_event.percent, update_event.note) == (60, "已增设两个助餐点")
    assert all(e.event_id == update_event.id for e in evidence)


# --- two approvers at once --------------------------------------------------------------------

async def test_two_approvers_at_once_close_it_once(db_url: str, branch: Branch, app: App) -> None:
    """Two cores (separate engines, as two workers) press 批准销号 for two approvers together."""
    problem_id = await add_problem(app, branch.roster_only, status=S.closure_requested)
    assert branch.org.parent_id is not None
    office_member = await add_member(app, "马主任", Role.office, branch.org.parent_id)
    apps = [build_app(make_settings(db_url)) for _ in range(2)]
    try:
        secretary = await joined(apps[0], "7", "王书记", branch.org.invite_code)
        office = await bind(apps[1], office_member, "9")
        for chat in (secretary, office):
            await open_card(chat, "申请销号（1）")
        for chat in (secretary, office):
            await chat.press("批准销号")
        said = await asyncio.gather(secretary.press(t("problem.approve_yes")),
                                    office.press(t("problem.approve_yes")))
        texts = [outcome.replies[-1].text for outcome in said]
        assert sum(text.endswith(t("problem.done_approve")) for text in texts) == 1, texts
    finally:
        for bot_app in apps:
            await bot_app.close()
    assert (await problem(app, problem_id)).status is S.closed
    assert [e.action for e in await events_of(app, problem_id)] == ["report", "approve"]


async def test_the_conditional_update_waits_and_refuses(app: App, branch: Branch,
                                                        db_url: str) -> None:
    """The storage rule under both: a second approval of an already-approved problem writes
    nothing; on PostgreSQL the second really waits on the first's row lock."""
    problem_id = await add_problem(app, branch.roster_only, status=S.closure_requested)
    other = build_app(make_settings(db_url))
    sessions = session_factory(app.engine), session_factory(other.engine)

    async def approve(factory: Any, wait: asyncio.Event | None = None) -> bool:
        async with factory() as session, session.begin():
            repo = ProblemRepository(session)
            found = await repo.get(problem_id)
            event = await repo.apply(found, action="approve", actor=branch.secretary,
                                     expected=S.closure_requested, to=S.closed)
            if wait is not None:
                await wait.wait()
            return event is not None

    try:
        if db_url.startswith("postgresql"):
            release = asyncio.Event()
            first = asyncio.create_task(approve(sessions[0], release))
            await asyncio.sleep(0.3)
            second = asyncio.create_task(approve(sessions[1]))
            await asyncio.sleep(0.3)
            assert not second.done()  # blocked on the row lock
            release.set()
            assert await first and not await second
        else:
            assert await approve(sessions[0]) and not await approve(sessions[1])
    finally:
        await other.close()
    assert [e.action for e in await events_of(app, problem_id)] == ["report", "approve"]


# --- counts and the export --------------------------------------------------------------------

async def test_counts_rate_and_export_rows(app: App, branch: Branch) -> None:
    for status in (S.pending, S.rectifying, S.closure_requested, S.rejected):
        await add_problem(app, branch.roster_only, status=status)
    await add_problem(app, branch.roster_only, status=S.rectifying,
                      deadline=today() - timedelta(days=1))
    closed_id = await add_problem(app, branch.roster_only, status=S.closure_requested)
    secretary = await joined(app, "7", "王书记", branch.org.invite_code)
    incoming = Incoming(platform="test", user_id="7", user_name="王书记", chat_id="7", is_private=True)
    async with session_factory(app.engine)() as session, session.begin():
        ctx = Context(session, incoming, branch.secretary, app.core.config, utcnow(), app.core.registry)
        assert await perform(ctx, closed_id, A.approve) == t("problem.done_approve")
    await secretary.say("/problems")
    assert ("发现问题 6 个｜待确认 1 个｜整改中 2 个｜申请销号 1 个｜逾期 1 个｜已销号 1 个" in secretary.text
            and "整改率：25%（已销号 1 ÷ 已确认 4）" in secretary.text)  # 1 closed of 4 accepted
    assert "整改中（2）" in secretary.labels and "申请销号（1）" in secretary.labels  # as the header
    await secretary.press("📥 导出Excel")
    document = secretary.replies[-1].document
    assert document is not None and document.file_name == "问题清单.xlsx"
    sheet = load_workbook(BytesIO(document.content)).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert [r[8] for r in rows] == ["待确认", "整改中", "申请销号", "不属于问题", "整改中（逾期）",
                                    "已销号"]
    assert rows[5][9] is not None and rows[5][9].date() == today()
    assert all(r[9] is None for r in rows[:5])
    async with session_factory(app.engine)() as session:
        count = await session.scalar(select(func.count()).select_from(Problem))
        direct = await export.rows(t, session, branch.org.id, today(), TZ)
    assert count == len(direct) == 6 and [list(r) for r in rows] == [
        [c if not isinstance(c, date) else datetime(c.year, c.month, c.day) for c in r]
        for r in direct]


@pytest.mark.parametrize("typed, value", [("60", 60), ("60%", 60), ("６０％", 60), ("百分之六十", 60),
                                          ("0", 0), ("100%", 100)])
def test_percent_parsing(typed: str, value: int) -> None:
    from handlers.problems.steps import parse_percent

    assert parse_percent(typed, None) == value  # type: ignore[arg-type]


async def test_long_lists_and_histories_are_cut_in_the_chat(app: App, branch: Branch) -> None:
    secretary = await joined(app, "7", "王书记", branch.org.invite_code)
    for n in range(21):
        await add_problem(app, branch.roster_only, description=f"问题{n}")
    busy = await add_problem(app, branch.roster_only, status=S.rectifying, description="进展多的问题")
    async with session_factory(app.engine)() as session, session.begin():
        for n in range(12):
            session.add(ProblemEvent(problem_id=busy, actor_id=branch.roster_only.id, action="update",
                                     from_status=S.rectifying, to_status=S.rectifying,
                                     note=f"第{n}次" + "很长的进展" * 40))
    await secretary.say("/problems")
    await secretary.press("待确认（21）")
    assert t("problem.list_more", limit=20) in secretary.text
    assert secretary.labels == [str(n) for n in range(1, 21)] + ["返回", "取消"]
    await secretary.press("返回")
    await secretary.press("整改中（1）")
    await secretary.press("1")
    card = secretary.replies[-1].text
    assert t("problem.history_more", count=3) in card and "第11次" in card and "第1次" not in card
    assert len(card) < 3000


def test_the_command_line_export_names_an_unknown_branch(tmp_path: Any) -> None:
    from tests.test_cli import cli

    cli(tmp_path, "db", "upgrade")
    result = cli(tmp_path, "problems", "export", "--out", str(tmp_path / "x.xlsx"), "--branch", "无此支部")
    assert result.returncode != 0 and t("cli.no_such_branch", name="无此支部") in result.stderr
    result = cli(tmp_path, "problems", "export", "--out", str(tmp_path / "x.xlsx"))
    assert result.returncode == 0 and "0 个问题" in result.stdout
    assert [c.value for c in load_workbook(tmp_path / "x.xlsx").active[1]][0] == "序号"


async def test_an_accepted_problem_is_not_edited_or_deleted_from_mine(app: App, branch: Branch) -> None:
    member = await joined(app, "1001", "李娜", branch.org.invite_code)
    problem_id = await add_problem(app, branch.roster_only, status=S.rectifying)
    before = await problem(app, problem_id)
    await member.say("/mine")
    await member.press("1")  # opened, it offers neither 修改 nor 删除
    assert member.text.endswith(t("problem.locked"))
    after = await problem(app, problem_id)
    assert (after.deadline, after.deleted_at) == (before.deadline, None)
