"""The planner walked through a campaign week at chosen moments, on SQLite and PostgreSQL:
who gets what, when, and never twice."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.runtime.app import App
from handlers.core.i18n import DEFAULT_TEXTS as t
from handlers.schedule.planner import PlanConfig, plan
from storage.db import session_factory
from storage.models import (
    GroupChat,
    Holiday,
    Leave,
    Member,
    Milestone,
    OutboxMessage,
    Pairing,
    Problem,
    ProblemEvent,
    ProblemStatus,
    ShuxueAnswer,
    StudyRecord,
    Visit,
)
from storage.repositories.members import MemberRepository
from storage.repositories.outbox import OutboxRepository, Planned
from tests.conftest import Branch

SH = ZoneInfo("Asia/Shanghai")
CONFIG = PlanConfig(platforms=("telegram",), tz=SH, texts=t)
MONDAY = date(2023, 11, 13)


def sh(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH).astimezone(timezone.utc)


@dataclass
class Week:
    app: App
    branch: Branch
    secretary: Member
    answered: Member  # 李娜
    silent: Member
    away: Member


@pytest.fixture
async def week(app: App, branch: Branch) -> Week:
    async with session_factory(app.engine)() as session, session.begin():
        members = MemberRepository(session)
        secretary = await session.get(Member, branch.secretary.id)
        answered = await session.get(Member, branch.roster_only.id)
        assert secretary is not None and answered is not None
        silent = await members.add(branch.org, "刘洋")
        away = await members.add(branch.org, "陈静")
        for person, uid in ((secretary, "7"), (answered, "1001"), (silent, "1002"), (away, "1003")):
            await members.bind(person, platform="telegram", user_id=uid, display_name=None)
        session.add(GroupChat(org_id=branch.org.id, platform="telegram", chat_id="-100",
                              bound_by_id=secretary.id))
    return Week(app, branch, secretary, answered, silent, away)


async def plan_at(app: App, when: datetime, **kwargs: object) -> list[OutboxMessage]:
    """Plan at ``when``; returns the messages this pass added."""
    async with session_factory(app.engine)() as session, session.begin():
        before = set(await session.scalars(select(OutboxMessage.id)))
        await plan(session, when, CONFIG, **kwargs)  # type: ignore[arg-type]
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [row for row in rows if row.id not in before]


async def add(app: App, *rows: object) -> None:
    async with session_factory(app.engine)() as session, session.begin():
        session.add_all(rows)


async def test_the_weekly_prompt_goes_to_the_group_on_time_and_once(week: Week) -> None:
    assert await plan_at(week.app, sh(MONDAY, 8, 59)) == []
    (prompt,) = await plan_at(week.app, sh(MONDAY, 9, 0))
    assert prompt.is_group and prompt.chat_id == "-100" and prompt.kind == "shuxue_prompt"
    assert "11月13日" in prompt.payload["text"]
    assert prompt.payload["buttons"] == [[{"label": "填写述学", "data": None, "start": "shuxue",
                                           "selector": "#1"}]]
    assert prompt.not_before == sh(MONDAY, 9, 0)
    for minute in (1, 30):
        assert await plan_at(week.app, sh(MONDAY, 9, minute)) == []  # planned again: nothing new


async def test_reminders_only_to_those_who_did_not_answer_and_are_not_away(week: Week) -> None:
    await plan_at(week.app, sh(MONDAY, 9, 0))
    await add(week.app,
              ShuxueAnswer(member_id=week.answered.id, org_id=week.branch.org.id, period_start=MONDAY,
                           self_study="学习2小时", research="本周无", deeds="本周无"),
              Leave(member_id=week.away.id, start=MONDAY, until=MONDAY + timedelta(days=3)))
    assert await plan_at(week.app, sh(MONDAY + timedelta(days=1), 17, 59)) == []
    added = await plan_at(week.app, sh(MONDAY + timedelta(days=1), 18, 0))
    reminders = [m for m in added if m.kind == "shuxue_remind"]
    assert [m.chat_id for m in reminders] == ["7", "1002"]  # not 李娜 (answered), not 陈静 (away)
    (digest,) = [m for m in added if m.kind == "shuxue_digest"]
    assert digest.chat_id == "7" and not digest.is_group
    text = digest.payload["text"]
    assert "已填写 1/4 人" in text and "已填写：李娜" in text and "刘洋" in text
    assert digest.payload["buttons"][0][0]["data"] == f"n:{week.branch.org.id}:2023-11-13"
    assert all("刘洋" not in m.payload["text"] for m in added if m.is_group)  # nobody named in the group
    assert "未能送达" not in text


async def test_the_digest_names_those_the_platform_refused(week: Week) -> None:
    await plan_at(week.app, sh(MONDAY, 9, 0))
    async with session_factory(week.app.engine)() as session, session.begin():
        await OutboxRepository(session).enqueue([Planned(
            "milestone:x:1:%d" % week.silent.id, "milestone", "telegram", "1002", {"text": "x"},
            sh(MONDAY, 9, 0), False, week.branch.org.id, week.silent.id)])
        (row,) = await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == "1002"))
        await OutboxRepository(session).mark_failed(row.id, "Forbidden: bot was blocked by the user")
    added = await plan_at(week.app, sh(MONDAY + timedelta(days=1), 18, 0))
    (digest,) = [m for m in added if m.kind == "shuxue_digest"]
    warning = digest.payload["text"].splitlines()[-1]
    assert warning.startswith("⚠️ 近期有 1 条提醒未能送达") and warning.endswith("：刘洋")


async def test_downtime_within_grace_sends_once_and_older_is_dropped(week: Week, caplog) -> None:
    caplog.set_level(logging.WARNING)
    late = await plan_at(week.app, sh(MONDAY, 14, 0), look_back=timedelta(days=8))
    assert [m.kind for m in late] == ["shuxue_prompt"]  # 5 hours late: still sent
    next_monday = MONDAY + timedelta(days=7)
    dropped = await plan_at(week.app, sh(next_monday, 15, 30), look_back=timedelta(days=8))
    assert [m for m in dropped if m.kind == "shuxue_prompt"] == []  # 6.5 hours late: dropped
    assert "shuxue_prompt:%d:2023-11-20:-100" % week.branch.org.id in caplog.text
    assert "shuxue_prompt:%d:2023-11-13" % week.branch.org.id not in caplog.text  # it was sent


async def test_quiet_hours_hold_a_late_catch_up_until_morning(week: Week) -> None:
    async with session_factory(week.app.engine)() as session, session.begin():
        await plan(session, sh(MONDAY, 9, 0), PlanConfig(platforms=("telegram",), tz=SH, texts=t,
                                                          grace=timedelta(hours=14)))
    tuesday = MONDAY + timedelta(days=1)
    async with session_factory(week.app.engine)() as session, session.begin():
        await plan(session, sh(tuesday, 23, 30), PlanConfig(platforms=("telegram",), tz=SH, texts=t,
                                                            grace=timedelta(hours=6)))
        late = list(await session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "shuxue_remind")))
    assert late and all(m.not_before == sh(tuesday + timedelta(days=1), 8, 0) for m in late)


async def test_a_holiday_moves_the_prompt_and_pauses_daily_nudges(week: Week) -> None:
    await add(week.app, Holiday(day=MONDAY, name="调休"),
              Milestone(key="jieti", name="调研课题结题", due=MONDAY + timedelta(days=3),
                        branches=[], roles=[], remind_days=[3]))
    assert await plan_at(week.app, sh(MONDAY, 9, 0)) == []
    added = await plan_at(week.app, sh(MONDAY + timedelta(days=1), 9, 0))
    assert [m.key for m in added if m.is_group] == [
        f"shuxue_prompt:{week.branch.org.id}:2023-11-13:-100"]


async def test_calendar_milestones_by_branch_and_role(week: Week) -> None:
    await add(week.app,
              Milestone(key="dushuban", name="读书班结束", due=MONDAY + timedelta(days=7),
                        branches=["机关第一党支部"], roles=["支部书记"], remind_days=[7, 0]),
              Milestone(key="other", name="别的支部的事", due=MONDAY + timedelta(days=7),
                        branches=["机关第二党支部"], roles=[], remind_days=[7]))
    added = [m for m in await plan_at(week.app, sh(MONDAY, 9, 0)) if m.kind == "milestone"]
    assert [(m.chat_id, m.key) for m in added] == [("7", "milestone:dushuban:7:%d" % week.secretary.id)]
    assert "还有 7 天" in added[0].payload["text"]


async def test_problem_deadlines_and_updates(week: Week) -> None:
    long_ago = sh(MONDAY - timedelta(days=20), 10)
    problems = [
        Problem(reporter_id=week.silent.id, org_id=week.branch.org.id, description="三天后到期",
                source="调研", kind="限期整改", owner_name="刘洋", owner_id=week.silent.id,
                deadline=MONDAY + timedelta(days=3), measures="m", status=ProblemStatus.rectifying),
        Problem(reporter_id=week.silent.id, org_id=week.branch.org.id, description="已逾期四天",
                source="调研", kind="限期整改", owner_name="刘洋", owner_id=week.silent.id,
                deadline=MONDAY - timedelta(days=4), measures="m", status=ProblemStatus.rectifying),
        Problem(reporter_id=week.silent.id, org_id=week.branch.org.id, description="申请销号待批",
                source="调研", kind="限期整改", owner_name="刘洋", owner_id=week.silent.id,
                deadline=MONDAY - timedelta(days=5), measures="m",
                status=ProblemStatus.closure_requested),
        Problem(reporter_id=week.silent.id, org_id=week.branch.org.id, description="已销号的",
                source="调研", kind="限期整改", owner_name="刘洋", owner_id=week.silent.id,
                deadline=MONDAY - timedelta(days=4), measures="m", status=ProblemStatus.closed),
    ]
    await add(week.app, *problems)
    await add(week.app, *(ProblemEvent(problem_id=p.id, actor_id=week.silent.id, action="accept",
                                       at=long_ago) for p in problems))
    added = await plan_at(week.app, sh(MONDAY, 9, 0))
    nudges = sorted((m.kind, m.chat_id, m.payload["text"][:12]) for m in added if not m.is_group)
    kinds = [(kind, chat) for kind, chat, _ in nudges]
    assert kinds.count(("deadline", "1002")) == 2  # 3 days left; 4 days overdue (not 申请销号)
    assert kinds.count(("deadline", "7")) == 2  # overdue 3+ days, 申请销号 included: the secretary
    assert kinds.count(("stale", "1002")) == 2  # no update for 20 days
    assert not any("已销号的" in text for *_, text in nudges)
    assert await plan_at(week.app, sh(MONDAY, 9, 1)) == []


async def test_study_hours_behind_once_a_month_and_paired_villages(week: Week) -> None:
    first_working_day = date(2023, 11, 1)  # a Wednesday
    await add(week.app,
              StudyRecord(member_id=week.answered.id, org_id=week.branch.org.id, form="自学",
                          study_date=date(2023, 10, 9), minutes=40 * 60, content="党章"),
              Pairing(member_id=week.silent.id, place="东湖村"),
              Pairing(member_id=week.answered.id, place="幸福社区"),
              Visit(member_id=week.answered.id, org_id=week.branch.org.id, kind="结对居村",
                    visit_date=first_working_day - timedelta(days=3), place="幸福社区", whom="书记",
                    heard="h", solved_count=0))
    added = await plan_at(week.app, sh(first_working_day, 9, 0))
    behind = sorted(m.chat_id for m in added if m.kind == "hours")
    assert behind == ["1002", "1003", "7"]  # 李娜 logged 40 h, ahead of 32 h pro rata
    assert [m.chat_id for m in added if m.kind == "pairing"] == ["1002"]  # 幸福社区 visited 3 days ago
    next_day = await plan_at(week.app, sh(first_working_day + timedelta(days=1), 9, 0))
    assert [m for m in next_day if m.kind == "hours"] == []  # once a month
