"""A small dataset with known counts for the report tests (October 2023, two branches).

机关第一党支部: 王书记 (secretary), 李娜 and 党员1…党员8 active, 党员9 inactive; 机关第二党支部: 赵敏;
the office: 马主任. Rows outside October, deleted rows and the other branch's rows are there to be
left out. Known figures for 机关第一党支部 in 2023-10-01…2023-10-31 are in ``EXPECTED``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Commitment,
    Member,
    Organization,
    Problem,
    ProblemEvent,
    ProblemStatus,
    Role,
    ShuxueAnswer,
    StudyRecord,
    Visit,
)
from storage.repositories.members import MemberRepository

TZ = ZoneInfo("Asia/Shanghai")
START, END = date(2023, 10, 1), date(2023, 10, 31)
PERIOD_ARGS = "2023-10-01 2023-10-31"

EXPECTED = {
    "members": 10, "reported": 4, "study_minutes": 690, "group_sessions": 4, "group_attendances": 6,
    "reading_days": 2, "visits": 3, "solved": 3, "topics": 1, "problems_found": 4,
    "problems_listed": 5, "problems_accepted": 4, "problems_closed": 2, "closed_in_period": 2,
    "shuxue_answers": 5, "shuxue_periods": 3, "shuxue_streak": 3, "commitments": 2,
    "commitments_kept": 1,
}


@dataclass
class People:
    org: Organization
    other: Organization
    secretary: Member
    lina: Member
    extra: list[Member]
    stranger: Member  # 赵敏, of the other branch
    office: Member


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), TZ)


def _study(member: Member, form: str, day: date, minutes: int, deleted: bool = False) -> StudyRecord:
    return StudyRecord(member_id=member.id, org_id=member.org_id, form=form, study_date=day,
                       minutes=minutes, content="《习近平著作选读》", reflection=None,
                       deleted_at=at(day) if deleted else None)


def _visit(member: Member, day: date, solved: int, topic: str | None, deleted: bool = False) -> Visit:
    return Visit(member_id=member.id, org_id=member.org_id, kind="走访", visit_date=day, place="幸福社区",
                 whom="居民", heard="停车难", solved_count=solved, topic=topic,
                 deleted_at=at(day) if deleted else None)


async def _problem(session: AsyncSession, member: Member, created: date, status: ProblemStatus,
                   history: list[tuple[ProblemStatus, date]], deleted: bool = False) -> Problem:
    problem = Problem(reporter_id=member.id, org_id=member.org_id, description="老旧小区加装电梯推进慢",
                      source="调研", kind="限期整改", owner_name=member.name, owner_id=member.id,
                      deadline=date(2023, 12, 31), measures="制定计划", status=status,
                      created_at=at(created), deleted_at=at(created) if deleted else None)
    session.add(problem)
    await session.flush()
    session.add(ProblemEvent(problem_id=problem.id, actor_id=member.id, action="report",
                             to_status=ProblemStatus.pending, at=at(created)))
    for to_status, day in history:
        session.add(ProblemEvent(problem_id=problem.id, actor_id=member.id, action="move",
                                 to_status=to_status, at=at(day, 15)))
    return problem


async def build(session: AsyncSession, org: Organization, other: Organization, secretary: Member,
                lina: Member) -> People:
    members = MemberRepository(session)
    bureau = await session.get(Organization, org.parent_id)
    assert bureau is not None
    extra = [await members.add(org, f"党员{i}") for i in range(1, 10)]
    extra[-1].active = False  # 党员9 left: not counted
    stranger = await members.add(other, "赵敏", Role.secretary)
    office = await members.add(bureau, "马主任", Role.office)
    d = date
    rows: list[object] = [
        _study(lina, "集中学习", d(2023, 10, 10), 90), _study(lina, "自学", d(2023, 10, 11), 60),
        _study(lina, "读书班", d(2023, 10, 12), 120), _study(lina, "读书班", d(2023, 10, 13), 120),
        _study(lina, "自学", d(2023, 10, 14), 600, deleted=True),
        _study(lina, "自学", d(2023, 9, 15), 30),
        _study(secretary, "集中学习", d(2023, 10, 10), 90), _study(secretary, "专题党课", d(2023, 10, 20), 60),
        _study(extra[0], "集中学习", d(2023, 10, 10), 90), _study(extra[0], "线上学习", d(2023, 10, 21), 60),
        _study(stranger, "集中学习", d(2023, 10, 10), 90),
        _visit(lina, d(2023, 10, 15), 2, "老旧小区改造"), _visit(secretary, d(2023, 10, 16), 1, "老旧小区改造"),
        _visit(extra[1], d(2023, 10, 17), 0, None), _visit(lina, d(2023, 10, 18), 5, "别的课题", deleted=True),
        _visit(lina, d(2023, 9, 20), 1, None), _visit(stranger, d(2023, 10, 15), 3, "园区企业"),
        *[ShuxueAnswer(member_id=m.id, org_id=m.org_id, period_start=day, self_study="学习", research="走访",
                       deeds="办实事", answered_at=at(day, 20))
          for m, day in ((lina, d(2023, 10, 2)), (lina, d(2023, 10, 9)), (lina, d(2023, 10, 16)),
                         (secretary, d(2023, 10, 9)), (extra[0], d(2023, 10, 16)),
                         (stranger, d(2023, 10, 16)))],
        Commitment(member_id=lina.id, org_id=org.id, content="每月走访两次", kept=True),
        Commitment(member_id=secretary.id, org_id=org.id, content="办一件实事", kept=False),
        Commitment(member_id=extra[0].id, org_id=org.id, content="已删除", kept=True, deleted_at=at(d(2023, 10, 1))),
        Commitment(member_id=stranger.id, org_id=other.id, content="别的支部", kept=True),
    ]
    session.add_all(rows)
    s = ProblemStatus
    await _problem(session, lina, d(2023, 10, 5), s.closed,
                   [(s.rectifying, d(2023, 10, 6)), (s.closed, d(2023, 10, 25))])
    await _problem(session, secretary, d(2023, 10, 7), s.rectifying, [(s.rectifying, d(2023, 10, 8))])
    await _problem(session, extra[0], d(2023, 10, 9), s.pending, [])
    await _problem(session, lina, d(2023, 10, 11), s.rejected, [(s.rejected, d(2023, 10, 12))])
    await _problem(session, lina, d(2023, 10, 12), s.closure_requested,
                   [(s.rectifying, d(2023, 10, 13)), (s.closure_requested, d(2023, 10, 30))])
    await _problem(session, lina, d(2023, 10, 13), s.closed,
                   [(s.rectifying, d(2023, 10, 14)), (s.closed, d(2023, 10, 20))], deleted=True)
    await _problem(session, secretary, d(2023, 9, 20), s.closed,
                   [(s.rectifying, d(2023, 9, 21)), (s.closed, d(2023, 10, 3))])
    await _problem(session, stranger, d(2023, 10, 5), s.rectifying, [(s.rectifying, d(2023, 10, 6))])
    await session.flush()
    return People(org, other, secretary, lina, extra, stranger, office)
