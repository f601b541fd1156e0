"""述学, /schedule, /leave, the secretary's nudge-again button and the calendar file, on both
databases."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.runtime.app import App
from handlers.calendar.file import CalendarError, load_calendar
from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.db import session_factory
from storage.models import (
    Holiday,
    Leave,
    Milestone,
    OutboxMessage,
    ShuxueAnswer,
    ShuxueSchedule,
    StudyRecord,
)
from storage.repositories.shuxue import ShuxueRepository
from tests.chat_driver import CoreChat
from tests.conftest import Branch
from tests.joining import join_approved
from tests.test_dialogs import TODAY, joined, rows


async def secretary_chat(app: App, branch: Branch) -> CoreChat:
    return await join_approved(app, branch.org.invite_code, "7", "王书记")


async def test_shuxue_is_prefilled_and_answered_once_per_period(app: App, branch: Branch) -> None:
    chat = await joined(app, branch)
    await chat.say("/study")
    await chat.press("自学")
    await chat.press("今天")
    await chat.press("2小时")
    await chat.press("《习近平著作选读》")
    await chat.press("跳过")
    await chat.press("✅ 确认")
    await chat.say("/start shuxue")  # the group prompt's button
    assert "自学情况" in chat.text
    assert chat.labels[0] == "用已登记：学习2小时（1次），《习近平著作选读》"
    await chat.press(chat.labels[0])
    await chat.press("本周无")
    await chat.say("帮社区老人代办了医保")
    await chat.press("✅ 确认")
    assert "已提交" in chat.text
    (answer,) = await rows(app, ShuxueAnswer)
    assert answer.self_study == "学习2小时（1次），《习近平著作选读》" and answer.research == "本周无"
    assert answer.period_start <= date.today() and answer.period_start.weekday() == 0
    await chat.say("/shuxue")  # again: the card with what was given, to change
    assert "请核对述学" in chat.text and "帮社区老人代办了医保" in chat.text
    await chat.press("✏️ 修改")
    await chat.press("为民办实事情况")
    await chat.say("帮社区老人代办医保两件")
    await chat.press("✅ 确认")
    (answer,) = await rows(app, ShuxueAnswer)
    assert answer.deeds == "帮社区老人代办医保两件"


async def test_schedule_only_by_the_secretary(app: App, branch: Branch) -> None:
    member = await joined(app, branch)
    await member.say("/schedule")
    assert t("schedule.only_secretary") in member.text and "每周一 09:00" in member.text
    group = CoreChat(app.core, "1001", "李娜", chat_id="-5", private=False)
    await group.say("/schedule")
    assert group.replies[0].buttons[0][0].start == "schedule"
    secretary = await secretary_chat(app, branch)
    await secretary.say("/start schedule")
    await secretary.press("周三")
    await secretary.say("25:00")
    assert t("schedule.bad_time") in secretary.text
    await secretary.say("14：30")
    await secretary.press("每两周（“1+3”）")
    await secretary.press("当天 18:00")
    await secretary.press("✅ 确认")
    assert "每两周（“1+3”）周三 14:30" in secretary.text
    (schedule,) = await rows(app, ShuxueSchedule)
    assert (schedule.weekday, schedule.time, schedule.every_weeks, schedule.remind_after_days) == (
        2, "14:30", 2, 0)
    assert schedule.anchor is not None and schedule.anchor.weekday() == 2


async def test_leave_and_its_bad_inputs(app: App, branch: Branch) -> None:
    chat = await joined(app, branch)
    await chat.say("/leave")
    assert chat.text == t("leave.usage")
    for bad in ("/leave 昨天", "/leave 明年", "/leave 2099-01-01"):
        await chat.say(bad)
        assert t("leave.usage") in chat.text and "已登记请假" not in chat.text
    await chat.say("/leave 下周五 出差")
    assert "已登记请假" in chat.text
    (leave,) = await rows(app, Leave)
    assert leave.reason == "出差" and leave.until > leave.start
    await chat.say("/leave 取消")
    (leave,) = await rows(app, Leave)
    assert leave.until < leave.start + timedelta(days=1)
    group = CoreChat(app.core, "1001", "李娜", chat_id="-5", private=False)
    await group.say("/leave 下周五")
    assert group.text == t("group.go_private")


async def round_two_days_ago(app: App, branch: Branch) -> date:
    """Pin the branch's 述学 rhythm so that its round in progress began two days ago and its
    digest (with 再提醒一次) went out yesterday at midnight, whatever day the suite runs."""
    period = TODAY() - timedelta(days=2)
    async with session_factory(app.engine)() as session, session.begin():
        await ShuxueRepository(session).set_schedule(branch.org.id, weekday=period.weekday(),
                                                     remind_after_days=1, remind_time="00:00")
    return period


async def test_nudge_again_is_the_branch_secretarys_and_once(app: App, branch: Branch) -> None:
    member = await joined(app, branch)
    secretary = await secretary_chat(app, branch)
    period = await round_two_days_ago(app, branch)
    data = f"n:{branch.org.id}:{period.isoformat()}"
    await member.press_data(data)
    assert member.notice == t("push.not_your_branch")
    await secretary.press_data(data)
    assert secretary.notice == t("push.renudged", count=2)  # 李娜 and the secretary have not answered
    await secretary.press_data(data)
    assert secretary.notice == t("push.renudged_before")
    await secretary.press_data("n:garbage")
    assert secretary.notice == t("button.stale")
    reminders = await rows(app, OutboxMessage, OutboxMessage.kind == "shuxue_remind")
    assert sorted(m.chat_id for m in reminders) == ["1001", "7"]


CALENDAR = """
[[milestone]]
key = "dushuban"
name = "读书班结束"
date = 2023-11-10
roles = ["支部书记"]

