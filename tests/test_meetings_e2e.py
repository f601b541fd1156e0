"""Organization life end to end over the loopback Bot API server, on SQLite and PostgreSQL: a
meeting of 20 members with 3 absent credits 17, two absentees make up and the third is nudged,
an edit of the duration moves every credit, a hand-logged duplicate is caught, and an incomplete
record is flagged."""

from __future__ import annotations

import io
from datetime import time, timedelta
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import select
from telegram.ext import Application

from bot.runtime.app import App, build_app
from handlers.calendar.workdays import WorkCalendar
from handlers.core.i18n import DEFAULT_TEXTS as t
from handlers.schedule.planner import PlanConfig, plan
from handlers.schedule.times import at_local
from storage.db import session_factory
from storage.models import Member, OutboxMessage, StudyRecord
from storage.repositories.members import MemberRepository
from tests.botapi import FakeBotApi
from tests.conftest import Branch, make_settings
from tests.telegram_support import USER, texts

SECRETARY = 7
TZ = ZoneInfo("Asia/Shanghai")
ABSENT = {"成员01": "病假", "成员02": "公差", "成员03": "事假"}  # users 2001, 2002, 2003


async def _people(app: App, branch: Branch) -> None:
    """The branch grows to 20 members, everyone with a Telegram account."""
    async with session_factory(app.engine)() as session, session.begin():
        members = MemberRepository(session)
        await members.bind(branch.secretary, platform="telegram", user_id=str(SECRETARY),
                           display_name=None)
        await members.bind(branch.roster_only, platform="telegram", user_id=str(USER),
                           display_name=None)
        for n in range(1, 19):
            member = await members.add(branch.org, f"成员{n:02d}")
            await members.bind(member, platform="telegram", user_id=str(2000 + n), display_name=None)


async def _rows(db_url: str, model: type, *where: object) -> list:
    bot_app = build_app(make_settings(db_url))
    try:
        async with session_factory(bot_app.engine)() as session:
            return list(await session.scalars(select(model).where(*where)))
    finally:
        await bot_app.close()


async def _record(api: FakeBotApi, kind: str, procedure: str | None, record: str | None,
                  study: str | None = None) -> list:
    """``study``: the study item a 支委会 is asked for (None: 跳过)."""
    await api.say(SECRETARY, "/meeting")
    await api.press(SECRETARY, t("meeting.new"))
    await api.press(SECRETARY, kind)
    await api.press(SECRETARY, "今天")
    await api.say(SECRETARY, "14:30-16:30")
    await api.say(SECRETARY, "三楼会议室")
    await api.say(SECRETARY, "学习贯彻党的二十大精神")
    if kind == "支委会":
        await (api.say(SECRETARY, study) if study else api.press(SECRETARY, "跳过"))
    await api.press(SECRETARY, "王书记")
    await api.press(SECRETARY, "王书记")
    await api.press(SECRETARY, "跳过")
    await (api.say(SECRETARY, procedure) if procedure else api.press(SECRETARY, "跳过"))
    if record is None:
        await api.press(SECRETARY, "跳过")
    else:  # a photo of the minutes
        since = len(api.calls)
        api.push_document(SECRETARY, record, b"\xff\xd8\xff\xe0minutes", mime_type="image/jpeg")
        await api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == SECRETARY, since=since)
        calls = await api.press(SECRETARY, "完成")
        assert "会议记录：1 个文件" in texts(calls)
    return await api.press(SECRETARY, "✅ 确认")


async def _log_study(api: FakeBotApi, user: int, form: str, content: str, *,
                     makeup: bool = False) -> list:
    """/study today for two hours; with ``makeup``, as the make-up of the one meeting offered."""
    calls = await api.say(user, "/study")
    if makeup:
        (label,) = [b for c in calls for b in c.button_labels() if b.startswith("补学：")]
        await api.press(user, label)
    await api.press(user, form)
    await api.press(user, "今天")
    await api.press(user, "2小时")
    await api.say(user, content)
    await api.press(user, "跳过")
    return await api.press(user, "✅ 确认")


