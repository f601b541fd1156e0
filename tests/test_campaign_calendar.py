"""The campaign's own calendar (issue 13, item 3), on SQLite and PostgreSQL: the campaign's dates
from the office's file (all or nothing, each bad line named in Chinese), the statutory holidays
and make-up workdays (调休) from `chinese-calendar` with nobody typing them, the file's days off
on top, and the pushes following them (a make-up Saturday is a workday, an ordinary one is not,
a reminder falling on a day off comes the workday before)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.runtime.app import App
from handlers.calendar.file import (
    CalendarError,
    calendar_lines,
    load_calendar,
    loaded_text,
)
from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.db import session_factory
from storage.models import (
    Campaign,
    Holiday,
    Milestone,
    Problem,
    ProblemEvent,
    ProblemStatus,
)
from storage.repositories.calendar import CalendarRepository
from tests.conftest import Branch
from tests.test_planner import Week, add, plan_at, sh, week  # noqa: F401  (week: a fixture)

CALENDAR = """[campaign]
name = "主题教育"
start = 2023-09-15
end = 2024-01-31
reading_class_days = 7

[[milestone]]
key = "first_round"
name = "第一轮结对走访全覆盖"
date = 2023-10-31

[[holiday]]
date = 2023-11-24
name = "单位休息日"
"""


async def _load(app: App, tmp_path: Path, text: str) -> object:
    path = tmp_path / "calendar.toml"
    path.write_text(text, encoding="utf-8")
    async with session_factory(app.engine)() as session, session.begin():
        return await load_calendar(t, session, path)


async def _refused(app: App, tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(CalendarError) as refused:
        await _load(app, tmp_path, text)
    return refused.value.problems


async def test_the_campaign_comes_from_the_file(app: App, branch: Branch, tmp_path: Path) -> None:
    loaded = await _load(app, tmp_path, CALENDAR)
    assert "主题教育：2023-09-15 至 2024-01-31" in loaded_text(t, loaded)  # type: ignore[arg-type]
    async with session_factory(app.engine)() as session:
        campaign = await CalendarRepository(session).campaign()
        assert campaign is not None
        assert (campaign.start, campaign.end, campaign.reading_class_days) == (
            date(2023, 9, 15), date(2024, 1, 31), 7)
        lines = await calendar_lines(t, session)
    assert lines[0].startswith("主题教育：2023-09-15 至 2024-01-31（“全程”从 2023-09-15 算起")
    # the statutory days need no entry: they are there, named in Chinese; the file's day on top
    assert "2023-09-30 至 2023-10-06  国庆节（法定节假日，7 天）" in lines
    assert "2023-10-07  国庆节调休上班" in lines and "2023-10-08  国庆节调休上班" in lines
    assert "2023-11-24  单位休息日（日历文件中的休息日）" in lines
    async with session_factory(app.engine)() as session:
        assert [h.day for h in await session.scalars(select(Holiday))] == [date(2023, 11, 24)]


@pytest.mark.parametrize(("change", "problem"), [
    (("start = 2023-09-15", "start = 2024-03-01"),
     "第1行 [campaign]：开始日期 2024-03-01 晚于结束日期 2024-01-31。"),
    (("reading_class_days = 7", "reading_class_days = 0"),
     "第1行 [campaign] 的 reading_class_days：应不小于 1"),
    (("start = 2023-09-15\n", ""), "第1行 [campaign] 的 start：缺少这一项"),
    (("start =", "strat ="), "第1行 [campaign] 的 strat：无法识别这一项（请检查拼写）"),
    (("start = 2023-09-15", 'start = "九月十五"'),
     "第1行 [campaign] 的 start：应为日期，如 2023-11-09（不加引号）"),
    (('name = "单位休息日"', 'name = "单位休息日"\nuntil = 2024-02-01'),
     "第12行：一段假期最多 31 天（法定节假日和调休无需填写，已自动按国务院安排）。"),
    (("date = 2023-10-31", "date = 2023-10-32"), "日历文件第10行第12列格式有误"),
])
async def test_a_bad_calendar_names_its_line_and_writes_nothing(
        app: App, branch: Branch, tmp_path: Path, change: tuple[str, str], problem: str) -> None:
    await _load(app, tmp_path, CALENDAR.replace("2023-09-15", "2023-09-01"))
    problems = await _refused(app, tmp_path, CALENDAR.replace(*change))
    assert any(p.startswith(problem) for p in problems), problems
    async with session_factory(app.engine)() as session:  # the file loaded before, untouched
        (campaign,) = await session.scalars(select(Campaign))
        assert campaign.start == date(2023, 9, 1)
        assert len(list(await session.scalars(select(Milestone)))) == 1


async def test_pushes_follow_the_statutory_calendar(week: Week) -> None:  # noqa: F811
    branch = week.branch
    await add(week.app,
              Milestone(key="jieti", name="课题结题", due=date(2023, 10, 7), branches=[], roles=[],
                        remind_days=[0]),
              Milestone(key="sunday", name="周日截止", due=date(2023, 10, 15), branches=[],
                        roles=["支部书记"], remind_days=[0]))
    problem = Problem(reporter_id=week.silent.id, org_id=branch.org.id, description="周日到期的问题",
                      source="调研", kind="限期整改", owner_name="刘洋", owner_id=week.silent.id,
                      deadline=date(2023, 10, 22), measures="m", status=ProblemStatus.rectifying)
    await add(week.app, problem)
    await add(week.app, ProblemEvent(problem_id=problem.id, actor_id=week.silent.id,
                                     action="accept", at=sh(date(2023, 10, 12), 10)))

    # 国庆节: Monday 10月2日 is a statutory holiday: no prompt, no nudge, nobody typed it
    assert await plan_at(week.app, sh(date(2023, 10, 2), 9, 0)) == []
    # Saturday 10月7日 is a make-up workday: the moved prompt, the milestone of the day, and the
    # month's study-hours nudge (its first workday) all go out
    added = await plan_at(week.app, sh(date(2023, 10, 7), 9, 0))
    kinds = {m.kind for m in added}
    assert {"shuxue_prompt", "milestone", "hours"} <= kinds
    (prompt,) = [m for m in added if m.kind == "shuxue_prompt"]
    assert "10月2日" in prompt.payload["text"]  # still the round of 10月2日
    # an ordinary Saturday is a day off: nothing; the Sunday milestone came on Friday
    friday = await plan_at(week.app, sh(date(2023, 10, 13), 9, 0))
    (sunday,) = [m for m in friday if m.kind == "milestone"]
    assert sunday.chat_id == "7" and "还有 2 天" in sunday.payload["text"]
    assert await plan_at(week.app, sh(date(2023, 10, 14), 9, 0)) == []
    assert await plan_at(week.app, sh(date(2023, 10, 15), 9, 0)) == []
    # a deadline on Sunday 10月22日: "on the day" comes on Friday, and "3 days before" on Thursday
    thursday = await plan_at(week.app, sh(date(2023, 10, 19), 9, 0))
    assert [m.payload["text"] for m in thursday if m.kind == "deadline"] == [
        t("push.deadline_soon", problem="周日到期的问题", days=3)]
    friday = await plan_at(week.app, sh(date(2023, 10, 20), 9, 0))
    assert [m.payload["text"] for m in friday if m.kind == "deadline"] == [
        t("push.deadline_soon", problem="周日到期的问题", days=2)]
