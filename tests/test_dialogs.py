"""The guided dialogs, driven in-process through the core, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from bot.runtime.app import App
from handlers.core import selectors
from handlers.core.i18n import DEFAULT_TEXTS as t
from handlers.core.inputs import storable
from storage.db import session_factory
from storage.models import (
    AuditLog,
    Commitment,
    CommitmentReport,
    DialogState,
    GroupChat,
    Identity,
    Member,
    Problem,
    ProblemEvent,
    ProblemStatus,
    StudyRecord,
    Visit,
)
from tests.chat_driver import CoreChat
from tests.conftest import Branch
from tests.joining import approve, join_approved

TODAY = lambda: datetime.now(ZoneInfo("Asia/Shanghai")).date()  # noqa: E731


async def count(app: App, model: type, *where: object) -> int:
    async with session_factory(app.engine)() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def rows(app: App, model: type, *where: object) -> list:
    async with session_factory(app.engine)() as session:
        return list(await session.scalars(select(model).where(*where).order_by(model.id)))


async def joined(app: App, branch: Branch, user_id: str = "1001", name: str = "李娜") -> CoreChat:
    return await join_approved(app, branch.org.invite_code, user_id, name, org="机关第一党支部")


async def study_at_hours(chat: CoreChat, form: str = "自学") -> None:
    """/study up to the question of how long."""
    await chat.say("/study")
    await chat.press(form)
    await chat.press("今天")
    assert "学习了多长时间" in chat.text


async def study_until_confirm(chat: CoreChat) -> None:
    await chat.say("/study")
    await chat.press("集中学习")
    await chat.press("昨天")
    await chat.say("一个半小时")
    await chat.press("《习近平著作选读》")
    await chat.say("要把学习成果转化为工作实效")
    assert "请核对学习记录" in chat.text


# --- joining -------------------------------------------------------------------------------------

async def test_join_matches_the_roster_entry(app: App, branch: Branch) -> None:
    await joined(app, branch)
    assert await count(app, Member, Member.name == "李娜") == 1  # the roster row, not a new one
    identity = (await rows(app, Identity))[0]
    assert identity.member_id == branch.roster_only.id and identity.platform_user_id == "1001"


async def test_join_with_a_typed_name_creates_a_member(app: App, branch: Branch) -> None:
    chat = CoreChat(app.core, "2002", "Zhao")
    await chat.say(f"/join {branch.org.invite_code}")
    await chat.say("  ")
    assert t("input.empty", field="姓名") in chat.text  # asked again
    await chat.say("赵六")
    assert "已提交申请：以“赵六”加入" in chat.text  # a request: nobody is a member by typing
    assert await count(app, Member, Member.name == "赵六") == 0
    await approve(app, "2002")
    assert await count(app, Member, Member.name == "赵六", Member.org_id == branch.org.id) == 1
    await chat.say("/start")
    assert "你好，赵六（机关第一党支部）" in chat.text


async def test_join_refusals(app: App, branch: Branch) -> None:
    chat = CoreChat(app.core, "3003", "王五")
    await chat.say("/start wrongcode")
    assert chat.text == t("join.bad_code")
    await chat.say("/join")
    assert chat.text == t("join.need_code")
    group = CoreChat(app.core, "3003", "王五", chat_id="-500", private=False)
    await group.say(f"/join {branch.org.invite_code}")
    assert group.text == t("join.private_only")
    member = await joined(app, branch)
    await member.say(f"/start {branch.org.invite_code}")
    assert member.text == t("join.already_in", org="机关第一党支部")


# --- /study --------------------------------------------------------------------------------------

async def test_study_dialog_saves_one_record(app: App, branch: Branch) -> None:
    chat = await joined(app, branch)
    await study_until_confirm(chat)
    card = chat.text
    for line in ("学习形式：集中学习", "学习时长：1.5小时", "学习内容：《习近平著作选读》",
                 "心得体会：要把学习成果转化为工作实效"):
        assert line in card
    await chat.press("✅ 确认")
    assert t("study.saved") in chat.text
    (record,) = await rows(app, StudyRecord)
    assert (record.form, record.minutes, record.study_date) == ("集中学习", 90, TODAY() - timedelta(days=1))
    assert record.member_id == branch.roster_only.id and record.org_id == branch.org.id
    assert await count(app, DialogState) == 0


@pytest.mark.parametrize("typed, key", [
    ("-1", "input.hours_not_positive"), ("0", "input.hours_not_positive"),
    ("25", "input.hours_too_long"), ("很多", "input.hours_invalid"), ("", None),
])
async def test_study_bad_hours_are_asked_again(app: App, branch: Branch, typed: str,
                                               key: str | None) -> None:
    chat = await joined(app, branch)
    await study_at_hours(chat)
    await chat.say(typed)
    if key is not None:
        assert chat.text.startswith(t(key, max=24).split("{")[0][:8])
    assert "学习了多长时间" in chat.text  # the same step again
    await chat.say("１．５小时")
    assert "学习了什么" in chat.text


async def test_study_date_typed_future_and_garbage(app: App, branch: Branch) -> None:
    chat = await joined(app, branch)
    await chat.say("/study")
    await chat.press("自学")
    await chat.press("其他日期")
    assert chat.text == t("date.type_hint")
    await chat.say("明天")
    assert "不能晚于今天" in chat.text and "哪天学习的" in chat.text
    await chat.say("2023年13月1日")
    assert "哪天学习的" in chat.text
    await chat.say("2023/11/9")
    assert "学习了多长时间" in chat.text


async def test_over_long_content_is_refused_with_the_limit(app: App, branch: Branch) -> None:
    chat = await joined(app, branch)
    await study_at_hours(chat)
    await chat.press("2小时")
    await chat.say("学" * 201)
    assert "200" in chat.text and "学习了什么" in chat.text
    await chat.say("党章")
    assert "心得体会" in chat.text


async def test_change_a_field_from_the_card(app: App, branch: Branch) -> None:
    chat = await joined(app, branch)
    await study_until_confirm(chat)
    await chat.press("✏️ 修改")
    await chat.press("学习时长")
    await chat.say("90分钟")
    assert "学习时长：1.5小时" in chat.text and "请核对" in chat.text
    await chat.press("✏️ 修改")
    await chat.press("学习时长")
    await chat.say("3")
    await chat.press("✅ 确认")
    (record,) = await rows(app, StudyRecord)
    assert record.minutes == 180


async def test_buttons_only_step_refuses_free_text(app: App, branch: Branch) -> None:
    chat = await joined(app, branch)
    await chat.say("/study")
    await chat.say("随便学学")
    assert chat.text.startswith(t("dialog.use_buttons"))
    await chat.say("线上学习")  # a typed label counts as the button
    assert "哪天学习的" in chat.text


async def test_cancel_and_a_new_command_start_fresh(app: App, branch: Branch) -> None:
    chat = await joined(app, branch)
    await study_until_confirm(chat)
    await chat.say("/cancel")
    assert chat.text == t("dialog.cancelled")
    await chat.say("/cancel")
    assert chat.text == t("dialog.nothing_to_cancel")
    await chat.say("/study")
    await chat.press("自学")
    await chat.say("/visit")
    assert "登记调研走访" in chat.text
    await chat.press("取消")
    assert t("dialog.cancelled") in chat.text
    assert await count(app, StudyRecord) == 0 and await count(app, DialogState) == 0


async def test_an_idle_dialog_expires_politely(app: App, branch: Branch) -> None:
    chat = await joined(app, branch)
    await chat.say("/study")
    await chat.press("自学")
    async with session_factory(app.engine)() as session, session.begin():
        await session.execute(update(DialogState).values(
            expires_at=datetime.now(timezone.utc) - timedelta(minutes=1)))
    await chat.say("今天")
    assert chat.text == t("dialog.expired")
    assert await count(app, DialogState) == 0
    await chat.say("/study")
    assert t("dialog.expired") not in chat.text and "学习形式" in chat.text


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(typed=st.text(max_size=40))
async def test_any_typed_hours_is_either_taken_or_asked_again(app: App, branch: Branch,
                                                              typed: str) -> None:
    chat = CoreChat(app.core, f"h{abs(hash(typed))}", "李娜")
    if await count(app, Identity, Identity.platform_user_id == chat.user_id) == 0:
        await chat.say(f"/start {branch.org.invite_code}")
        await chat.say(f"测{chat.user_id}")  # a name of its own: a bound one is not claimed again
        await approve(app, chat.user_id)
    await study_at_hours(chat)
    await chat.say(typed)
    assert t("error.internal") not in chat.text
    if chat.text == t("dialog.cancelled"):  # 取消 typed, or its selector (the step's last letter)
        read = storable(typed)  # as the core reads it: control characters dropped
        assert selectors.key(read) == "取消" or read.strip().upper() == "G", typed
        return
    assert ("学习了什么" in chat.text) or ("学习了多长时间" in chat.text)


# --- /visit and /problem ------------------------------------------------------------------------

async def test_visit_leads_into_a_linked_problem(app: App, branch: Branch) -> None:
    chat = await joined(app, branch)
    await chat.say("/visit")
    await chat.press("结对居村")
    await chat.press("今天")
    await chat.say("幸福社区")
    await chat.say("社区书记、3户居民")
    await chat.say("老旧小区加装电梯意愿强烈，停车难")
    await chat.say("两个")
    await chat.press("跳过")
    assert "现场解决问题数：2" in chat.text and "调研课题：（未填）" in chat.text
    await chat.press("✅ 确认")
    assert t("visit.saved") in chat.text and t("visit.ask_found") in chat.text
    await chat.press(t("visit.found_yes"))
    assert "请描述发现的问题" in chat.text
    await chat.say("加装电梯审批流程长")
    await chat.press("群众反映")
    await chat.press("限期整改")
    await chat.press("我本人（李娜）")
    await chat.say("2000-01-01")
    assert "不能早于今天" in chat.text or "完成时限" in chat.text
    await chat.press("一个月内")
    await chat.say("协调街道简化流程，每两周跟进")
    await chat.press("✅ 确认")
    assert t("problem.saved") in chat.text
    (visit,) = await rows(app, Visit)
    (problem,) = await rows(app, Problem)
    assert visit.solved_count == 2 and visit.topic is None
    assert problem.visit_id == visit.id and problem.status is ProblemStatus.pending
    assert problem.deadline == TODAY() + timedelta(days=30) and problem.owner_id == branch.roster_only.id
    (event,) = await rows(app, ProblemEvent)
    assert event.action == "report" and event.to_status is ProblemStatus.pending


async def test_visit_without_a_problem(app: App, branch: Branch) -> None:
    chat = await joined(app, branch)
    await chat.say("/visit")
    await chat.press("走访")
    await chat.press("前天")
    for text in ("东湖村", "村书记", "灌溉渠需要修缮", "0", "农村水利"):
        await chat.say(text)
    await chat.press("✅ 确认")
    await chat.press(t("visit.found_no"))
    assert chat.text.endswith(t("visit.no_problem"))
    assert await count(app, Problem) == 0 and await count(app, Visit) == 1


async def test_problem_owner_typed_is_not_linked_to_the_reporter(app: App, branch: Branch) -> None:
    chat = await joined(app, branch)
    await chat.say("/problem")
    await chat.say("12345工单回复不及时")
    await chat.press("12345热线")
    await chat.press("即知即改")
    await chat.say("王书记")
    await chat.say("下周五")
    await chat.say("建立工单日清制度")
    await chat.press("✅ 确认")
    (problem,) = await rows(app, Problem)
    assert problem.owner_name == "王书记" and problem.owner_id is None
    assert problem.deadline > TODAY()


# --- /commit --------------------------------------------------------------------------------------

async def test_commitment_then_report_of_keeping_it(app: App, branch: Branch) -> None:
    chat = await joined(app, branch)
    await chat.say("/commit")
    await chat.say("每月走访结对社区两次")
    await chat.press("✅ 确认")
    assert chat.text.endswith(t("commit.saved"))
    await chat.say("/commit")
    assert "每月走访结对社区两次" in chat.text and "践诺中" in chat.text
    await chat.press(t("commit.do_report"))
    await chat.say("已走访4次，帮助解决助餐点问题")
    await chat.press(t("commit.kept_yes"))
    await chat.press("✅ 确认")
    assert chat.text.endswith(t("commit.reported"))
    (commitment,) = await rows(app, Commitment)
    (report,) = await rows(app, CommitmentReport)
    assert commitment.kept and report.kept and report.commitment_id == commitment.id
    await chat.say("/commit")
    assert "已兑现" in chat.text


# --- /mine: edit and delete ----------------------------------------------------------------------

async def test_mine_edit_and_delete_are_audited(app: App, branch: Branch) -> None:
    chat = await joined(app, branch)
    await study_until_confirm(chat)
    await chat.press("✅ 确认")
    await chat.say("/mine")
    assert "1. 学习" in chat.text and "1.5小时" in chat.text
    await chat.press("1")
    await chat.press("✏️ 修改")
    assert "请核对学习记录" in chat.text
    await chat.press("✏️ 修改")
    await chat.press("学习形式")
    await chat.press("读书班")
    await chat.press("✅ 确认")
    assert chat.text.endswith(t("record.updated"))
    (record,) = await rows(app, StudyRecord)
    assert record.form == "读书班"
    await chat.say("/mine")
    await chat.press("1")
    await chat.press("🗑 删除")
    assert "确定删除" in chat.text
    await chat.press(t("mine.delete_yes"))
    assert chat.text.endswith(t("mine.deleted"))
    (record,) = await rows(app, StudyRecord)
    assert record.deleted_at is not None  # kept, not silently lost
    actions = [(a.action, a.entity) for a in await rows(app, AuditLog, AuditLog.entity != "join_request")]
    assert actions == [("create", "study"), ("update", "study"), ("delete", "study")]
    deleted = (await rows(app, AuditLog, AuditLog.action == "delete"))[0]
    assert deleted.before["form"] == "读书班" and deleted.before["minutes"] == 90
    await chat.say("/mine")
    assert chat.text == t("mine.none")


async def test_mine_on_a_record_deleted_meanwhile(app: App, branch: Branch) -> None:
    chat = await joined(app, branch)
    await study_until_confirm(chat)
    await chat.press("✅ 确认")
    await chat.say("/mine")
    async with session_factory(app.engine)() as session, session.begin():
        await session.execute(update(StudyRecord).values(deleted_at=datetime.now(timezone.utc)))
    await chat.press("1")
    assert chat.text.endswith(t("record.gone"))


# --- buttons: stale, forged, doubled --------------------------------------------------------------

async def test_forged_and_stale_buttons_do_nothing(app: App, branch: Branch) -> None:
    chat = await joined(app, branch)
    await chat.say("/study")
    old = chat.data_of("自学")
    await chat.press("集中学习")
    for data in (old, "d:zzzzzz:0", "garbage", "d:" + old.split(":")[1], old.rsplit(":", 1)[0] + ":99"):
        await chat.press_data(data)
        assert chat.notice == t("button.stale") and chat.replies == []
    assert "哪天" in (await chat.say("随便")).replies[0].text  # still on the date step
    stranger = CoreChat(app.core, "9999", "陌生人")
    await stranger.press_data(chat.data_of("今天"))
    assert stranger.notice == t("button.stale")
    (state,) = await rows(app, DialogState)
    assert state.step == "date" and state.platform_user_id == "1001"


async def test_double_confirm_saves_once(app: App, branch: Branch) -> None:
    chat = await joined(app, branch)
    await study_until_confirm(chat)
    confirm = chat.data_of("✅ 确认")
    await chat.press_data(confirm)
    await chat.press_data(confirm)
    assert chat.notice == t("button.stale")
    assert await count(app, StudyRecord) == 1


# --- who may do what -----------------------------------------------------------------------------

async def test_non_members_cannot_log(app: App, branch: Branch) -> None:
    chat = CoreChat(app.core, "4004", "路人")
    for command in ("/study", "/visit", "/problem", "/commit", "/mine"):
        await chat.say(command)
        assert chat.text == t("auth.not_member")
    await chat.say("你好")
    assert chat.text == t("help.hint")
    assert await count(app, DialogState) == 0


async def test_group_chat_hands_off_to_private(app: App, branch: Branch) -> None:
    await joined(app, branch)
    group = CoreChat(app.core, "1001", "李娜", chat_id="-100500", private=False)
    await group.say("/study@branchbot_test_bot")
    (reply,) = group.replies
    assert reply.text == t("group.go_private")
    assert reply.buttons[0][0].start == "study" and reply.buttons[0][0].data is None
    await group.say("今天学了两小时")  # group conversation is not read
    assert group.replies == []
    assert await count(app, DialogState) == 0
    private = CoreChat(app.core, "1001", "李娜")
    await private.say("/start study")
    assert "请选择学习形式" in private.text


async def test_bindgroup_only_by_that_branch_secretary(app: App, branch: Branch) -> None:
    code = branch.org.invite_code
    member = CoreChat(app.core, "1001", "李娜", chat_id="-42", private=False)
    await joined(app, branch)
    await member.say(f"/bindgroup {code}")
    assert member.text == t("bindgroup.not_secretary", org="机关第一党支部")
    secretary = await joined(app, branch, "7", "王书记")
    in_group = CoreChat(app.core, "7", "王书记", chat_id="-42", private=False)
    await in_group.say(f"/bindgroup {branch.other.invite_code}")
    assert in_group.text == t("bindgroup.not_secretary", org="机关第二党支部")
    await in_group.say("/bindgroup nonsense")
    assert in_group.text == t("bindgroup.bad_code")
    await in_group.say(f"/bindgroup {code}")
    assert in_group.text == t("bindgroup.done", org="机关第一党支部")
    (group,) = await rows(app, GroupChat)
    assert group.org_id == branch.org.id and group.chat_id == "-42"
    await secretary.say(f"/bindgroup {code}")
    assert secretary.text == t("bindgroup.group_only")


async def test_help_and_unknown_commands(app: App, branch: Branch) -> None:
    chat = await joined(app, branch)
    await chat.say("/help")
    assert "/study" in chat.text and "/bindgroup" not in chat.text
    await chat.say("/frobnicate")
    assert chat.text == t("command.unknown", name="frobnicate")


async def test_help_in_a_dialog_shows_the_question_again(app: App, branch: Branch) -> None:
    """/help or /start in the middle of a dialog answers, then asks the step's question again
    with its buttons, so that the member sees how to go on; the dialog goes on from there."""
    chat = await joined(app, branch)
    await study_at_hours(chat)
    for command in ("/help", "/START"):
        await chat.say(command)
        assert "/study" in chat.replies[0].text
        assert "学习了多长时间" in chat.text and "1小时" in chat.labels
    await chat.press("1小时")
    assert "《习近平著作选读》" in chat.labels  # the next step: what was studied