async def test_a_meeting_recorded_once(polling: Application, api: FakeBotApi, app: App,
                                       branch: Branch, db_url: str) -> None:
    await _people(app, branch)
    calls = await api.say(SECRETARY, "/meeting")
    assert t("meeting.menu_empty") in texts(calls)

    calls = await _record(api, "支部党员大会", "1.传达学习 2.交流发言 3.书记总结", "会议记录.jpg")
    assert t("meeting.musts_ok") in texts(calls) and "实到 20/应到 20" in texts(calls)
    for name, reason in ABSENT.items():
        await api.press(SECRETARY, f"✅ {name}")
        calls = await api.press(SECRETARY, reason)
        assert any(f"❌ {name}（{reason}）" in c.button_labels() for c in calls)
    calls = await api.press(SECRETARY, "完成")
    assert "实到 17/应到 20，出席 17 人，缺席 3 人" in texts(calls)
    assert t("meeting.told_makeups") in texts(calls)

    credits = await _rows(db_url, StudyRecord, StudyRecord.meeting_id.is_not(None),
                          StudyRecord.deleted_at.is_(None))
    assert len(credits) == 17 and {c.minutes for c in credits} == {120}
    assert {c.form for c in credits} == {"三会一课"}
    notes = await _rows(db_url, OutboxMessage, OutboxMessage.kind == "meeting")
    assert sum("已为你记录" in n.payload["text"] and "2 小时" in n.payload["text"] for n in notes) == 17
    assert sorted(n.chat_id for n in notes if "补课补学" in n.payload["text"]) == ["2001", "2002", "2003"]

    # two absentees make up through /study, linked to the meeting
    for user in (2001, 2002):
        calls = await _log_study(api, user, "自学", "观看会议录像并学习会议材料", makeup=True)
        assert t("study.saved") in texts(calls)
    made_up = await _rows(db_url, StudyRecord, StudyRecord.makeup_for_id.is_not(None))
    assert len(made_up) == 2
    calls = await api.say(SECRETARY, "/meeting")
    calls = await api.press(SECRETARY, "1")
    assert "成员01（病假）：已补学" in texts(calls) and "成员03（事假）：未补学" in texts(calls)

    # the third is nudged near the end of the window, once (on its first workday)
    day = WorkCalendar().next_workday(credits[0].study_date + timedelta(days=5))
    now = at_local(day, time(9, 0), TZ)
    async with session_factory(app.engine)() as session, session.begin():
        await plan(session, now, PlanConfig(platforms=("telegram",), tz=TZ, texts=t))
        await plan(session, now + timedelta(minutes=1), PlanConfig(platforms=("telegram",), tz=TZ, texts=t))
    nudges = await _rows(db_url, OutboxMessage, OutboxMessage.kind == "makeup")
    assert [n.chat_id for n in nudges] == ["2003"]

    # an edit of the duration moves every credit
    await api.press(SECRETARY, t("meeting.action_edit"))
    await api.press(SECRETARY, "✏️ 修改")
    await api.press(SECRETARY, t("meeting.time"))
    calls = await api.say(SECRETARY, "14:30-17:00")
    assert "14:30-17:00" in texts(calls)
    calls = await api.press(SECRETARY, "✅ 确认")
    assert t("meeting.updated", changed=17).split("\n")[0] in texts(calls)
    credits = await _rows(db_url, StudyRecord, StudyRecord.meeting_id.is_not(None),
                          StudyRecord.deleted_at.is_(None))
    assert len(credits) == 17 and {c.minutes for c in credits} == {150}

    # a hand-logged duplicate of the session is caught
    calls = await _log_study(api, USER, "三会一课", "学习党的二十大精神")
    assert "重复" in texts(calls)
    calls = await api.press(USER, t("study.keep_meeting"))
    assert t("study.overlap_kept_meeting") in texts(calls)
    (lina,) = await _rows(db_url, Member, Member.name == "李娜")
    mine = await _rows(db_url, StudyRecord, StudyRecord.member_id == lina.id,
                       StudyRecord.deleted_at.is_(None))
    assert [(r.meeting_id is not None, r.minutes) for r in mine] == [(True, 150)]

    # an incomplete record is flagged at once (after the recorder says the same time slot is
    # another session, not the first one recorded twice)
    calls = await _record(api, "支委会", None, None, study="第一议题：学习习近平总书记重要讲话")
    assert "同一时段已记录了" in texts(calls) and "支部党员大会《学习贯彻党的二十大精神》" in texts(calls)
    calls = await api.press(SECRETARY, t("meeting.overlap_save"))
    assert t("meeting.musts_missing", missing="程序、记录") in texts(calls)
    await api.press(SECRETARY, "完成")

    # the monthly spot-check in /summary, and the 组织生活 sheet of the ledger
    calls = await api.say(SECRETARY, "/summary 本月")
    assert t("meeting.spot_head") in texts(calls)
    assert "支部党员大会 1/1、支委会 0/1" in texts(calls)
    await api.say(SECRETARY, "/report 台账 本月", timeout=40, settle=1.5)
    (document,) = api.documents
    rows = list(load_workbook(io.BytesIO(document.content))["组织生活"].iter_rows(min_row=3, values_only=True))
    assert rows[0][:4] == ("序号", "日期", "起止时间", "会议类型") and len(rows) == 4  # header, 2 meetings, 合计
    by_kind = {row[3]: row for row in rows[1:3]}
    # 实到, 列席, 缺席及原因, 补学, 四必有
    assert by_kind["支部党员大会"][9:14:2] == (17, "成员01（病假）、成员02（公差）、成员03（事假）", "齐全")
    assert by_kind["支委会"][9:14:2] == (1, None, "缺程序、记录")  # the committee only; an empty cell