[[holiday]]
date = 2023-10-01
until = 2023-10-03
name = "国庆节"

[[schedule]]
branch = "机关第一党支部"
weekday = "周二"
time = "08:30"
"""


async def test_calendar_file_all_or_nothing(app: App, branch: Branch, tmp_path: Path) -> None:
    good = tmp_path / "calendar.toml"
    good.write_text(CALENDAR, encoding="utf-8")
    async with session_factory(app.engine)() as session, session.begin():
        assert (await load_calendar(t, session, good))[:3] == (1, 3, 1)
    bad = tmp_path / "bad.toml"
    bad.write_text(CALENDAR.replace("周二", "周八").replace('roles = ["支部书记"]', 'roles = ["队长"]')
                   + '\n[[milestone]]\nkey = "x"\nname = "y"\ndate = 2023-13-01\n', encoding="utf-8")
    with pytest.raises(CalendarError) as refused:
        async with session_factory(app.engine)() as session, session.begin():
            await load_calendar(t, session, bad)
    assert "格式有误" in str(refused.value)  # 2023-13-01 is not a TOML date
    bad.write_text(CALENDAR.replace("周二", "周八").replace('roles = ["支部书记"]', 'roles = ["队长"]'),
                   encoding="utf-8")
    with pytest.raises(CalendarError) as refused:
        async with session_factory(app.engine)() as session, session.begin():
            await load_calendar(t, session, bad)
    problems = "\n".join(refused.value.problems)
    assert "第2行 [[milestone]] 的 roles：未知角色 队长" in problems
    assert "第13行 [[schedule]] 的 weekday" in problems
    unknown = tmp_path / "unknown.toml"
    unknown.write_text(CALENDAR.replace("机关第一党支部", "机关第九党支部"), encoding="utf-8")
    with pytest.raises(CalendarError) as refused:
        async with session_factory(app.engine)() as session, session.begin():
            await load_calendar(t, session, unknown)
    assert refused.value.problems == ["第13行：支部“机关第九党支部”不存在。"]
    async with session_factory(app.engine)() as session:  # the good file's content, untouched
        assert len(list(await session.scalars(select(Milestone)))) == 1
        assert len(list(await session.scalars(select(Holiday)))) == 3
        (schedule,) = await session.scalars(select(ShuxueSchedule))
        assert (schedule.weekday, schedule.time) == (1, "08:30")
        assert list(await session.scalars(select(StudyRecord))) == []
