"""The figures the office's papers report (000, 001), each defined once, here.

``storage.queries.figures.Totals`` has what every branch is compared by (hours, visits, problems,
整改率 …); ``PaperFigures`` adds what a stage summary counts over a whole scope: sessions by form,
Party lectures and who gave them, 读书班 days with half days, research topics and their trips,
paired 居村 and their coverage, closures asked for, rectification measures, and the 述学 streak in
weeks. The README's glossary says the same in words; keep the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import (
    Campaign,
    Meeting,
    Member,
    Organization,
    Pairing,
    Problem,
    ProblemStatus,
    ResearchTopic,
    Role,
    Visit,
)
from storage.measures import measure_count
from storage.queries.figures import ALL, days_of, streak_runs
from storage.queries.scope import DateRange, Scope, resolved
from storage.vocabulary import (
    ACCEPTED,
    CLOSURE_ASKED,
    HALF_DAY_MINUTES,
    LECTURE_KINDS,
    RESEARCH_VISIT,
)

HALF_MONTH_DAYS = 15  # "至少每半月走访联系一次"


@dataclass(frozen=True)
class Lecturer:
    """Who gave the period's Party lectures (专题党课 / 书记讲党课), per branch."""

    branch: str
    name: str
    lectures: int
    secretary: bool  # a 支部书记 of that branch (书记讲党课, 双讲双听)


@dataclass(frozen=True)
class TopicLine:
    branch: str
    title: str
    owner: str
    trips: int  # visits of kind 调研 for it in the period


@dataclass
class PaperFigures:
    """One scope's figures for a period; the fields are the glossary's (README)."""

    org_life_sessions: int = 0  # 三会一课/主题党日 学习次数
    centre_group_sessions: int = 0  # 中心组学习次数
    joint_sessions: int = 0  # 联组学习次数
    lectures: int = 0
    lecturers: list[Lecturer] = field(default_factory=list)
    secretaries: int = 0
    secretaries_lectured: int = 0
    reading_half_days: int = 0  # 读书班 days in halves (see ``reading_class_days``)
    reading_class_target: int | None = None
    research_topics: int = 0
    research_trips: int = 0
    topics: list[TopicLine] = field(default_factory=list)
    pairs: int = 0
    paired_places: int = 0
    covered_pairs: int = 0
    covered_places: int = 0
    pair_visits: int = 0
    closure_requested: int = 0
    measures: int = 0
    shuxue_weeks: int = 0
    period_days: int = 0

    @property
    def reading_class_days(self) -> float:
        return self.reading_half_days / 2

    @property
    def round_covered(self) -> bool:
        """第一轮全覆盖: every pair visited at least once in the period."""
        return self.pairs > 0 and self.covered_pairs == self.pairs

    @property
    def visits_per_pair_half_month(self) -> float | None:
        if not self.pairs or not self.period_days:
            return None
        return self.pair_visits / self.pairs / (self.period_days / HALF_MONTH_DAYS)


async def _rows(session: AsyncSession, query: Any) -> list[Any]:
    return list((await session.execute(query)).all())


async def _sessions(session: AsyncSession, scope: Scope, period: DateRange, p: PaperFigures) -> None:
    """From the daily tallies (``storage.tallies.day_rows`` defines each column)."""
    days = days_of(scope, period)
    query = select(func.sum(days.c.org_life_sessions), func.sum(days.c.centre_sessions),
                   func.sum(days.c.joint_sessions))
    (org_life, centre, joint), = await _rows(session, query)
    p.org_life_sessions, p.centre_group_sessions, p.joint_sessions = (int(n or 0) for n in (org_life, centre, joint))
    # 读书班: a date of the scope's class counts once, half when its longest record is ≤ 4 hours.
    held = (select(days.c.day, func.max(days.c.reading_longest).label("longest"))
            .where(days.c.reading_longest > 0).group_by(days.c.day).subquery())
    halves = await session.scalar(select(func.sum(case((held.c.longest <= HALF_DAY_MINUTES, 1), else_=2))))
    p.reading_half_days = int(halves or 0)
    p.reading_class_target = await session.scalar(select(Campaign.reading_class_days).limit(1))


async def _lectures(session: AsyncSession, scope: Scope, period: DateRange, p: PaperFigures) -> None:
    lecturer = aliased(Member)
    is_secretary = and_(lecturer.role == Role.secretary, lecturer.org_id == Meeting.org_id)
    name = func.coalesce(lecturer.name, Meeting.lecturer)
    query = (select(Organization.name, name, func.count(), func.max(case((is_secretary, 1), else_=0)),
                    func.max(case((is_secretary, lecturer.id))))
             .select_from(Meeting).join(Organization, Organization.id == Meeting.org_id)
             .outerjoin(lecturer, lecturer.id == Meeting.lecturer_id)
             .where(Meeting.deleted_at.is_(None), Meeting.kind.in_(LECTURE_KINDS),
                    Meeting.day.between(period.start, period.end),
                    *scope.where(Meeting.org_id, Meeting.created_by_id))
             .group_by(Organization.name, name).order_by(Organization.name, name))
    lectured: set[int] = set()
    for branch, who, n, secretary, secretary_id in await _rows(session, query):
        p.lectures += n
        p.lecturers.append(Lecturer(branch, who or "—", n, bool(secretary)))
        if secretary_id is not None:
            lectured.add(int(secretary_id))
    p.secretaries = int(await session.scalar(select(func.count()).where(
        Member.active, Member.role == Role.secretary, *scope.where(Member.org_id, Member.id))) or 0)
    p.secretaries_lectured = len(lectured)


