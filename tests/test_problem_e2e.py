"""The problem list's closed loop end to end, over real HTTP through the loopback Bot API server,
on SQLite and PostgreSQL: found on a visit, accepted, updated twice with photos, closure asked,
returned, asked again, approved, reopened; then exported and the workbook checked cell by cell."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import select
from telegram.ext import Application

from bot.runtime.app import build_app
from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.db import session_factory
from storage.queries.ledgers import problem_rows as ledger_problem_rows
from storage.queries.scope import DateRange, Scope
from storage.models import (
    OutboxMessage,
    Problem,
    ProblemEvent,
    ProblemEvidence,
    ProblemStatus,
)
from tests.botapi import FakeBotApi
from tests.conftest import Branch, make_settings
from tests.telegram_support import (
    USER,
    join,
    report_problem_on_a_visit,
    scalar_count,
    texts,
)

SECRETARY = 7
TZ = ZoneInfo("Asia/Shanghai")
JPEG = b"\xff\xd8\xff\xe0" + b"photo" * 20


def today() -> date:
    return datetime.now(TZ).date()


async def problem_rows(db_url: str) -> tuple[Problem, list[ProblemEvent], list[ProblemEvidence]]:
    bot_app = build_app(make_settings(db_url))
    try:
        async with session_factory(bot_app.engine)() as session:
            (problem,) = (await session.scalars(select(Problem))).all()
            events = list(await session.scalars(select(ProblemEvent).order_by(ProblemEvent.id)))
            evidence = list(await session.scalars(select(ProblemEvidence).order_by(ProblemEvidence.id)))
            return problem, events, evidence
    finally:
        await bot_app.close()


async def ledger_percent(db_url: str, branch: Branch) -> int | None:
    """The 完成比例 the branch's 问题清单 ledger shows for its one problem."""
    bot_app = build_app(make_settings(db_url))
    try:
        async with session_factory(bot_app.engine)() as session:
            period = DateRange(today() - timedelta(days=30), today())
            (row,) = (await session.execute(ledger_problem_rows(Scope((branch.org.id,)), period, TZ))).all()
            return row[14]  # type: ignore[no-any-return]
    finally:
        await bot_app.close()


async def send_photo(api: FakeBotApi, name: str, count: int) -> None:
    since = len(api.calls)
    api.push_document(USER, name, JPEG, mime_type="image/jpeg")
    call = await api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == USER, since=since)
    assert t("dialog.file_received", count=count).split("\n")[0] in (call.text or "")


async def open_mine(api: FakeBotApi, action: str) -> None:
    calls = await api.say(USER, "/progress")
    assert "企业招工信息发布渠道少" in calls[-1].text
    calls = await api.press(USER, "1")
    assert "处理记录" in texts(calls) and action in calls[0].button_labels()
    await api.press(USER, action)


async def open_as_secretary(api: FakeBotApi, tab: str, action: str) -> list:
    calls = await api.say(SECRETARY, "/problems")
    assert "问题清单" in calls[-1].text
    await api.press(SECRETARY, tab)
    await api.press(SECRETARY, "1")
    return await api.press(SECRETARY, action)


