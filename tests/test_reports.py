"""/summary, /report and the summary API against a dataset with known counts, on SQLite and
PostgreSQL. Every figure is checked against an independent count written here, in the chat text,
the workbook (opened again with openpyxl), the docx (python-docx) and the API."""

from __future__ import annotations

import asyncio
import io
import time
import warnings
from datetime import date, datetime
from typing import Any

import docx
import pytest
from openpyxl import load_workbook
from sqlalchemy import and_, distinct, exists, func, or_, select

from bot.runtime.app import App
from handlers.core.i18n import DEFAULT_TEXTS as t
from handlers.core.i18n import Translator
from handlers.reports.documents import drafts
from handlers.reports.documents.context import StageSummaryContext
from handlers.reports.stage_summary import DraftRequest, gather
from handlers.reports.stage_summary import render as render_draft
from handlers.reports.periods import Period
from handlers.reports.summary import rollup, summary
from storage.db import session_factory
from storage.models import (
    Commitment,
    Member,
    Problem,
    ProblemEvent,
    ProblemStatus,
    ShuxueAnswer,
    StudyRecord,
    Visit,
)
from storage.queries.figures import totals
from storage.queries.scope import Scope
from storage.repositories.members import MemberRepository
from storage.vocabulary import GROUP_FORMS
from tests.chat_driver import CoreChat
from tests.conftest import Branch
from tests.report_fixture import (
    END,
    EXPECTED,
    PERIOD_ARGS,
    START,
    TZ,
    People,
    at,
    build,
)

PERIOD = Period(START, END, "range")


@pytest.fixture
async def people(app: App, branch: Branch) -> People:
    async with session_factory(app.engine)() as session, session.begin():
        found = await build(session, branch.org, branch.other, branch.secretary, branch.roster_only)
        repo = MemberRepository(session)
        for member, user in ((found.secretary, "sec"), (found.lina, "lina"), (found.stranger, "zhao"),
                             (found.office, "office")):
            await repo.bind(member, platform="test", user_id=user, display_name=member.name)
    return found


async def independent(app: App, org_id: int, member_id: int | None = None) -> dict[str, int]:
    """The figures counted here, straight from the tables, without the report code."""
    start, end = at(START, 0), at(date(2023, 11, 1), 0)
    mine = (lambda column: column == member_id) if member_id else (lambda column: column.is_not(None))
    study = and_(StudyRecord.org_id == org_id, StudyRecord.deleted_at.is_(None), mine(StudyRecord.member_id),
                 StudyRecord.study_date >= START, StudyRecord.study_date <= END)
    visit = and_(Visit.org_id == org_id, Visit.deleted_at.is_(None), mine(Visit.member_id),
                 Visit.visit_date >= START, Visit.visit_date <= END)
    listed = and_(Problem.org_id == org_id, Problem.deleted_at.is_(None), mine(Problem.reporter_id),
                  Problem.status != ProblemStatus.rejected, Problem.created_at < end)
    reached = exists().where(ProblemEvent.problem_id == Problem.id,
                             ProblemEvent.to_status == ProblemStatus.rectifying)
    closed_event = exists().where(ProblemEvent.problem_id == Problem.id, ProblemEvent.at >= start,
                                  ProblemEvent.at < end, ProblemEvent.to_status == ProblemStatus.closed)
    answers = and_(ShuxueAnswer.org_id == org_id, mine(ShuxueAnswer.member_id),
                   ShuxueAnswer.period_start >= START, ShuxueAnswer.period_start <= END)
    sessions = select(StudyRecord.form, StudyRecord.study_date).where(
        study, StudyRecord.form.in_(GROUP_FORMS)).distinct().subquery()
    reported = or_(exists().where(StudyRecord.member_id == Member.id, study),
                   exists().where(Visit.member_id == Member.id, visit))
    queries = {
        "members": select(func.count()).select_from(Member).where(Member.org_id == org_id, Member.active,
                                                                  mine(Member.id)),
        "reported": select(func.count()).select_from(Member).where(Member.org_id == org_id, Member.active,
                                                                   mine(Member.id), reported),
        "study_minutes": select(func.coalesce(func.sum(StudyRecord.minutes), 0)).where(study),
        "group_sessions": select(func.count()).select_from(sessions),
        "group_attendances": select(func.count()).select_from(StudyRecord).where(
            study, StudyRecord.form.in_(GROUP_FORMS)),
        "visits": select(func.count()).select_from(Visit).where(visit),
        "solved": select(func.coalesce(func.sum(Visit.solved_count), 0)).where(visit),
        "problems_found": select(func.count()).select_from(Problem).where(listed, Problem.created_at >= start),
        "problems_listed": select(func.count()).select_from(Problem).where(listed),
        "problems_accepted": select(func.count()).select_from(Problem).where(listed, or_(reached, Problem.status.in_(
            (ProblemStatus.rectifying, ProblemStatus.closure_requested, ProblemStatus.closed)))),
        "problems_closed": select(func.count()).select_from(Problem).where(listed, Problem.status == ProblemStatus.closed),
        "closed_in_period": select(func.count()).select_from(Problem).where(
            listed, Problem.status == ProblemStatus.closed, closed_event),
        "shuxue_answers": select(func.count()).select_from(ShuxueAnswer).where(answers),
        "shuxue_periods": select(func.count(distinct(ShuxueAnswer.period_start))).where(answers),
        "commitments": select(func.count(distinct(Commitment.member_id))).where(
            Commitment.org_id == org_id, Commitment.deleted_at.is_(None), mine(Commitment.member_id)),
        "commitments_kept": select(func.count(distinct(Commitment.member_id))).where(
            Commitment.org_id == org_id, Commitment.deleted_at.is_(None), Commitment.kept,
            mine(Commitment.member_id)),
    }
    async with session_factory(app.engine)() as session:
        return {name: int(await session.scalar(query) or 0) for name, query in queries.items()}


