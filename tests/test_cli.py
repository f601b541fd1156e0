"""The `branchbot` command line, run as a real process against real database files."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook

from bot.adapters.console import PLATFORM as CONSOLE
from bot.runtime.app import App
from handlers.core.i18n import DEFAULT_TEXTS as t
from handlers.membership.roster import RosterError, import_roster
from handlers.schedule.audience import load_audience
from handlers.schedule.planner import shuxue_reminder
from storage.db import create_engine, session_factory
from storage.repositories.outbox import OutboxRepository
from storage.types import utcnow
from storage.models import Member, Role
from tests.conftest import Branch

BRANCHBOT = [sys.executable, "-m", "bot.cli"]


def cli(tmp_path: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None,
        db: str = "bb.db") -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BRANCHBOT_")}
    full_env.update({"BRANCHBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / db}",
                     "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    full_env.update(env or {})
    return subprocess.run(BRANCHBOT + list(args), cwd=tmp_path, input=stdin, text=True,
                          capture_output=True, env=full_env, timeout=120)


@contextlib.asynccontextmanager
async def run_process(tmp_path: Path, env: dict[str, str]) -> AsyncIterator[subprocess.Popen[bytes]]:
    """`branchbot run` as its own process, configured by ``env`` alone; Ctrl-C on the way out,
    after which it must have stopped cleanly: exit code 0, no traceback in its output."""
    log = tmp_path / "bot.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=tmp_path,
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        for _ in range(200):
            if process.poll() is not None:
                break
            await asyncio.sleep(0.05)
    assert process.poll() == 0
    assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")


INFO_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO ")


def said(stderr: str) -> list[str]:
    """What a process told its operator on stderr, the INFO log of what it did before left out
    (a platform refusing the credentials answers after the process started)."""
    return [line for line in stderr.strip().splitlines() if not INFO_LINE.match(line)]


def query(tmp_path: Path, sql: str, db: str = "bb.db") -> list[tuple]:
    with sqlite3.connect(tmp_path / db) as connection:
        return connection.execute(sql).fetchall()


def _queue_shuxue_reminder(tmp_path: Path, name: str) -> None:
    """Queue the reminder the planner sends on a round's reminder day, due now (the demo's own
    rhythm puts it at Tuesday 18:00, inside or outside quiet hours depending on when tests run)."""

    async def queue() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'bb.db'}")
        try:
            async with session_factory(engine)() as session, session.begin():
                today = utcnow().date()
                audience = await load_audience(session, (CONSOLE,), today)
                person = next(p for b in audience.branches for p in b.people if p.name == name)
                period = today - timedelta(days=today.weekday())
                reminder = shuxue_reminder(t, "shuxue_remind", person, period,
                                           utcnow() - timedelta(minutes=1))
                assert await OutboxRepository(session).enqueue([reminder]) == 1
        finally:
            await engine.dispose()

    asyncio.run(queue())


def test_demo_then_chat_through_a_pipe(tmp_path: Path) -> None:
    created = cli(tmp_path, "demo", "--no-chat")
    assert created.returncode == 0, created.stderr
    assert "已创建示例数据" in created.stdout and "机关第一党支部：邀请码" in created.stdout
    again = cli(tmp_path, "demo", "--no-chat")
    assert "示例数据已存在" in again.stdout
    before = query(tmp_path, "select count(*) from study_records")[0][0]
    assert before > 20  # a month of records
    # A 述学 reminder is due for 李娜: it is pushed as the chat starts, whenever it lands its button
    # is #1, and the dialog's own numbers and letters keep their meaning ("2" at 时长 is 2 hours).
    _queue_shuxue_reminder(tmp_path, "李娜")
    script = "\n".join(["/study", "1", "A", "2", "A", "学以致用", "1", "/quit"]) + "\n"
    chat = cli(tmp_path, "chat", "--as", "李娜", stdin=script)
    assert chat.returncode == 0, chat.stderr
    assert "[1] 集中学习" in chat.stdout and "学习时长：2小时" in chat.stdout
    assert "[#1] 填写述学" in chat.stdout and "1/3 自学情况" not in chat.stdout  # 述学 not opened
    assert "学习记录已保存" in chat.stdout
    rows = query(tmp_path, "select s.minutes, s.reflection from study_records s join members m "
                           "on m.id = s.member_id where m.name='李娜' order by s.id desc limit 1")
    assert rows == [(120, "学以致用")]
    assert query(tmp_path, "select count(*) from study_records")[0][0] == before + 1


def test_db_recount_restores_the_daily_tallies(tmp_path: Path) -> None:
    cli(tmp_path, "demo", "--no-chat")
    minutes = "select coalesce(sum(minutes), 0) from study_records where deleted_at is null"
    tallied = "select coalesce(sum(study_minutes), 0), count(*) from daily_tallies"
    (live,) = query(tmp_path, minutes)[0]
    assert live > 0 and query(tmp_path, tallied)[0][0] == live  # the demo's records were tallied
    days = query(tmp_path, tallied)[0][1]
    with sqlite3.connect(tmp_path / "bb.db") as connection:  # someone edits the database by hand
        connection.execute("delete from daily_tallies where rowid % 2 = 0")
    assert query(tmp_path, tallied)[0][0] < live
    result = cli(tmp_path, "db", "recount")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"每日汇总已按全部记录重新统计：{days} 个支部日。"
    assert query(tmp_path, tallied)[0] == (live, days)


def test_db_recount_before_the_schema_exists(tmp_path: Path) -> None:
    result = cli(tmp_path, "db", "recount")
    assert result.returncode == 1 and "branchbot db upgrade" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_chat_as_someone_not_on_the_roster(tmp_path: Path) -> None:
    cli(tmp_path, "demo", "--no-chat")
    result = cli(tmp_path, "chat", "--as", "不存在的人")
    assert result.returncode == 1 and "名册中没有“不存在的人”" in result.stderr
    assert "Traceback" not in result.stderr


def test_org_add_branch_and_list(tmp_path: Path) -> None:
    assert cli(tmp_path, "db", "upgrade").returncode == 0
    added = cli(tmp_path, "org", "add-branch", "机关第一党支部", "--parent", "机关党委",
                env={"BRANCHBOT_TELEGRAM_BOT_USERNAME": "bb_bot"})
    assert added.returncode == 0, added.stderr
    code = query(tmp_path, "select invite_code from organizations where name='机关第一党支部'")[0][0]
    assert f"邀请码：{code}" in added.stdout and f"https://t.me/bb_bot?start={code}" in added.stdout
    assert cli(tmp_path, "org", "add-branch", "机关第二党支部", "--parent", "机关党委").returncode == 0
    duplicate = cli(tmp_path, "org", "add-branch", "机关第一党支部")
    assert duplicate.returncode == 1 and "已经存在" in duplicate.stderr
    listing = cli(tmp_path, "org", "list").stdout.splitlines()
    assert listing[0] == "机关党委（0人）"
    assert listing[1].startswith("  机关第一党支部（0人）  邀请码 ")


def _write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> None:
    with path.open("w", newline="", encoding=encoding) as handle:
        csv.writer(handle).writerows(rows)


def test_member_import_all_or_nothing(tmp_path: Path) -> None:
    cli(tmp_path, "db", "upgrade")
    cli(tmp_path, "org", "add-branch", "机关第一党支部")
    bad = tmp_path / "roster.xlsx"
    book = Workbook()
    sheet = book.active
    for row in (["姓名", "支部", "角色"], ["王建国", "机关第一党支部", "支部书记"],
                ["李娜", "机关第一党支部", "群众"], ["", "机关第一党支部", "党员"],
                ["刘洋", "不存在支部", "党员"]):
        sheet.append(row)
    book.save(bad)
    refused = cli(tmp_path, "member", "import", str(bad))
    assert refused.returncode == 1
    assert "第3行：角色“群众”无法识别" in refused.stderr and "第4行：姓名为空" in refused.stderr
    assert query(tmp_path, "select count(*) from members") == [(0,)]
    good = tmp_path / "roster.csv"
    _write_csv(good, [["姓名", "支部", "角色"], ["王建国", "机关第一党支部", "支部书记"],
                      ["李娜", "机关第一党支部", "党员"], ["", "", ""]], encoding="gb18030")
    imported = cli(tmp_path, "member", "import", str(good))
    assert imported.returncode == 0, imported.stderr
    assert "新增 2 人" in imported.stdout
    assert query(tmp_path, "select name, role from members order by id") == [
        ("王建国", "secretary"), ("李娜", "member")]
    unknown = tmp_path / "unknown.csv"
    _write_csv(unknown, [["姓名", "支部", "角色"], ["刘洋", "不存在支部", "党员"]])
    result = cli(tmp_path, "member", "import", str(unknown))
    assert "第2行：支部“不存在支部”不存在" in result.stderr
    assert query(tmp_path, "select count(*) from members") == [(2,)]


def test_run_refuses_an_out_of_date_schema_and_a_missing_token(tmp_path: Path) -> None:
    no_token = cli(tmp_path, "run")
    assert no_token.returncode == 1 and "BRANCHBOT_TELEGRAM_TOKEN" in no_token.stderr
    assert len(no_token.stderr.strip().splitlines()) == 1
    stale = cli(tmp_path, "run", env={"BRANCHBOT_TELEGRAM_TOKEN": "1:x"})
    assert stale.returncode == 1 and "branchbot db upgrade" in stale.stderr
    assert "Traceback" not in stale.stderr
    listing = cli(tmp_path, "org", "list")
    assert listing.returncode == 1 and "branchbot db upgrade" in listing.stderr


def test_a_bad_setting_is_one_line(tmp_path: Path) -> None:
    result = cli(tmp_path, "org", "list", env={"BRANCHBOT_TIMEZONE": "Mars/Olympus"})
    assert result.returncode == 1 and "BRANCHBOT_TIMEZONE" in result.stderr
    assert "Traceback" not in result.stderr


def test_env_example_documents_every_setting() -> None:
    from bot.config import Settings

    text = (Path(__file__).resolve().parents[1] / ".env.example").read_text(encoding="utf-8")
    documented = {line.split("=", 1)[0] for line in text.splitlines() if line.startswith("BRANCHBOT_")}
    assert documented == {f"BRANCHBOT_{name.upper()}" for name in Settings.model_fields}


async def test_roster_import_on_both_databases(app: App, branch: Branch, tmp_path: Path) -> None:
    roster = tmp_path / "r.csv"
    _write_csv(roster, [["姓名", "所在支部", "身份"], ["李娜", "机关第一党支部", "支委"],
                        ["钱七", "机关第二党支部", "党员"]])
    async with session_factory(app.engine)() as session, session.begin():
        assert await import_roster(t, session, roster) == 1  # 李娜 exists: her role is updated
    async with session_factory(app.engine)() as session:
        li = await session.get(Member, branch.roster_only.id)
        assert li is not None and li.role is Role.committee
    broken = tmp_path / "b.csv"
    _write_csv(broken, [["姓名", "支部", "角色"], ["孙八", "机关第二党支部", "党员"],
                        ["孙八", "机关第二党支部", "党员"]])
    with pytest.raises(RosterError) as refused:
        async with session_factory(app.engine)() as session, session.begin():
            await import_roster(t, session, broken)
    assert refused.value.problems == ["第3行：孙八 在同一支部中重复出现。"]
