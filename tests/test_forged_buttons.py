"""Button data checked against real periods and limits (#11 item 5), and a member's own /report
holding only their own data, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from docx import Document
from openpyxl import load_workbook

from bot.runtime.app import App
from handlers.core.buttons import RemindAgain, ReportPage
from handlers.core.i18n import DEFAULT_TEXTS as t
from handlers.reports.periods import (
    MAX_DAYS,
    last_month,
    last_week,
    this_month,
    this_week,
)
from storage.db import session_factory
from storage.models import Meeting, MeetingAttendance, OutboxMessage, Role, StudyRecord
from storage.repositories.shuxue import ShuxueRepository
from tests.conftest import Branch
from tests.joining import add_member, bound_chat
from tests.test_dialogs import TODAY, rows
from tests.test_shuxue import round_two_days_ago


def page(org_id: int | None, kind: str, start: date, end: date, number: int = 1) -> str:
    head = "r:a" if org_id is None else f"r:b:{org_id}"
    return f"{head}:{kind}:{start:%Y%m%d}:{end:%Y%m%d}:{number}"


async def test_report_pages_name_only_periods_a_summary_could_show(app: App, branch: Branch) -> None:
    secretary = await bound_chat(app, branch.secretary, "7")
    today, org = TODAY(), branch.org.id
    real = [this_week(today), this_month(today), last_week(today), last_month(today)]
    for period in real:
        await secretary.press_data(ReportPage(org, period.kind, period.start, period.end, 1).pack())
        assert secretary.notice is None and secretary.replies[0].edit, period
    for data in (page(org, "campaign", today - timedelta(days=40), today),
                 page(org, "range", date(2023, 10, 1), date(2023, 10, 31)),
                 page(org, "this_month", today.replace(day=1), today, 9999)):  # the last page
        await secretary.press_data(data)
        assert secretary.notice is None, data
    forged = [
        "r:b:%d:range:00010101:00010102:1" % org,  # OverflowError before: the period before it
        "r:a:range:00010101:99991231:1",
        page(org, "range", date(2023, 10, 31), date(2023, 10, 1)),  # reversed
        page(org, "range", date(2000, 1, 1), date(2099, 12, 31)),  # 100 years
        page(org, "range", date(2020, 1, 1), date(2020, 1, 1) + timedelta(days=MAX_DAYS)),
        page(org, "this_week", today - timedelta(days=today.weekday() + 1), today),  # not a Monday
        page(org, "this_week", today - timedelta(days=today.weekday()), today + timedelta(days=1)),
        page(org, "this_month", today.replace(day=1) + timedelta(days=40), today + timedelta(days=41)),
        page(org, "last_week", today - timedelta(days=today.weekday()), today + timedelta(days=6)),
        page(org, "last_month", date(2023, 10, 1), date(2023, 10, 30)),  # not to the month's end
        page(org, "campaign", date(2023, 1, 1), today + timedelta(days=1)),  # ends after today
        page(org, "previous", date(2023, 10, 1), date(2023, 10, 31)),  # no button names it
        page(org, "nonsense", date(2023, 10, 1), date(2023, 10, 31)),
    ]
    for data in forged:
        await secretary.press_data(data)
        assert secretary.replies == [] and secretary.notice == t("button.stale"), data


async def test_remind_again_only_for_the_round_in_progress(app: App, branch: Branch) -> None:
    secretary = await bound_chat(app, branch.secretary, "7")
    await bound_chat(app, branch.roster_only, "1001")
    period = await round_two_days_ago(app, branch)
    forged = [period - timedelta(days=7 * k) for k in range(1, 7)]  # earlier rounds, real days
    forged += [period + timedelta(days=7), period + timedelta(days=1), period - timedelta(days=1),
               TODAY(), TODAY() + timedelta(days=365), date(2000, 1, 3)]
    assert len(forged) == 12
    for day in forged:
        await secretary.press_data(RemindAgain(branch.org.id, day).pack())
        assert secretary.notice == t("button.stale"), day
    assert await rows(app, OutboxMessage, OutboxMessage.kind == "shuxue_remind") == []
    await secretary.press_data(RemindAgain(branch.other.id, period).pack())
    assert secretary.notice == t("push.not_your_branch")
    await secretary.press_data(RemindAgain(branch.org.id, period).pack())
    assert secretary.notice == t("push.renudged", count=2)
    assert len(await rows(app, OutboxMessage, OutboxMessage.kind == "shuxue_remind")) == 2


async def test_remind_again_before_the_digest_went_out_is_stale(app: App, branch: Branch) -> None:
    secretary = await bound_chat(app, branch.secretary, "7")
    async with session_factory(app.engine)() as session, session.begin():  # a round begun today
        await ShuxueRepository(session).set_schedule(branch.org.id, weekday=TODAY().weekday(),
                                                     remind_after_days=1, remind_time="18:00")
    await secretary.press_data(RemindAgain(branch.org.id, TODAY()).pack())
    assert secretary.notice == t("button.stale")


@pytest.fixture
async def meetings(app: App, branch: Branch) -> dict[str, object]:
    """Two meetings of the branch: at the first 刘洋 was away sick, 李娜 present; at the second
    李娜 was away on business. 刘洋 and 张伟 also logged study of their own."""
    liu = await add_member(app, branch.org.id, "刘洋")
    zhang = await add_member(app, branch.org.id, "张伟", Role.committee)
    day = TODAY() - timedelta(days=3)
    async with session_factory(app.engine)() as session, session.begin():
        first = Meeting(org_id=branch.org.id, kind="支部党员大会", day=day, starts="14:30", ends="16:30",
                        topic="学习二十大精神", host="王书记", recorder="张伟", procedure="一、学习",
                        record_text="会议记录", created_by_id=branch.secretary.id)
        second = Meeting(org_id=branch.org.id, kind="党小组会", day=day + timedelta(days=1),
                         topic="检视问题", host="王书记", created_by_id=branch.secretary.id)
        session.add_all([first, second])
        await session.flush()
        session.add_all([
            MeetingAttendance(meeting_id=first.id, member_id=branch.roster_only.id),
            MeetingAttendance(meeting_id=first.id, member_id=branch.secretary.id),
            MeetingAttendance(meeting_id=first.id, member_id=liu.id, present=False, absence_reason="病假"),
            MeetingAttendance(meeting_id=second.id, member_id=branch.roster_only.id, present=False,
                              absence_reason="公差"),
            MeetingAttendance(meeting_id=second.id, member_id=zhang.id, present=False,
                              absence_reason="事假"),
            *[StudyRecord(member_id=m.id, org_id=branch.org.id, form="自学", study_date=day, minutes=60,
                          content=f"{m.name}的学习内容", reflection=None) for m in (liu, zhang)],
        ])
    return {"liu": liu, "zhang": zhang}


async def report_files(chat: object) -> dict[str, bytes]:
    await chat.say("/report xlsx docx")  # type: ignore[attr-defined]
    return {r.document.file_name.rsplit(".", 1)[1]: r.document.content
            for r in chat.replies if r.document is not None}  # type: ignore[attr-defined]


def workbook_text(content: bytes) -> dict[str, str]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return {sheet.title: "\n".join(" ".join("" if c is None else str(c) for c in row)
                                   for row in sheet.iter_rows(values_only=True))
            for sheet in book.worksheets}


def document_text(content: bytes) -> str:
    document = Document(io.BytesIO(content))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


async def test_a_members_own_report_holds_only_their_own_data(app: App, branch: Branch,
                                                              meetings: dict[str, object]) -> None:
    member = await bound_chat(app, branch.roster_only, "1001")
    files = await report_files(member)
    assert set(files) == {"xlsx", "docx"}
    sheets = workbook_text(files["xlsx"])
    org_life = sheets[t("doc.xl_sheet_meetings")]
    assert "学习二十大精神" in org_life and "检视问题" in org_life  # the meetings she was listed at
    assert "李娜（公差）" in org_life  # her own absence
    everything = "\n".join(sheets.values()) + document_text(files["docx"])
    for colleague in ("刘洋", "张伟的学习内容", "病假", "事假"):
        assert colleague not in everything, colleague
    secretary = await bound_chat(app, branch.secretary, "7")
    branch_files = await report_files(secretary)
    branch_sheet = workbook_text(branch_files["xlsx"])[t("doc.xl_sheet_meetings")]
    assert "刘洋（病假）" in branch_sheet and "张伟（事假）" in branch_sheet  # the branch's: everyone