def hours(minutes: int) -> str:
    return f"{round(minutes / 60, 1):g}"


def rate(done: int, of: int) -> str:
    return f"{round(done / of * 100)}%" if of else "—"


async def test_branch_figures_match_independent_counts(app: App, people: People) -> None:
    counted = await independent(app, people.org.id)
    assert {k: counted[k] for k in counted} == {k: EXPECTED[k] for k in counted}
    async with session_factory(app.engine)() as session:
        got = (await totals(session, Scope((people.org.id,)), PERIOD, TZ, by_org=False))[0]
        per_branch = await totals(session, Scope(None), PERIOD, TZ, by_org=True)
    assert (got.members, got.reported, got.study_minutes, got.group_sessions, got.group_attendances,
            got.reading_days, got.visits, got.solved, got.topics, got.problems_found, got.problems_listed,
            got.problems_accepted, got.problems_closed, got.problems_closed_in_period, got.shuxue_answers,
            got.shuxue_periods, got.shuxue_streak, got.commitments, got.commitments_kept) == tuple(
        EXPECTED[k] for k in ("members", "reported", "study_minutes", "group_sessions", "group_attendances",
                              "reading_days", "visits", "solved", "topics", "problems_found",
                              "problems_listed", "problems_accepted", "problems_closed", "closed_in_period",
                              "shuxue_answers", "shuxue_periods", "shuxue_streak", "commitments",
                              "commitments_kept"))
    assert got.rectification_rate == counted["problems_closed"] / counted["problems_accepted"]
    assert per_branch[people.org.id] == got  # grouped by branch: the same figures
    other = await independent(app, people.other.id)
    assert per_branch[people.other.id].study_minutes == other["study_minutes"] == 90
    assert people.office.org_id not in per_branch  # the office is no branch


async def test_secretary_summary_in_chat(app: App, people: People) -> None:
    n = await independent(app, people.org.id)
    chat = CoreChat(app.core, "sec", "王书记")
    await chat.say(f"/summary {PERIOD_ARGS}")
    text = chat.text
    assert text.startswith("📊 机关第一党支部 · 自定时段（2023-10-01 至 2023-10-31）")
    assert f"学习 {hours(n['study_minutes'])} 小时" in text
    assert f"集中学习 {n['group_sessions']} 次、{n['group_attendances']} 人次" in text
    assert f"调研走访 {n['visits']} 次" in text and f"现场解决问题 {n['solved']} 个" in text
    assert (f"查摆问题 {n['problems_found']} 个，本期销号 {n['closed_in_period']} 个；整改率 "
            f"{rate(n['problems_closed'], n['problems_accepted'])}（已销号 {n['problems_closed']}/已确认 "
            f"{n['problems_accepted']}）") in text
    assert f"述学 {n['shuxue_answers']} 份" in text
    assert f"承诺已兑现 {n['commitments_kept']}/{n['commitments']} 人" in text
    assert f"参与 {n['reported']}/{n['members']} 人（{rate(n['reported'], n['members'])}）" in text
    assert "未报送：党员3、党员4、党员5、党员6、党员7、党员8" in text and "党员9" not in text
    assert "赵敏" not in text  # another branch
    # The previous period (2023-08-31…2023-09-30): 李娜's 30 minutes of 自学 and one visit.
    assert "学习 11.5 小时（较上期 +11）" in text and "调研走访 3 次（较上期 +2）" in text
    # Ten members: two pages, with buttons.
    assert "— 第 1/2 页 —" in text and "1. 王书记：" in text and "9. 党员7" not in text
    assert chat.labels == [t("report.next_page")]
    await chat.press(t("report.next_page"))
    assert chat.notice is None, chat.notice
    (page,) = chat.replies
    assert page.edit and "— 第 2/2 页 —" in page.text and "9. 党员7：未登记学习" in page.text
    assert chat.labels == [t("report.prev_page")]
    for line in text.splitlines():
        assert len(line) <= 120  # fits a phone: short lines


