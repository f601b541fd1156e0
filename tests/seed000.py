"""Seed 000's campaign (the bureau's stage summary of 2023-11-09) as data a bureau would have
logged: every figure the paper reports can be counted from it, and each is a different number.

6 branches of 6 people (a secretary and five members); the bureau's leaders sit in 局机关党支部.
From 2023-09-15 (the campaign's start, in its calendar, 读书班 target 7 days) to 2023-11-09:
- 146 三会一课/主题党日 sessions (each branch's first is the secretary's 党课), 2 中心组学习, 2
  联组学习, 6 读书班 days of which one half (5.5): 156 group sessions in all, as the replay counted;
- 34 调研课题 with owners and 75 research trips (visits of kind 调研 for a topic), 62 pairs over 59
  居村 each visited once, 15 other visits: 152 visits, 65 problems solved for residents;
- 述学 every Monday from 2023-09-18 to 2023-10-30 (7 weeks), imported as past periods;
- 13 problems: 2 closed (提请销项 then 批准销号), 1 closed then 回潮, 8 in 整改中, 2 待确认.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from handlers.core.i18n import DEFAULT_TEXTS as t
from handlers.imports.sheets import PAIRINGS, SHUXUE, TOPICS, import_sheet
from storage.db import Session
from storage.models import (
    Campaign,
    Meeting,
    Member,
    Organization,
    OrgKind,
    Problem,
    ProblemEvent,
    ProblemStatus,
    ResearchTopic,
    Role,
    StudyRecord,
    Visit,
)
from storage.repositories.members import MemberRepository
from storage.repositories.orgs import OrgRepository

TZ = ZoneInfo("Asia/Shanghai")
START, END = date(2023, 9, 15), date(2023, 11, 9)
TODAY = date(2023, 11, 9)
BRANCHES = ("局机关党支部", "规划党支部", "监测党支部", "执法党支部", "保障党支部", "事业单位党支部")
# What 000 reports, and what this data must give.
FIGURES = {"org_life_sessions": 146, "centre_group_sessions": 2, "joint_sessions": 2,
           "reading_class_days": 5.5, "reading_class_target": 7, "shuxue_weeks": 7,
           "research_trips": 75, "research_topics": 34, "visits": 152, "solved": 65,
           "paired_places": 59, "covered_places": 59, "problems_listed": 13, "problems_closed": 2,
           "closure_requested": 2, "group_sessions": 156, "lectures": 6, "pairs": 62}


@dataclass
class Bureau:
    office: Member
    branches: list[Organization]
    people: dict[str, list[Member]]  # branch name → its members, the secretary first


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), TZ)


async def build_people(session: Session) -> Bureau:
    orgs, members = OrgRepository(session), MemberRepository(session)
    bureau = await orgs.add("生态环境局党组", kind=OrgKind.bureau)
    office = await members.add(bureau, "马主任", Role.office)
    branches, people = [], {}
    for b, name in enumerate(BRANCHES):
        org = await orgs.add(name, kind=OrgKind.branch, parent=bureau)
        branches.append(org)
        people[name] = [await members.add(org, f"书记{b + 1}", Role.secretary)]
        people[name] += [await members.add(org, f"党员{b + 1}{i}") for i in range(1, 6)]
    session.add(Campaign(name="主题教育", start=START, end=END, reading_class_days=7))
    await session.flush()
    return Bureau(office, branches, people)


def _sessions() -> list[tuple[int, str, date]]:
    """146 distinct (branch, form, day) of 三会一课 and 主题党日."""
    out = []
    for i in range(146):
        b = i % 6
        n = i // 6  # 0…24
        form = "三会一课" if n % 2 == 0 else "主题党日"
        out.append((b, form, START + timedelta(days=n * 2 + b % 2)))
    assert len(set(out)) == 146
    return out


async def build_records(session: Session, bureau: Bureau) -> None:
    """Study, meetings, visits and problems, as the dialogs would have saved them."""
    people = bureau.people
    for b, form, day in _sessions():
        org = bureau.branches[b]
        for member in people[org.name][:3]:
            session.add(StudyRecord(member_id=member.id, org_id=org.id, form=form, study_date=day,
                                    minutes=90, content="《习近平著作选读》"))
    for org in bureau.branches:  # each secretary's 党课: a lecture meeting on the branch's first day
        secretary = people[org.name][0]
        first = min(day for b, _, day in _sessions() if bureau.branches[b] is org)
        session.add(Meeting(org_id=org.id, kind="党课", day=first, starts="09:00", ends="10:30",
                            topic="主题教育专题党课", lecturer=secretary.name, lecturer_id=secretary.id,
                            procedure="讲授", record_text="记录", created_by_id=secretary.id))
    leaders_org = bureau.branches[0]
    leaders = people[leaders_org.name]
    study = [("中心组学习", date(2023, 9, 20), 180), ("中心组学习", date(2023, 10, 18), 180),
             ("联组学习", date(2023, 10, 12), 150), ("联组学习", date(2023, 10, 26), 150)]
    study += [("读书班", date(2023, 10, d), 360) for d in (9, 10, 11, 16, 17)]
    study += [("读书班", date(2023, 10, 18), 180)]  # a half day
    for form, day, minutes in study:
        for member in leaders:
            session.add(StudyRecord(member_id=member.id, org_id=leaders_org.id, form=form, study_date=day,
                                    minutes=minutes, content="《习近平新时代中国特色社会主义思想专题摘编》"))
    await session.flush()


def pairing_table(bureau: Bureau) -> list[list[str]]:
    """62 pairs over 59 居村: the first three places have two cadres."""
    table = [["支部", "姓名", "结对居村"]]
    cadres = [(org.name, m.name) for org in bureau.branches for m in bureau.people[org.name]]
    for i in range(59):
        branch, name = cadres[i % len(cadres)]
        table.append([branch, name, f"祝桥镇第{i + 1}村"])
    for i in range(3):
        branch, name = cadres[(i + 7) % len(cadres)]
        table.append([branch, name, f"祝桥镇第{i + 1}村"])
    return table


def topic_table(bureau: Bureau) -> list[list[str]]:
    """34 topics, one per leader: every member of the first five branches, four of the sixth."""
    table = [["支部", "课题", "负责人", "结题日期"]]
    owners = [(org.name, m.name) for org in bureau.branches for m in bureau.people[org.name]][:34]
    for i, (branch, name) in enumerate(owners):
        table.append([branch, f"课题{i + 1}：生态环境治理难点{i + 1}", name, "2023-11-21"])
    return table


def shuxue_table(bureau: Bureau) -> list[list[str]]:
    table = [["支部", "姓名", "述学日期", "自学情况", "调研情况", "为民办实事情况"]]
    org = bureau.branches[0]
    for week in range(7):
        day = date(2023, 9, 18) + timedelta(weeks=week)
        for member in bureau.people[org.name][:3]:
            table.append([org.name, member.name, day.isoformat(), "学习《习近平著作选读》", "走访居村", "解决群众诉求"])
    return table


async def build_visits(session: Session, bureau: Bureau) -> None:
    """75 research trips, 62 pair visits, 15 others; 65 problems solved."""
    from sqlalchemy import select

    from storage.models import Pairing

    topics = list(await session.scalars(select(ResearchTopic).order_by(ResearchTopic.id)))
    by_id = {m.id: m for ms in bureau.people.values() for m in ms}
    solved = iter([1] * 65 + [0] * 200)
    for i in range(75):
        topic = topics[i % len(topics)]
        owner = by_id[topic.owner_id or 0]
        session.add(Visit(member_id=owner.id, org_id=owner.org_id, kind="调研",
                          visit_date=START + timedelta(days=5 + i % 40), place="企业", whom="负责人",
                          heard="情况", solved_count=next(solved), topic=topic.title, topic_id=topic.id))
    pairs = list(await session.scalars(select(Pairing).order_by(Pairing.id)))
    for i, pair in enumerate(pairs):
        member = by_id[pair.member_id]
        session.add(Visit(member_id=member.id, org_id=member.org_id, kind="结对居村",
                          visit_date=date(2023, 10, 1) + timedelta(days=i % 30), place=pair.place,
                          whom="村书记", heard="民情", solved_count=next(solved)))
    for i in range(15):
        member = bureau.people[BRANCHES[i % 6]][1]
        session.add(Visit(member_id=member.id, org_id=member.org_id, kind="走访",
                          visit_date=date(2023, 10, 20), place=f"社区{i}", whom="居民", heard="意见",
                          solved_count=next(solved)))
    await session.flush()


async def build_problems(session: Session, bureau: Bureau) -> list[Problem]:
    """13 problems, in the states the lifecycle leads to (with their events)."""
    states = ([ProblemStatus.closed] * 2 + ["reopened"] + [ProblemStatus.rectifying] * 8
              + [ProblemStatus.pending] * 2)
    problems = []
    for i, state in enumerate(states):
        org = bureau.branches[i % 6]
        reporter, secretary = bureau.people[org.name][1], bureau.people[org.name][0]
        status = ProblemStatus.rectifying if state == "reopened" else ProblemStatus(state)
        problem = Problem(reporter_id=reporter.id, org_id=org.id, description=f"问题{i + 1}", source="调研",
                          kind="限期整改", owner_name=reporter.name, owner_id=reporter.id,
                          deadline=date(2023, 12, 31), measures="1.排查\n2.整改\n3.回访",
                          status=status, created_at=_at(date(2023, 10, 1) + timedelta(days=i)))
        session.add(problem)
        await session.flush()
        moves = []
        if state != ProblemStatus.pending:
            moves.append(("accept", ProblemStatus.pending, ProblemStatus.rectifying))
        if state in (ProblemStatus.closed, "reopened"):
            moves += [("request_closure", ProblemStatus.rectifying, ProblemStatus.closure_requested),
                      ("approve", ProblemStatus.closure_requested, ProblemStatus.closed)]
        if state == "reopened":
            moves.append(("reopen", ProblemStatus.closed, ProblemStatus.rectifying))
        for n, (action, before, after) in enumerate(moves, start=1):
            session.add(ProblemEvent(problem_id=problem.id, actor_id=secretary.id, action=action,
                                     from_status=before, to_status=after,
                                     at=_at(date(2023, 10, 15) + timedelta(days=n))))
        problems.append(problem)
    await session.flush()
    return problems


async def build(session: Session) -> Bureau:
    """The whole campaign; the pairing, topic and 述学 sheets go through the office's imports."""
    bureau = await build_people(session)
    await build_records(session, bureau)
    for kind, table in ((PAIRINGS, pairing_table(bureau)), (TOPICS, topic_table(bureau)),
                        (SHUXUE, shuxue_table(bureau))):
        await import_sheet(t, session, kind, table, today=TODAY, tz=TZ)
    await build_visits(session, bureau)
    await build_problems(session, bureau)
    return bureau