async def test_the_closed_loop_over_telegram(polling: Application, api: FakeBotApi, branch: Branch,
                                             db_url: str, tmp_path: Path) -> None:
    await join(api, branch.org.invite_code)
    await join(api, branch.org.invite_code, user=SECRETARY, name="王书记", username="wang_shuji")
    await report_problem_on_a_visit(api)
    calls = await api.say(USER, "/progress")
    assert texts(calls) == t("problem.progress_none")  # not accepted yet

    # accepted, with a later deadline
    calls = await open_as_secretary(api, "待确认（1）", "确认整改")
    await api.press(SECRETARY, "保持原措施")
    await api.press(SECRETARY, "李娜")
    calls = await api.press(SECRETARY, "一个月内")
    assert "责任人：李娜" in texts(calls)
    calls = await api.press(SECRETARY, "✅ 确认")
    assert t("problem.done_accept") in texts(calls)

    # two progress updates, each with a photo
    for note, percent, photo in (("已对接人社部门", "50%", "现场照片1.jpg"),
                                 ("招聘会场地已落实", "80%", "现场照片2.jpg")):
        await open_mine(api, "报告进展")
        await api.say(USER, note)
        await api.say(USER, percent)
        await send_photo(api, photo, 1)
        calls = await api.press(USER, "完成")
        assert f"佐证材料：{photo}" in texts(calls) and f"完成比例：{percent}" in texts(calls)
        calls = await api.press(USER, "✅ 确认")
        assert t("problem.done_update") in texts(calls)

    # closure asked, returned, asked again, approved
    await open_mine(api, "申请销号")
    await api.say(USER, "专场招聘会已举办")
    await api.press(USER, "跳过")
    calls = await api.press(USER, "✅ 确认")
    assert t("problem.done_request_closure") in texts(calls)
    await open_as_secretary(api, "申请销号（1）", "退回整改")
    calls = await api.say(SECRETARY, "缺少招聘会现场照片")
    assert t("problem.done_send_back") in texts(calls)
    await open_mine(api, "申请销号")
    await api.say(USER, "已补充现场照片，共42家企业参加")
    await send_photo(api, "招聘会.jpg", 1)
    await api.press(USER, "完成")
    await api.press(USER, "✅ 确认")
    calls = await open_as_secretary(api, "申请销号（1）", "批准销号")
    assert t("problem.ask_approve", problem="企业招工信息发布渠道少") in texts(calls)
    calls = await api.press(SECRETARY, t("problem.approve_yes"))
    assert t("problem.done_approve") in texts(calls)
    calls = await api.say(SECRETARY, "/problems")
    assert "已销号 1 个" in calls[-1].text and "整改率：100%" in calls[-1].text

    # reopened (回潮): history kept
    await open_as_secretary(api, "已销号（1）", "回潮，重新整改")
    await api.say(SECRETARY, "又有企业反映招工信息看不到")
    calls = await api.press(SECRETARY, "两周内")
    assert t("problem.done_reopen") in texts(calls)

    problem, events, evidence = await problem_rows(db_url)
    assert await ledger_percent(db_url, branch) is None  # came back: the 80% before 销号 is not now
    assert problem.status is ProblemStatus.rectifying and problem.owner_id == branch.roster_only.id
    assert problem.deadline == today() + timedelta(days=14)
    assert [e.action for e in events] == [
        "report", "accept", "update", "update", "request_closure", "send_back",
        "request_closure", "approve", "reopen"]
    assert [e.percent for e in events if e.action == "update"] == [50, 80]
    assert events[5].note == "缺少招聘会现场照片" and events[8].from_status is ProblemStatus.closed
    assert [(e.file_name, e.mime_type) for e in evidence] == [
        ("现场照片1.jpg", "image/jpeg"), ("现场照片2.jpg", "image/jpeg"), ("招聘会.jpg", "image/jpeg")]
    assert evidence[2].event_id == events[6].id and all(e.file_id for e in evidence)
    for chat, told in ((SECRETARY, 2), (USER, 4)):  # 申请销号 ×2; 确认, 退回, 销号, 回潮
        assert await scalar_count(db_url, OutboxMessage, OutboxMessage.kind == "problem",
                                  OutboxMessage.chat_id == str(chat)) == told

    # the card lists the history and the evidence
    await api.say(SECRETARY, "/problems")
    await api.press(SECRETARY, "整改中（1）")
    calls = await api.press(SECRETARY, "1")
    card = texts(calls)
    assert "批准销号" in card and "回潮，重新整改：又有企业反映招工信息看不到" in card
    assert "佐证材料（3）：现场照片1.jpg、现场照片2.jpg、招聘会.jpg" in card

    # /problems export in the chat, and the command line, give the same sheet
    since = len(api.documents)
    calls = await api.say(SECRETARY, "/problems export")
    assert [c.method for c in calls] == ["sendDocument"]
    (document,) = api.documents[since:]
    assert document.file_name == "问题清单.xlsx" and document.chat_id == SECRETARY
    check_workbook(document.content, problem, events)
    out = tmp_path / "问题清单.xlsx"
    result = export_by_cli(db_url, out, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 个问题" in result.stdout
    check_workbook(out.read_bytes(), problem, events)


def check_workbook(content: bytes, problem: Problem, events: list[ProblemEvent]) -> None:
    """The cells against the database: values, dates as dates, and the layout."""
    sheet = load_workbook(BytesIO(content)).active
    header = [c.value for c in sheet[1]]
    assert header[:10] == ["序号", "问题描述", "来源", "类别", "责任人", "整改措施", "完成时限",
                           "进展情况", "状态", "销号日期"]
    assert header[10:] == ["佐证材料", "所属支部"]
    assert all(c.font.bold for c in sheet[1]) and sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width >= 30 and sheet.column_dimensions["H"].width >= 40
    assert (sheet.page_setup.orientation, sheet.page_setup.fitToWidth, sheet.print_title_rows) == (
        "landscape", 1, "$1:$1")  # prints one page wide, the header on every page
    assert sheet.max_row == 2
    row = [c.value for c in sheet[2]]
    assert row[:6] == [1, problem.description, problem.source, problem.kind, problem.owner_name,
                       problem.measures]
    assert isinstance(row[6], datetime) and row[6].date() == problem.deadline
    assert sheet.cell(2, 7).number_format == "yyyy-mm-dd"
    progress = row[7]
    assert progress.startswith("最新：") and "申请销号：已补充现场照片" in progress.split("\n")[0]
    assert progress.count("报告进展") == 2 and "完成80%" in progress and "退回整改" in progress
    # printed, the row is as tall as its progress lines: none of them cut off
    assert sheet.row_dimensions[2].height >= 15 * (progress.count("\n") + 1)
    assert row[8] == "整改中" and row[11] == "机关第一党支部"
    assert row[9] is None  # reopened: no longer closed (the 销号 stays in the history)
    approved = next(e for e in events if e.action == "approve")
    assert f"{approved.at.astimezone(TZ).day}日 王书记 批准销号" in progress
    assert row[10].split("\n") == ["现场照片1.jpg", "现场照片2.jpg", "招聘会.jpg"]
    assert sheet.cell(2, 8).alignment.wrap_text


def export_by_cli(db_url: str, out: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRANCHBOT_")}
    env.update({"BRANCHBOT_DATABASE_URL": db_url,
                "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    return subprocess.run([sys.executable, "-m", "bot.cli", "problems", "export", "--out", str(out)],
                          cwd=cwd, env=env, text=True, capture_output=True, timeout=120)