async def test_member_sees_only_their_own(app: App, people: People) -> None:
    n = await independent(app, people.org.id, people.lina.id)
    chat = CoreChat(app.core, "lina", "李娜")
    await chat.say(f"/summary {PERIOD_ARGS}")
    text = chat.text
    assert text.startswith("📊 李娜 · ")
    assert f"学习 {hours(n['study_minutes'])} 小时" in text and "读书班 4" in text
    assert f"调研走访 {n['visits']} 次" in text and f"述学 {n['shuxue_answers']} 份" in text
    assert f"查摆问题 {n['problems_found']} 个，本期销号 {n['closed_in_period']} 个" in text
    assert "王书记" not in text and "未报送" not in text
    await chat.say("/summary all")
    assert chat.text == t("report.office_only")
    await chat.say("/summary 机关第二党支部")
    assert chat.text == t("report.not_allowed")
    await chat.say("/summary 2023-10-31 2023-10-01")
    assert t("report.period_reversed") in chat.text and "/summary 本周" in chat.text
    await chat.say("/summary 明年某天")
    assert t("report.bad_period") in chat.text
    group = CoreChat(app.core, "lina", "李娜", chat_id="-100", private=False)
    await group.say("/summary")
    assert group.text == t("report.private_only")


async def test_forged_paging_button_shows_nothing_of_another_branch(app: App, people: People) -> None:
    chat = CoreChat(app.core, "sec", "王书记")
    await chat.press_data(f"r:b:{people.other.id}:range:20231001:20231031:1")
    assert chat.replies == [] and chat.notice == t("report.not_allowed")
    await chat.press_data("r:a:range:20231001:20231031:1")
    assert chat.notice == t("report.not_allowed")
    await chat.press_data("r:b:nonsense")
    assert chat.notice == t("button.stale")
    await chat.press_data(f"r:b:{people.org.id}:bogus:20231001:20231031:1")
    assert chat.notice == t("button.stale")


async def test_office_rollup_laggards_first(app: App, people: People) -> None:
    chat = CoreChat(app.core, "office", "马主任")
    await chat.say(f"/summary all {PERIOD_ARGS}")
    text = chat.text
    first, second = text.index("机关第一党支部"), text.index("机关第二党支部")
    assert first < second  # 40% participation before 100%
    n = await independent(app, people.org.id)
    assert (f"1. 机关第一党支部：{rate(n['reported'], n['members'])}｜"
            f"{round(n['study_minutes'] / 60 / n['members'], 1):g} 小时｜走访 {n['visits']}｜"
            f"问题 {n['problems_listed']}（{rate(n['problems_closed'], n['problems_accepted'])}）｜述学 3 期") in text
    async with session_factory(app.engine)() as session:
        rows = await rollup(session, PERIOD, TZ)
    assert [row.name for row in rows] == ["机关第一党支部", "机关第二党支部"]
    await chat.say(f"/summary 机关第二党支部 {PERIOD_ARGS}")
    assert chat.text.startswith("📊 机关第二党支部") and "赵敏" in chat.text


async def _report(app: App, user: str, name: str, args: str) -> CoreChat:
    chat = CoreChat(app.core, user, name)
    await chat.say(f"/report {args}")
    return chat


def _document(chat: CoreChat, suffix: str) -> bytes:
    (doc,) = [r.document for r in chat.replies if r.document and r.document.file_name.endswith(suffix)]
    return doc.content


def _data(sheet: Any) -> list[tuple[Any, ...]]:
    """A ledger sheet's rows between its three header rows and its 合计 row, without 序号."""
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    if rows and rows[-1][0] == "合计":
        rows = rows[:-1]
    return [row[1:] for row in rows]


