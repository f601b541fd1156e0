"""Issue 13's acceptance: seed 000's campaign replayed through the core, and every figure its
stage summary reports read back from `/summary all` and the 汇总 sheet of `/report`, on SQLite and
PostgreSQL; each figure's definition checked on its own edge (half days, topics, pairings,
measures, streaks across imported periods)."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from datetime import UTC, date, datetime

import docx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from bot.runtime.app import App
from handlers.reports.periods import Period
from storage.db import session_factory
from storage.models import Problem, ProblemStatus
from storage.queries.figures import ALL, problem_flow, totals
from storage.queries.papers import measure_count, paper_figures
from storage.queries.scope import Scope
from storage.repositories.members import MemberRepository
from storage.repositories.problems import ProblemRepository
from tests import seed000
from tests.chat_driver import CoreChat
from tests.conftest import Branch

CAMPAIGN = Period(seed000.START, seed000.END, "campaign")


@pytest.fixture
async def bureau(app: App) -> seed000.Bureau:
    async with session_factory(app.engine)() as session, session.begin():
        found = await seed000.build(session)
        await MemberRepository(session).bind(found.office, platform="test", user_id="office",
                                             display_name=found.office.name)
    return found


async def test_seed_000_figures_from_the_queries(app: App, bureau: seed000.Bureau) -> None:
    async with session_factory(app.engine)() as session:
        p = await paper_figures(session, Scope(None), CAMPAIGN, seed000.TZ)
        n = (await totals(session, Scope(None), CAMPAIGN, seed000.TZ, by_org=False))[ALL]
    got = {"org_life_sessions": p.org_life_sessions, "centre_group_sessions": p.centre_group_sessions,
           "joint_sessions": p.joint_sessions, "reading_class_days": p.reading_class_days,
           "reading_class_target": p.reading_class_target, "shuxue_weeks": p.shuxue_weeks,
           "research_trips": p.research_trips, "research_topics": p.research_topics, "visits": n.visits,
           "solved": n.solved, "paired_places": p.paired_places, "covered_places": p.covered_places,
           "problems_listed": n.problems_listed, "problems_closed": n.problems_closed,
           "closure_requested": p.closure_requested, "group_sessions": n.group_sessions,
           "lectures": p.lectures, "pairs": p.pairs}
    assert got == seed000.FIGURES
    assert p.round_covered and p.covered_pairs == 62 and p.pair_visits == 62
    assert p.secretaries == 6 and p.secretaries_lectured == 6
    assert all(x.secretary for x in p.lecturers) and len(p.lecturers) == 6
    assert p.measures == 3 * 11  # three measures each, the 11 problems accepted
    assert sum(x.trips for x in p.topics) == 75 and {x.owner for x in p.topics} >= {"书记1", "党员11"}
    assert n.problems_accepted == 11 and n.shuxue_streak == 7


def _figures_in(text: str) -> None:
    for expected in ("依托三会一课、主题党日学习 146 次", "中心组学习 2 次", "联组学习 2 次",
                     "读书班 5.5/7 天", "已连续 7 周开展述学", "课题调研 75 次，调研课题 34 个",
                     "调研走访 152 次", "现场解决问题 65 个", "结对居村 59 个（62 对），已走访 59 个，全覆盖",
                     "提请销项 2 个", "已销号 2/已确认 11", "6/6 位支部书记已讲党课（书记6·事业单位党支部、"):
        assert expected in text, (expected, text)


async def test_seed_000_in_summary_all_and_the_summary_sheet(app: App, bureau: seed000.Bureau) -> None:
    office = CoreChat(app.core, "office", "马主任")
    await office.say("/summary all 2023-09-15 2023-11-09")
    _figures_in(office.text)
    await office.say("/report 台账 2023-09-15 2023-11-09")
    (document,) = [r.document for r in office.replies if r.document is not None]
    book = load_workbook(io.BytesIO(document.content), read_only=True)
    sheet = {row[1]: row[2] for row in book["汇总"].iter_rows(min_row=4, values_only=True)}  # 序号, 指标, 数值
    expected = {"三会一课/主题党日学习次数": 146, "中心组学习次数": 2, "联组学习次数": 2,
                "读书班天数": 5.5, "读书班目标天数": 7, "连续开展述学周数": 7, "课题调研次数": 75,
                "调研课题": 34, "调研走访次数": 152, "结对居村": 59, "已走访结对居村": 59,
                "提请销项": 2, "已确认问题数": 11, "结对（干部—居村）": 62, "专题党课/书记讲党课次数": 6}
    for name, value in expected.items():
        assert sheet.get(name) == value, (name, sheet.get(name))
    assert sum(v for k, v in sheet.items() if str(k).startswith("课题：")) == 75
    assert sheet["帮助群众解决问题数"] == 65 and sheet["问题清单累计"] == 13 and sheet["已销号问题数"] == 2


@pytest.mark.parametrize(("text", "count"), [
    ("1.排查\n2.整改\n3.回访", 3), ("一是加强巡查；二是建立台账；三是定期回访。", 3), ("加强巡查", 1),
    ("", 0), ("（1）整改A（2）整改B", 2), ("①A ②B ③C", 3), ("2023年12月前完成整改", 1),
    ("1、A。2、B", 2), ("；；\n", 0)])
def test_measure_count(text: str, count: int) -> None:
    assert measure_count(text) == count



async def test_one_status_model_after_comeback(app: App, bureau: seed000.Bureau) -> None:
    """#13 item 5: the problem closed then come back (回潮) is 整改中 everywhere: the chart's closed
    total, /summary, the Excel list (no 销号日期) and Word agree; the /problems header and tabs
    count a 申请销号 problem the same."""
    async with session_factory(app.engine)() as session:
        flow = await problem_flow(session, Scope(None), CAMPAIGN, seed000.TZ)
    assert sum(flow["closed"].values()) == 2 and sum(flow["rectifying"].values()) == 11
    office = CoreChat(app.core, "office", "马主任")
    await office.say("/report 台账 2023-09-15 2023-11-09")
    (document,) = [r.document for r in office.replies if r.document is not None]
    rows = list(load_workbook(io.BytesIO(document.content), read_only=True)["问题清单"].iter_rows(
        min_row=4, values_only=True))
    # 序号, 支部, 编号, 发现日期, 发现人, 问题描述 … 状态 (13), 销号日期 (14), 回潮 (15)
    closed_on = {row[5]: (*row, None, None, None)[13:16] for row in rows}  # trailing empties dropped
    assert closed_on["问题3"] == ("整改中", None, "是")  # closed, then 回潮
    assert closed_on["问题1"][0] == "已销号" and closed_on["问题1"][1] is not None
    async with session_factory(app.engine)() as session, session.begin():
        problem = await session.scalar(select(Problem).where(Problem.description == "问题4"))
        assert problem is not None
        actor = bureau.people[seed000.BRANCHES[3]][1]
        assert await ProblemRepository(session).apply(
            problem, action="request_closure", actor=actor, expected=ProblemStatus.rectifying,
            to=ProblemStatus.closure_requested) is not None
    await office.say("/problems")
    header = office.text
    assert "整改中 8 个｜申请销号 1 个" in header and "已销号 2 ÷ 已确认 11" in header, header
    assert "整改中（8）" in office.labels and "申请销号（1）" in office.labels, office.labels


async def test_seed_000_in_the_word_draft(app: App, bureau: seed000.Bureau) -> None:
    office = CoreChat(app.core, "office", "马主任")
    await office.say("/report 总结 2023-09-15 2023-11-09")
    (document,) = [r.document for r in office.replies if r.document is not None]
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(document.content)).paragraphs)
    for expected in ("依托“三会一课”、主题党日累计开展学习146次", "中心组学习2次", "联组学习2次",
                     "已举办读书班集中学习5.5天，计划7天", "已连续7周开展述学", "确定调研课题34个",
                     "开展课题调研75次", "结对居村59个，本轮走访已全覆盖", "提请销项2个"):
        assert expected in text, (expected, text)
    assert text.count("5.5天") == 1 and "天次" not in text  # the days said once, with the half day


async def test_measures_counted_when_saved_and_when_loaded_around_the_orm(app: App, branch: Branch) -> None:
    """整改措施条数: kept with the problem when the ORM writes it (reported, or changed at 确认整改),
    counted from the text for rows a bulk load wrote; only accepted problems count."""
    async with session_factory(app.engine)() as session, session.begin():
        owner = branch.secretary
        saved = Problem(reporter_id=owner.id, org_id=branch.org.id, description="停车难", source="调研",
                        kind="限期整改", owner_name=owner.name, deadline=date(2023, 12, 1),
                        measures="1.排查\n2.整改", status=ProblemStatus.pending)
        session.add(saved)
        await session.flush()
        assert saved.measure_items == 2
        event = await ProblemRepository(session).apply(
            saved, action="accept", actor=owner, expected=ProblemStatus.pending, to=ProblemStatus.rectifying,
            changes={"measures": "一是排查；二是整改；三是回访"})
        assert event is not None
        await session.execute(text(
            "INSERT INTO problems (created_at, updated_at, reporter_id, org_id, description, source, kind, "
            "owner_name, deadline, measures, status) VALUES (:at, :at, :who, :org, '噪声', '调研', '限期整改', "
            "'王书记', '2023-12-01', '①隔音 ②巡查', 'closed')"),
            {"at": datetime(2023, 10, 1, tzinfo=UTC), "who": owner.id, "org": branch.org.id})
        session.add(Problem(reporter_id=owner.id, org_id=branch.org.id, description="未确认", source="调研",
                            kind="限期整改", owner_name=owner.name, deadline=date(2023, 12, 1),
                            measures="1.a 2.b", status=ProblemStatus.pending))
    async with session_factory(app.engine)() as session:
        assert await session.scalar(select(Problem.measure_items).where(Problem.id == saved.id)) == 3
        p = await paper_figures(session, Scope((branch.org.id,)), Period(date(2023, 1, 1), date.today(), "range"),
                                seed000.TZ)
    assert p.measures == 3 + 2 and p.closure_requested == 1


async def test_seed_000_in_branchbot_summary(app: App, bureau: seed000.Bureau, db_url: str) -> None:
    """`branchbot summary` (the office's, every branch) as a process shows the same figures."""
    env = {**os.environ, "BRANCHBOT_DATABASE_URL": db_url}
    done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "bot.cli", "summary", "--from",
                                                    "2023-09-15", "--to", "2023-11-09"],
                                   env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    _figures_in(done.stdout)
    assert done.stdout.count("依托三会一课") == 1  # above the first page only
