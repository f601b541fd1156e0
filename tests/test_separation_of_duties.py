"""Separation of duties (issue 13, item 6), through /progress and /problems on SQLite and
PostgreSQL: a secretary asks for the closure of a problem they own and cannot decide it (no
button, and refused again when acting); the branch's 支委 and the office hear of it and decide;
批准销号 asks for confirmation first; a 支委 decides nothing else."""

from __future__ import annotations

from bot.runtime.app import App
from handlers.core.context import Context
from handlers.core.events import Incoming
from handlers.core.i18n import DEFAULT_TEXTS as t
from handlers.problems.actions import perform
from handlers.problems.lifecycle import Action
from storage.db import session_factory
from storage.models import Member, OutboxMessage, Problem, ProblemEvent, Role
from storage.models import ProblemStatus as S
from storage.types import utcnow
from tests.chat_driver import CoreChat
from tests.conftest import Branch
from tests.test_dialogs import rows
from tests.test_problem_lifecycle import add_member, add_problem, bind, problem


async def _people(app: App, branch: Branch) -> tuple[CoreChat, CoreChat, CoreChat, CoreChat]:
    """王书记 (secretary), 张伟 (支委), 李娜 (member) and 马主任 (office), each with a chat."""
    zhang = await add_member(app, "张伟", Role.committee, branch.org.id)
    assert branch.org.parent_id is not None
    office = await add_member(app, "马主任", Role.office, branch.org.parent_id)
    return (await bind(app, branch.secretary, "s"), await bind(app, zhang, "c"),
            await bind(app, branch.roster_only, "m"), await bind(app, office, "o"))


async def _card(chat: CoreChat, tab: str = "申请销号（1）") -> None:
    await chat.say("/problems")
    await chat.press(tab)
    await chat.press("1")


async def test_a_secretary_does_not_decide_their_own_closure(app: App, branch: Branch) -> None:
    sec, zhang, lina, _office = await _people(app, branch)
    problem_id = await add_problem(app, branch.secretary, status=S.rectifying,
                                   description="机关食堂浪费现象")
    await sec.say("/progress")
    await sec.press("1")
    await sec.press("申请销号")
    await sec.say("已制定光盘行动制度并公示")
    await sec.press("跳过")
    await sec.press("✅ 确认")
    assert sec.text.endswith(t("problem.done_request_closure"))
    told = {m.chat_id for m in await rows(app, OutboxMessage, OutboxMessage.kind == "problem")}
    assert told == {"c", "o"}  # the 支委 and the office decide it; not the secretary themselves

    await _card(sec)
    assert "批准销号" not in sec.labels and "退回整改" not in sec.labels
    async with session_factory(app.engine)() as session, session.begin():  # a forged way round
        incoming = Incoming(platform="test", user_id="s", user_name="王书记", chat_id="s",
                            is_private=True)
        me = await session.get(Member, branch.secretary.id)
        ctx = Context(session, incoming, me, app.core.config, utcnow(), app.core.registry)
        said = await perform(ctx, problem_id, Action.approve)
    assert said == t("problem.own_closure", action="批准销号")
    assert (await problem(app, problem_id)).status is S.closure_requested

    # the 支委 decides: asked first, 暂不 keeps it, then approved
    await _card(zhang)
    assert "批准销号" in zhang.labels and "退回整改" in zhang.labels
    await zhang.press("批准销号")
    assert zhang.text.endswith(t("problem.ask_approve", problem="机关食堂浪费现象"))
    await zhang.press(t("problem.approve_no"))
    assert zhang.text.endswith(t("problem.approve_kept"))
    assert (await problem(app, problem_id)).status is S.closure_requested
    await _card(zhang)
    await zhang.press("批准销号")
    await zhang.press(t("problem.approve_yes"))
    assert zhang.text.endswith(t("problem.done_approve"))
    (approved,) = await rows(app, ProblemEvent, ProblemEvent.action == "approve")
    assert approved.actor_id != branch.secretary.id
    assert (await problem(app, problem_id)).status is S.closed
    await lina.say("/problems")
    assert lina.text == t("problem.board_not_allowed")  # an ordinary member still reads no list


async def test_the_office_decides_a_secretarys_closure_and_a_committee_member_nothing_else(
        app: App, branch: Branch) -> None:
    sec, zhang, _lina, office = await _people(app, branch)
    own = await add_problem(app, branch.secretary, status=S.closure_requested,
                            description="书记本人的问题")
    others = await add_problem(app, branch.secretary, status=S.closure_requested,
                               owner=branch.roster_only, description="李娜负责的问题")
    pending = await add_problem(app, branch.roster_only, description="待确认的问题")

    # 张伟 may decide only the secretary's own; the secretary only 李娜's
    await zhang.say("/problems")
    await zhang.press("申请销号（2）")
    assert "书记本人的问题" in zhang.text and "李娜负责的问题" in zhang.text
    await zhang.press("2")
    assert "李娜负责的问题" in zhang.text and "批准销号" not in zhang.labels
    await zhang.say("/problems")
    await zhang.press("待确认（1）")
    await zhang.press("1")
    assert "确认整改" not in zhang.labels and "不属于问题" not in zhang.labels
    await sec.say("/problems")
    await sec.press("申请销号（2）")
    await sec.press("2")
    assert "批准销号" in sec.labels
    await sec.press("批准销号")
    await sec.press(t("problem.approve_yes"))
    assert sec.text.endswith(t("problem.done_approve"))

    # the office decides the secretary's own
    await _card(office, "申请销号（1）")
    assert "书记本人的问题" in office.text
    await office.press("批准销号")
    await office.press(t("problem.approve_yes"))
    assert office.text.endswith(t("problem.done_approve"))
    statuses = {p.id: p.status for p in await rows(app, Problem)}
    assert statuses == {own: S.closed, others: S.closed, pending: S.pending}