async def test_report_workbook_and_docx_figures(app: App, people: People) -> None:
    n = await independent(app, people.org.id)
    chat = await _report(app, "sec", "王书记", f"台账 总结 {PERIOD_ARGS}")
    assert chat.replies[0].text.startswith("⏳ 正在生成报表")
    progress = [r.text for r in chat.replies if r.edit]
    assert "… 生成 Excel 台账" in progress[1] and progress[-1] == t("report.done", count=2)
    book = load_workbook(io.BytesIO(_document(chat, ".xlsx")))
    assert book.sheetnames == ["汇总", "学习台账", "调研走访台账", "问题清单", "承诺践诺", "述学记录", "组织生活"]
    study = book["学习台账"]
    assert study["A1"].value == "机关第一党支部学习台账" and "2023年10月1日至10月31日" in study["A2"].value
    assert [c.value for c in study[3]][:5] == ["序号", "日期", "姓名", "学习形式", "时长\n（小时）"]
    rows = _data(study)
    assert len(rows) == 8 and [r[0] for r in rows] == sorted(r[0] for r in rows)  # in date order
    assert isinstance(rows[0][0], datetime | date) and isinstance(rows[0][3], float | int)
    assert round(sum(r[3] for r in rows) * 60) == n["study_minutes"]
    assert [c.value for c in study[4 + len(rows)]][:2] == ["合计", "共8条"]
    visits = _data(book["调研走访台账"])
    assert len(visits) == n["visits"] and sum(r[6] for r in visits) == n["solved"]
    problems = _data(book["问题清单"])
    assert len(problems) == 6  # the five listed and the rejected one, not the deleted one
    assert [r[0] for r in problems] == [f"机关一-{i:03d}" for i in range(1, 7)]
    assert sum(1 for r in problems if r[11] == "已销号") == n["problems_closed"]
    assert all(r[12] is None for r in problems if r[11] != "已销号")  # a 销号日期 only while closed
    assert len(_data(book["述学记录"])) == n["shuxue_answers"]
    assert len(_data(book["承诺践诺"])) == n["commitments"]
    figures = {r[0]: r[1] for r in _data(book["汇总"])}
    assert figures["学习时长（小时）"] == round(n["study_minutes"] / 60, 1)
    assert figures["集中学习次数"] == n["group_sessions"] and figures["集中学习参与人次"] == n["group_attendances"]
    assert figures["调研走访次数"] == n["visits"] and figures["帮助群众解决问题数"] == n["solved"]
    assert figures["本期查摆问题数"] == n["problems_found"] and figures["已销号问题数"] == n["problems_closed"]
    assert figures["整改率"] == n["problems_closed"] / n["problems_accepted"]
    assert book["汇总"].cell(row=4 + list(figures).index("整改率"), column=3).number_format == "0%"
    assert figures["述学份数"] == n["shuxue_answers"] and figures["承诺已兑现人数"] == n["commitments_kept"]

    text = "\n".join(p.text for p in docx.Document(io.BytesIO(_document(chat, ".docx"))).paragraphs)
    for heading in ("一、总体开展情况", "二、重点工作开展情况", "（一）开展理论学习", "（二）深化调查研究",
                    "（三）认真检视整改", "（四）严格组织生活", "三、存在不足", "四、下一步计划"):
        assert heading in text
    assert "X" not in text and "Ｘ" not in text and "{" not in text
    assert t("doc.some_reported", members=n["members"], reported=n["reported"],
             rate=rate(n["reported"], n["members"])) in text
    assert f"累计开展调研走访{n['visits']}次，帮助企业群众解决问题{n['solved']}个" in text
    assert f"问题清单共{n['problems_listed']}个问题" in text
    assert f"（其中已销号{n['problems_closed']}个），整改率{rate(n['problems_closed'], n['problems_accepted'])}" in text
    assert f"共收到述学{n['shuxue_answers']}份" in text
    assert "2023年10月1日" in text and "2023-10" not in text
    assert "赵敏" not in text and "机关第二党支部" not in text


async def test_docx_says_plainly_what_is_missing(app: App, branch: Branch) -> None:
    request = DraftRequest(Scope((branch.org.id,)), "机关第一党支部", PERIOD, TZ, END, office=False)
    async with session_factory(app.engine)() as session:
        content = render_draft(t, await gather(t, session, request))
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(content)).paragraphs)
    for key in ("doc.study_none", "doc.research_none", "doc.problems_none", "doc.org_life_none"):
        assert t(key) in text
    assert "整改率" not in text and "X" not in text  # no rate without problems
    assert "补课补学" not in text and "销号一个" not in text


