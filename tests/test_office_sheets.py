"""The office's sheets (#13 items 2, 7): pairings, research topics and past 述学 imported whole or
not at all, every bad line named in Chinese, on SQLite and PostgreSQL; the CLI as a process; the
visit dialog offering the member's paired places and, for 调研, the branch's topics, and linking
the trip to its topic."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.runtime.app import App
from handlers.core.i18n import DEFAULT_TEXTS as t
from handlers.imports.sheets import PAIRINGS, SHUXUE, TOPICS, import_sheet
from handlers.imports.tables import Refused, read_bytes
from handlers.reports.periods import Period
from storage.db import session_factory
from storage.models import Pairing, ResearchTopic, ShuxueAnswer, Visit
from storage.queries.papers import paper_figures
from storage.queries.scope import Scope
from storage.repositories.members import MemberRepository
from tests.chat_driver import CoreChat
from tests.conftest import Branch
from tests.file_samples import sheet as xlsx
from tests.joining import join_approved

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2023, 11, 9)



async def count(app: App, model: type) -> int:
    async with session_factory(app.engine)() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def run(app: App, kind: object, table: list[list[str]]) -> tuple[int, int]:
    async with session_factory(app.engine)() as session, session.begin():
        return await import_sheet(t, session, kind, table, today=TODAY, tz=TZ)  # type: ignore[arg-type]


async def refused(app: App, kind: object, table: list[list[str]]) -> list[str]:
    with pytest.raises(Refused) as error:
        await run(app, kind, table)
    return error.value.problems


async def test_pairings_imported_and_again(app: App, branch: Branch) -> None:
    table = [["支部", "姓名", "结对居村"], ["机关第一党支部", "李娜", "东明村"],
             ["机关第一党支部", "王书记", "东明村"], ["", "", ""], ["机关第一党支部", "李娜", "幸福社区"]]
    assert await run(app, PAIRINGS, table) == (3, 3)
    assert await run(app, PAIRINGS, table) == (0, 3)  # the same file again adds nothing
    assert await count(app, Pairing) == 3


async def test_pairings_bad_lines_named_and_nothing_written(app: App, branch: Branch) -> None:
    table = [["支部", "姓名", "结对居村"],
             ["机关第一党支部", "李娜", "东明村"],
             ["机关第九党支部", "李娜", "东明村"],
             ["机关第一党支部", "张三", "西村"],
             ["机关第一党支部", "李娜", ""],
             ["机关第一党支部", "李娜", "东明村"],
             ["机关第一党支部", "李娜", "村" * 101]]
    assert await refused(app, PAIRINGS, table) == [
        "第3行：支部“机关第九党支部”不存在。",
        "第4行：机关第一党支部的名册上没有“张三”，请先导入名册。",
        "第5行：“结对居村”为空。",
        "第6行：与第2行重复。",
        "第7行：“结对居村”超过100字。"]
    assert await count(app, Pairing) == 0
    assert await refused(app, PAIRINGS, [["姓名", "居住地"]]) == [
        "结对名单缺少“支部”列。第一行应为表头：支部、姓名、结对居村。"]
    assert await refused(app, PAIRINGS, []) == ["结对名单里没有数据。"]
    assert await refused(app, PAIRINGS, [["支部", "姓名", "结对居村"]]) == ["结对名单里没有数据。"]


async def test_topics_with_owners_and_dates(app: App, branch: Branch) -> None:
    table = [["支部", "课题", "负责人", "结题日期"],
             ["机关第一党支部", "老旧小区加装电梯", "王书记", "2023-11-21"],
             ["机关第一党支部", "河道保洁", "李娜", ""]]
    assert await run(app, TOPICS, table) == (2, 2)
    table[2][2] = "王书记"  # the owner changes: the same topic, updated
    assert await run(app, TOPICS, table) == (0, 2)
    async with session_factory(app.engine)() as session:
        topics = list(await session.scalars(select(ResearchTopic).order_by(ResearchTopic.id)))
    assert [(x.title, x.owner_name, x.due) for x in topics] == [
        ("老旧小区加装电梯", "王书记", date(2023, 11, 21)), ("河道保洁", "王书记", None)]
    bad = [["支部", "课题", "负责人", "结题日期"], ["机关第一党支部", "", "王书记", "下辈子"],
           ["机关第一党支部", "河道保洁", "李四", ""]]
    assert await refused(app, TOPICS, bad) == [
        "第2行：“课题”为空。", "第2行：日期“下辈子”看不懂，请写成 2023-10-09 或 10月9日。",
        "第3行：机关第一党支部的名册上没有“李四”，请先导入名册。"]


async def test_past_shuxue_gives_the_streak(app: App, branch: Branch) -> None:
    """述学 before the bot: seven weekly periods imported read "已连续7周"."""
    head = ["支部", "姓名", "述学日期", "自学情况", "调研情况", "为民办实事情况"]
    table = [head] + [["机关第一党支部", "李娜", (date(2023, 9, 18) + timedelta(weeks=w)).isoformat(),
                       "读原著", "走访社区", "帮居民"] for w in range(7)]
    assert await run(app, SHUXUE, table) == (7, 7)
    async with session_factory(app.engine)() as session:
        p = await paper_figures(session, Scope((branch.org.id,)), Period(date(2023, 9, 1), TODAY, "range"), TZ)
    assert p.shuxue_weeks == 7
    bad = [head, ["机关第一党支部", "李娜", "2099-01-01", "读原著", "走访", "帮"],
           ["机关第一党支部", "李娜", "2023-10-09", "", "走访", "帮"]]
    assert await refused(app, SHUXUE, bad) == ["第2行：日期“2099-01-01”还没到。", "第3行：“自学情况”为空。"]
    assert await count(app, ShuxueAnswer) == 7


def test_tables_from_bytes() -> None:
    assert read_bytes(t, "a.xlsx", xlsx([["支部", "姓名"], ["一支部", date(2023, 10, 9)]])) == [
        ["支部", "姓名"], ["一支部", "2023-10-09"]]
    assert read_bytes(t, "a.csv", "支部,姓名\n一支部,李娜\n".encode("gb18030"))[1] == ["一支部", "李娜"]
    for name, raw, problem in (("a.xlsx", b"not a zip", "无法读取这个 Excel 文件"),
                               ("a.pdf", b"%PDF", "不支持 .pdf 文件"),
                               ("a.csv", b"\xff\xfe\x00\xd8", "文件编码无法识别")):
        with pytest.raises(Refused) as error:
            read_bytes(t, name, raw)
        assert problem in error.value.problems[0]


async def _setup(app: App, branch: Branch) -> CoreChat:
    chat = await join_approved(app, branch.org.invite_code, "1001", "李娜", org="机关第一党支部")
    await run(app, PAIRINGS, [["支部", "姓名", "结对居村"], ["机关第一党支部", "李娜", "东明村"]])
    await run(app, TOPICS, [["支部", "课题", "负责人"], ["机关第一党支部", "老旧小区加装电梯", "王书记"]])
    return chat


async def test_visit_offers_paired_places_and_topics(app: App, branch: Branch) -> None:
    chat = await _setup(app, branch)
    await chat.say("/visit")
    await chat.press("调研")
    await chat.press("今天")
    assert "东明村" in chat.labels
    await chat.press("东明村")
    for text in ("村书记", "加装电梯意愿强", "1"):
        await chat.say(text)
    assert "老旧小区加装电梯" in chat.labels
    await chat.press("老旧小区加装电梯")
    await chat.press("✅ 确认")
    await chat.press(t("visit.found_no"))
    await chat.say("/visit")
    await chat.press("走访")  # not research: no topics offered, and a typed one links nothing
    await chat.press("今天")
    await chat.say("幸福社区")
    for text in ("居民", "停车难", "0"):
        await chat.say(text)
    assert "老旧小区加装电梯" not in chat.labels
    await chat.say("老旧小区加装电梯")
    await chat.press("✅ 确认")
    async with session_factory(app.engine)() as session:
        visits = list(await session.scalars(select(Visit).order_by(Visit.id)))
        topic_id = await session.scalar(select(ResearchTopic.id))
        today = visits[0].visit_date
        p = await paper_figures(session, Scope((branch.org.id,)), Period(today, today, "range"), TZ)
    assert [(v.place, v.topic_id) for v in visits] == [("东明村", topic_id), ("幸福社区", None)]
    assert (p.research_trips, p.research_topics, p.pairs, p.covered_places, p.pair_visits) == (1, 1, 1, 1, 1)
    assert p.topics[0].owner == "王书记" and p.topics[0].trips == 1


async def test_cli_pairing_import_as_a_process(app: App, branch: Branch, db_url: str, tmp_path: Path) -> None:
    good, bad = tmp_path / "结对.xlsx", tmp_path / "结对.csv"
    good.write_bytes(xlsx([["支部", "姓名", "结对居村"], ["机关第一党支部", "李娜", "东明村"]]))
    bad.write_text("支部,姓名,结对居村\n机关第一党支部,张三,西村\n", encoding="utf-8")
    env = {**os.environ, "BRANCHBOT_DATABASE_URL": db_url}
    cli = [sys.executable, "-m", "bot.cli"]
    done = subprocess.run([*cli, "pairing", "import", str(good)], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and "新增结对 1 个" in done.stdout, done.stderr
    done = subprocess.run([*cli, "pairing", "import", str(bad)], env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "第2行：机关第一党支部的名册上没有“张三”" in done.stderr
    async with session_factory(app.engine)() as session:
        assert await MemberRepository(session).by_name("张三") == []
    assert await count(app, Pairing) == 1