async def _topics(session: AsyncSession, scope: Scope, period: DateRange, p: PaperFigures) -> None:
    topic_scope = [ResearchTopic.deleted_at.is_(None), *scope.where(ResearchTopic.org_id, ResearchTopic.owner_id)]
    # From the scope's topics to their trips (the visits.topic_id index), not over every visit.
    trips = (select(Visit.topic_id, func.count().label("n"))
             .join(ResearchTopic, ResearchTopic.id == Visit.topic_id)
             .where(*topic_scope, Visit.deleted_at.is_(None), Visit.kind == RESEARCH_VISIT,
                    Visit.visit_date.between(period.start, period.end),
                    *scope.where(Visit.org_id, Visit.member_id))
             .group_by(Visit.topic_id).subquery())
    query = (select(Organization.name, ResearchTopic.title, ResearchTopic.owner_name,
                    func.coalesce(trips.c.n, 0))
             .join(Organization, Organization.id == ResearchTopic.org_id)
             .outerjoin(trips, trips.c.topic_id == ResearchTopic.id)
             .where(*topic_scope).order_by(Organization.name, ResearchTopic.id))
    p.topics = [TopicLine(branch, title, owner, int(n)) for branch, title, owner, n in await _rows(session, query)]
    p.research_topics = len(p.topics)
    p.research_trips = sum(topic.trips for topic in p.topics)


async def _pairings(session: AsyncSession, scope: Scope, period: DateRange, p: PaperFigures) -> None:
    paired = select(Pairing.member_id).distinct()  # only their visits: the (member, day) index
    visits = (select(Visit.member_id, Visit.place, func.count().label("n"))
              .where(Visit.deleted_at.is_(None), Visit.member_id.in_(paired),
                     Visit.visit_date.between(period.start, period.end),
                     *scope.where(Visit.org_id, Visit.member_id))
              .group_by(Visit.member_id, Visit.place).subquery())
    visited = visits.c.n.is_not(None)
    query = (select(func.count(), func.count(distinct(Pairing.place)),
                    func.sum(case((visited, 1), else_=0)),
                    func.count(distinct(case((visited, Pairing.place)))),
                    func.coalesce(func.sum(visits.c.n), 0))
             .select_from(Pairing).join(Member, Member.id == Pairing.member_id)
             .outerjoin(visits, and_(visits.c.member_id == Pairing.member_id, visits.c.place == Pairing.place))
             .where(Member.active, *scope.where(Member.org_id, Member.id)))
    (pairs, places, covered, covered_places, pair_visits), = await _rows(session, query)
    p.pairs, p.paired_places = int(pairs or 0), int(places or 0)
    p.covered_pairs, p.covered_places = int(covered or 0), int(covered_places or 0)
    p.pair_visits = int(pair_visits or 0)


async def _problems(session: AsyncSession, scope: Scope, period: DateRange, tz: ZoneInfo,
                    p: PaperFigures) -> None:
    end = period.utc_bounds(tz)[1]
    listed = [Problem.deleted_at.is_(None), Problem.status != ProblemStatus.rejected, Problem.created_at < end,
              *scope.where(Problem.org_id, Problem.reporter_id)]
    asked = Problem.status.in_(sorted(CLOSURE_ASKED, key=lambda s: s.value))
    accepted = Problem.status.in_(sorted(ACCEPTED, key=lambda s: s.value))
    query = select(func.sum(case((asked, 1), else_=0)), func.sum(case((accepted, Problem.measure_items), else_=0)),
                   func.sum(case((and_(accepted, Problem.measure_items.is_(None)), 1), else_=0))).where(*listed)
    (requested, stored, uncounted), = await _rows(session, query)
    p.closure_requested, p.measures = int(requested or 0), int(stored or 0)
    if uncounted:  # rows written around the ORM (a bulk load): counted from their text
        texts = await session.scalars(select(Problem.measures).where(*listed, accepted,
                                                                     Problem.measure_items.is_(None)))
        p.measures += sum(measure_count(text) for text in texts)


async def paper_figures(session: AsyncSession, scope: Scope, period: DateRange,
                        tz: ZoneInfo) -> PaperFigures:
    """The scope's paper figures for the period (see ``PaperFigures``)."""
    scope = await resolved(session, scope)
    p = PaperFigures(period_days=period.days)
    await _sessions(session, scope, period, p)
    await _lectures(session, scope, period, p)
    await _topics(session, scope, period, p)
    await _pairings(session, scope, period, p)
    await _problems(session, scope, period, tz, p)
    run = (await streak_runs(session, scope, period, by_org=False)).get(ALL)
    if run is not None:
        p.shuxue_weeks = weeks_of(run.oldest, run.newest, run.every_weeks)
    return p


def weeks_of(oldest: date, newest: date, every_weeks: int) -> int:
    """How many weeks a run of 述学 periods covers: from the oldest period's start to the end of
    the newest one's (a period lasts the rhythm: 1 or 2 weeks)."""
    return (newest - oldest).days // 7 + every_weeks