async def test_member_report_has_only_their_rows(app: App, people: People) -> None:
    chat = await _report(app, "lina", "李娜", f"xlsx docx {PERIOD_ARGS}")
    book = load_workbook(io.BytesIO(_document(chat, ".xlsx")))
    for sheet in book.sheetnames[1:]:
        column = {"问题清单": 2, "组织生活": None}.get(sheet, 1)
        if column is not None:
            assert {row[column] for row in _data(book[sheet])} <= {"李娜"}, sheet
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(_document(chat, ".docx"))).paragraphs)
    assert text.startswith("李娜主题教育个人学习总结") and "本人" in text
    assert "参与率" not in text and "共有党员" not in text and "督促" not in text


def test_chart_renders_with_a_cjk_font() -> None:
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font
    from PIL import Image

    from handlers.reports.documents import charts

    weeks = charts.mondays(date(2023, 10, 9), date(2023, 10, 22))
    chart = charts.WeeklyChart("机关第一党支部", weeks, (
        charts.WeeklySeries("机关第一党支部", {weeks[0]: 3.5}, {weeks[0]: 2}),), date(2023, 11, 1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = charts.weekly_png(t, chart)
    assert not [w for w in caught if "missing from font" in str(w.message) or "Glyph" in str(w.message)]
    assert png.startswith(b"\x89PNG") and Image.open(io.BytesIO(png)).size == (1100, 825)
    found = font_manager.findfont(font_manager.FontProperties(family=charts.cjk_font()),
                                  fallback_to_default=False)
    assert str(found).endswith("NotoSansCJK-Regular.ttc") and "site-packages" in str(found)
    face = FT2Font(found, face_index=getattr(found, "face_index", 0))
    assert face.family_name == "Noto Sans CJK SC"
    for char in "机关第一党支部每周学习时长调研走访问题整改已销号":
        assert face.get_char_index(ord(char)) != 0, char


async def test_report_does_not_block_other_users(app: App, people: People, branch: Branch,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    real = drafts.render_stage_summary

    def slow(t: Translator, context: StageSummaryContext, template: object = None) -> bytes:
        time.sleep(1.0)  # a big document, in its worker thread
        return real(t, context, template)  # type: ignore[arg-type]

    monkeypatch.setattr(drafts, "render_stage_summary", slow)
    from tests.chat_driver import Incoming

    outcome = await app.core.handle(Incoming(platform="test", user_id="sec", user_name="王书记",
                                             chat_id="sec", is_private=True, text="/report 总结"))
    assert outcome.followup is not None
    replies = []

    async def drain() -> None:
        async for reply in outcome.followup:  # type: ignore[union-attr]
            replies.append(reply)

    job = asyncio.create_task(drain())
    await asyncio.sleep(0.2)  # the report is rendering now
    other = CoreChat(app.core, "lina", "李娜")
    started = time.monotonic()
    await other.say("/study")
    await other.press("自学")
    assert "哪天学习的" in other.text
    assert time.monotonic() - started < 0.5 and not job.done()
    await job
    assert any(r.document for r in replies)


def test_periods_and_the_one_before() -> None:
    from handlers.core.parsing import InvalidInput
    from handlers.reports.periods import CampaignSpan, parse_period, previous

    today = date(2023, 11, 15)  # a Wednesday
    month = parse_period([], today, None)
    assert (month.start, month.end, month.kind) == (date(2023, 11, 1), today, "this_month")
    assert (previous(month).start, previous(month).end) == (date(2023, 10, 1), date(2023, 10, 15))
    last = parse_period(["上月"], today, None)
    assert (last.start, last.end) == (date(2023, 10, 1), date(2023, 10, 31))
    assert (previous(last).start, previous(last).end) == (date(2023, 9, 1), date(2023, 9, 30))
    week = parse_period(["本周"], today, None)
    assert (week.start, previous(week).start, previous(week).end) == (
        date(2023, 11, 13), date(2023, 11, 6), date(2023, 11, 8))
    assert parse_period(["全程"], today, CampaignSpan(date(2023, 9, 15))).start == date(2023, 9, 15)
    span = parse_period(["2023-10-01", "10月10日"], today, None)
    assert (span.days, previous(span).start, previous(span).end) == (10, date(2023, 9, 21), date(2023, 9, 30))
    for words in (["明天见"], ["2023-10-01"] * 3, ["2020-01-01", "2023-10-01"]):
        with pytest.raises(InvalidInput):
            parse_period(words, today, None)
