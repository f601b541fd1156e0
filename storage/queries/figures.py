"""Every figure the summaries, ledgers and the stage summary report — defined once, here.

Each figure is one SQL aggregate computed by the database (GROUP BY, never a Python loop over
records), grouped by branch (``by_org=True``), over the whole scope, or per member. The study and
visit figures of branches add up the daily tallies (``storage.tallies``, where what a day counts is
written), so a year costs a row a branch a day, not a row a record. Deleted records
(``deleted_at`` set) are never counted; inactive members are not among the members (人数, 参与率,
未报送, the member list), while the records they logged when active stay in the totals. The
README's "Glossary of figures" says the same in words; keep the two in step.

Definitions:
- 学习时长 (study hours): SUM(study_records.minutes) / 60 for study dates in the period.
- 集中学习 (group study): a record whose form is in ``storage.vocabulary.GROUP_FORMS``. 集中学习次数
  (sessions) counts distinct (branch, form, date): everyone who attended one session logs it, and
  it is one session.
  参与人次 (attendances) counts the records themselves: one member at one session is one 人次.
- 读书班 days: distinct (branch, date) of records with form 读书班; its 人次 are those records.
- 调研走访次数 (visits): visit records dated in the period; 解决问题数: SUM(visits.solved_count);
  调研课题: distinct non-empty visit topics.
- 查摆问题 (problems found): problems reported in the period (created_at), not rejected.
  已销号 (closed in the period): a 已销号 event in the period on a problem still closed.
- 整改率 (rectification rate) = problems now closed / problems accepted, over problems reported up
  to the end of the period; accepted = ever reached 整改中, which in the lifecycle
  (``storage.vocabulary.ACCEPTED``, the same denominator /problems uses) is a status of
  整改中, 申请销号 or 已销号. No accepted problem: no rate (said so, not 0%).
- 述学: answers (shuxue_answers rows) whose period_start is in the period; 述学期数: distinct
  period_start; 连续述学 (streak): the most recent periods in a row, each with an answer.
- 承诺: members with a (not deleted) commitment; 已兑现: of them, those whose commitment is kept.
- 参与率 (participation): active members with at least one study or visit record in the period,
  divided by active members. 未报送 (not reported): active members with neither.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, distinct, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Commitment,
    DailyTally,
    DailyTopic,
    Member,
    Organization,
    Problem,
    ProblemEvent,
    ProblemStatus,
    ShuxueAnswer,
    ShuxueSchedule,
    StudyRecord,
    Visit,
)
from storage.queries.scope import DateRange, Scope, resolved
from storage.tallies import TALLY_COLUMNS, day_rows, topic_rows
from storage.vocabulary import ACCEPTED

# The tally columns ``Totals`` adds up (the others are the papers': ``storage.queries.papers``).
SUMMED = ("study_minutes", "study_records", "group_sessions", "group_attendances", "reading_days",
          "reading_attendances", "visits", "solved")
assert set(SUMMED) <= set(TALLY_COLUMNS)
ACCEPTED_STATUSES = tuple(sorted(ACCEPTED, key=lambda status: status.value))  # the lifecycle's own
ALL = 0  # the key of the one row when figures are not grouped by branch


@dataclass
class Totals:
    """One branch's (or the whole scope's) figures for a period."""

    members: int = 0
    reported: int = 0
    study_minutes: int = 0
    study_records: int = 0
    group_sessions: int = 0
    group_attendances: int = 0
    reading_days: int = 0
    reading_attendances: int = 0
    visits: int = 0
    solved: int = 0
    topics: int = 0
    problems_found: int = 0
    problems_closed_in_period: int = 0
    problems_listed: int = 0
    problems_accepted: int = 0
    problems_closed: int = 0
    shuxue_answers: int = 0
    shuxue_periods: int = 0
    shuxue_streak: int = 0
    commitments: int = 0
    commitments_kept: int = 0

    @property
    def study_hours(self) -> float:
        return self.study_minutes / 60

    @property
    def hours_per_member(self) -> float | None:
        return self.study_minutes / 60 / self.members if self.members else None

    @property
    def participation(self) -> float | None:
        return self.reported / self.members if self.members else None

    @property
    def rectification_rate(self) -> float | None:
        return self.problems_closed / self.problems_accepted if self.problems_accepted else None


def added(rows: Iterable[Totals]) -> Totals:
    """Branches' figures together (the bureau's over its branches): every count summed, the
    streak and 述学期数 the longest of them. (A member belongs to one branch, so 人数, 参与 add up;
    调研课题 are each branch's own.)"""
    out = Totals()
    for row in rows:
        for f in fields(Totals):
            here, there = getattr(out, f.name), getattr(row, f.name)
            summed = max(here, there) if f.name in ("shuxue_streak", "shuxue_periods") else here + there
            setattr(out, f.name, summed)
    return out


@dataclass
class MemberFigures:
    member_id: int
    name: str
    minutes_by_form: dict[str, int] = field(default_factory=dict)
    visits: int = 0
    solved: int = 0
    problems_found: int = 0
    problems_closed: int = 0
    shuxue_answers: int = 0
    commitment: bool = False
    commitment_kept: bool = False

    @property
    def study_minutes(self) -> int:
        return sum(self.minutes_by_form.values())

    @property
    def reported(self) -> bool:
        return bool(self.minutes_by_form) or self.visits > 0


def _key(column: Any, by_org: bool) -> Any:
    return column.label("k") if by_org else literal(ALL).label("k")


def _grouped(query: Select[Any], by_org: bool) -> Select[Any]:
    return query.group_by("k") if by_org else query


async def _rows(session: AsyncSession, query: Select[Any]) -> Sequence[Any]:
    return (await session.execute(query)).all()


def _study_where(scope: Scope | None, period: DateRange) -> list[Any]:
    scoped = scope.where(StudyRecord.org_id, StudyRecord.member_id) if scope else []
    return [StudyRecord.deleted_at.is_(None), StudyRecord.study_date.between(period.start, period.end),
            *scoped]


def _visit_where(scope: Scope | None, period: DateRange) -> list[Any]:
    scoped = scope.where(Visit.org_id, Visit.member_id) if scope else []
    return [Visit.deleted_at.is_(None), Visit.visit_date.between(period.start, period.end), *scoped]


def days_of(scope: Scope, period: DateRange) -> Any:
    """The period's daily tallies of the scope: the stored ones for branches, counted from the
    records (by the same definition) for one member."""
    if scope.member_id is None:
        return (select(DailyTally).where(DailyTally.day.between(period.start, period.end),
                                         *scope.where(DailyTally.org_id, None)).subquery())
    return day_rows(_study_where(scope, period), _visit_where(scope, period)).subquery()


def _topics(scope: Scope, period: DateRange) -> Any:
    """The period's (org_id, day, topic) rows of the scope, as ``_days`` chooses its source."""
    if scope.member_id is None:
        return (select(DailyTopic).where(DailyTopic.day.between(period.start, period.end),
                                         *scope.where(DailyTopic.org_id, None)).subquery())
    return topic_rows(_visit_where(scope, period)).subquery()


def _accepted() -> Any:
    """Accepted for rectification: the lifecycle never leads from these back out of them, so the
    status alone says whether a problem ever reached 整改中."""
    return Problem.status.in_(ACCEPTED_STATUSES)


def _closed_in(bounds: tuple[Any, Any]) -> Any:
    """A 已销号 event inside ``bounds`` on a problem that is still closed. (IN a subquery, not a
    correlated EXISTS: the database builds the set of ids once, not a lookup per problem.)"""
    closed = select(ProblemEvent.problem_id).where(ProblemEvent.to_status == ProblemStatus.closed,
                                                   ProblemEvent.at >= bounds[0], ProblemEvent.at < bounds[1])
    return and_(Problem.status == ProblemStatus.closed, Problem.id.in_(closed))


def _as_int(value: Any) -> int:
    return int(value or 0)


async def totals(session: AsyncSession, scope: Scope, period: DateRange, tz: ZoneInfo,
                 *, by_org: bool = True) -> dict[int, Totals]:
    """The figures per branch (keyed by org id), or for the whole scope (keyed by ``ALL``)."""
    scope = await resolved(session, scope)
    out: dict[int, Totals] = {}

    def row(key: int) -> Totals:
        return out.setdefault(key, Totals())

    # Members and participation: per active member, does a record of the period exist (an index
    # probe per member, not a pass over the period's records).
    reported = or_(exists().where(*_study_where(scope, period), StudyRecord.member_id == Member.id),
                   exists().where(*_visit_where(scope, period), Visit.member_id == Member.id))
    query = (select(_key(Member.org_id, by_org), func.count(), func.sum(case((reported, 1), else_=0)))
             .where(Member.active, *scope.where(Member.org_id, Member.id)))
    for k, members, reported_n in await _rows(session, _grouped(query, by_org)):
        row(k).members, row(k).reported = members, _as_int(reported_n)

    # Study and visits: the daily tallies added up (storage.tallies defines what each counts).
    days = days_of(scope, period)
    query = select(_key(days.c.org_id, by_org), *(func.sum(days.c[c]) for c in SUMMED))
    for k, *sums in await _rows(session, _grouped(query, by_org)):
        t = row(k)
        (t.study_minutes, t.study_records, t.group_sessions, t.group_attendances, t.reading_days,
         t.reading_attendances, t.visits, t.solved) = (_as_int(v) for v in sums)
    topics = _topics(scope, period)
    distinct_topics = select(_key(topics.c.org_id, by_org), topics.c.topic).distinct().subquery()
    query = select(distinct_topics.c.k, func.count()).group_by(distinct_topics.c.k)
    for k, topics_n in await _rows(session, query):
        row(k).topics = topics_n

    # Problems.
    bounds = period.utc_bounds(tz)
    listed = [Problem.deleted_at.is_(None), Problem.status != ProblemStatus.rejected,
              Problem.created_at < bounds[1], *scope.where(Problem.org_id, Problem.reporter_id)]
    found = Problem.created_at >= bounds[0]
    query = select(_key(Problem.org_id, by_org), func.count(),
                   func.sum(case((found, 1), else_=0)),
                   func.sum(case((_accepted(), 1), else_=0)),
                   func.sum(case((Problem.status == ProblemStatus.closed, 1), else_=0)),
                   func.sum(case((_closed_in(bounds), 1), else_=0))).where(*listed)
    for k, n, found_n, accepted, closed, closed_now in await _rows(session, _grouped(query, by_org)):
        t = row(k)
        t.problems_listed, t.problems_found = n, _as_int(found_n)
        t.problems_accepted, t.problems_closed = _as_int(accepted), _as_int(closed)
        t.problems_closed_in_period = _as_int(closed_now)

    # 述学.
    answered = [ShuxueAnswer.period_start.between(period.start, period.end),
                *scope.where(ShuxueAnswer.org_id, ShuxueAnswer.member_id)]
    query = select(_key(ShuxueAnswer.org_id, by_org), func.count(),
                   func.count(distinct(ShuxueAnswer.period_start))).where(*answered)
    for k, answers, periods in await _rows(session, _grouped(query, by_org)):
        row(k).shuxue_answers, row(k).shuxue_periods = answers, periods
    for k, streak in (await shuxue_streaks(session, scope, period, by_org=by_org)).items():
        row(k).shuxue_streak = streak

    # Commitments.
    made = [Commitment.deleted_at.is_(None), *scope.where(Commitment.org_id, Commitment.member_id)]
    query = select(_key(Commitment.org_id, by_org), func.count(distinct(Commitment.member_id)),
                   func.count(distinct(case((Commitment.kept, Commitment.member_id))))).where(*made)
    for k, members_with, kept in await _rows(session, _grouped(query, by_org)):
        row(k).commitments, row(k).commitments_kept = members_with, kept
    return out


@dataclass(frozen=True)
class StreakRun:
    """The newest run of answered 述学 periods in a row: how many, the first and last period's
    start, and the rhythm (weeks a period lasts)."""

    periods: int
    oldest: date
    newest: date
    every_weeks: int


async def streak_runs(session: AsyncSession, scope: Scope, period: DateRange, *,
                      by_org: bool) -> dict[int, StreakRun]:
    """连续述学: per branch (or over the scope), the newest answered 述学 periods in a row up to
    the period's end.

    The database gives the distinct answered periods (at most one a week per branch); the run is
    counted from the newest back, a gap being more than the branch's rhythm (1 or 2 weeks).
    """
    scope = await resolved(session, scope)
    answered = (select(ShuxueAnswer.org_id, ShuxueAnswer.period_start)
                .where(ShuxueAnswer.period_start <= period.end,
                       *scope.where(ShuxueAnswer.org_id, ShuxueAnswer.member_id))
                .distinct().subquery())  # a row a branch a week, before the schedules are joined
    rhythm = func.coalesce(ShuxueSchedule.every_weeks, 1)
    query = (select(_key(answered.c.org_id, by_org), answered.c.period_start, func.max(rhythm))
             .outerjoin(ShuxueSchedule, ShuxueSchedule.org_id == answered.c.org_id)
             .group_by("k", answered.c.period_start)
             .order_by("k", answered.c.period_start.desc()))
    runs: dict[int, StreakRun] = {}
    broken: set[int] = set()
    for k, start, weeks in await _rows(session, query):
        start, weeks = _as_date(start), int(weeks or 1)
        if k in broken:
            continue
        run = runs.get(k)
        if run is None:
            runs[k] = StreakRun(1, start, start, weeks)
        elif (run.oldest - start) > timedelta(days=7 * weeks):
            broken.add(k)
        else:
            runs[k] = StreakRun(run.periods + 1, start, run.newest, max(run.every_weeks, weeks))
    return runs


async def shuxue_streaks(session: AsyncSession, scope: Scope, period: DateRange, *,
                         by_org: bool) -> dict[int, int]:
    """连续述学 期数, per branch (or over the scope): see ``streak_runs``."""
    return {k: run.periods for k, run in (await streak_runs(session, scope, period, by_org=by_org)).items()}


async def member_figures(session: AsyncSession, scope: Scope, period: DateRange,
                         tz: ZoneInfo) -> list[MemberFigures]:
    """Per active member of the scope, in roster order: the figures of ``MemberFigures``."""
    scope = await resolved(session, scope)
    members = await _rows(session, select(Member.id, Member.name).where(
        Member.active, *scope.where(Member.org_id, Member.id)).order_by(Member.id))
    by_id = {member_id: MemberFigures(member_id, name) for member_id, name in members}

    query = (select(StudyRecord.member_id, StudyRecord.form, func.sum(StudyRecord.minutes))
             .where(*_study_where(scope, period)).group_by(StudyRecord.member_id, StudyRecord.form))
    for member_id, form, minutes in await _rows(session, query):
        if member_id in by_id:
            by_id[member_id].minutes_by_form[form] = _as_int(minutes)

    query = (select(Visit.member_id, func.count(), func.sum(Visit.solved_count))
             .where(*_visit_where(scope, period)).group_by(Visit.member_id))
    for member_id, visits, solved in await _rows(session, query):
        if member_id in by_id:
            by_id[member_id].visits, by_id[member_id].solved = visits, _as_int(solved)

    bounds = period.utc_bounds(tz)
    query = (select(Problem.reporter_id,
                    func.sum(case((Problem.created_at >= bounds[0], 1), else_=0)),
                    func.sum(case((_closed_in(bounds), 1), else_=0)))
             .where(Problem.deleted_at.is_(None), Problem.status != ProblemStatus.rejected,
                    Problem.created_at < bounds[1], *scope.where(Problem.org_id, Problem.reporter_id))
             .group_by(Problem.reporter_id))
    for member_id, found, closed in await _rows(session, query):
        if member_id in by_id:
            by_id[member_id].problems_found, by_id[member_id].problems_closed = _as_int(found), _as_int(closed)

    query = (select(ShuxueAnswer.member_id, func.count())
             .where(ShuxueAnswer.period_start.between(period.start, period.end),
                    *scope.where(ShuxueAnswer.org_id, ShuxueAnswer.member_id))
             .group_by(ShuxueAnswer.member_id))
    for member_id, answers in await _rows(session, query):
        if member_id in by_id:
            by_id[member_id].shuxue_answers = answers

    query = (select(Commitment.member_id, func.max(case((Commitment.kept, 1), else_=0)))
             .where(Commitment.deleted_at.is_(None), *scope.where(Commitment.org_id, Commitment.member_id))
             .group_by(Commitment.member_id))
    for member_id, kept in await _rows(session, query):
        if member_id in by_id:
            by_id[member_id].commitment, by_id[member_id].commitment_kept = True, bool(kept)
    return list(by_id.values())


async def first_day(session: AsyncSession) -> date | None:
    """The first day anything was logged (deleted or not): where "the campaign so far" starts.

    Asked per branch, so each MIN is one step down the (org_id, date) indexes, not a scan.
    """
    firsts = []
    for model, day in ((StudyRecord, StudyRecord.study_date), (Visit, Visit.visit_date)):
        per_org = (select(func.min(day)).where(model.org_id == Organization.id)
                   .correlate(Organization).scalar_subquery())
        firsts.append(await session.scalar(select(func.min(per_org)).select_from(Organization)))
    found = [_as_date(d) for d in firsts if d is not None]
    return min(found) if found else None


def week_of(column: Any, dialect: str) -> Any:
    """The Monday of the week a date column falls in, computed by the database."""
    if dialect == "postgresql":
        return func.date(func.date_trunc("week", column))
    return func.date(column, "weekday 0", "-6 days")  # SQLite: the next Sunday (or today), −6


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def weekly(session: AsyncSession, scope: Scope, period: DateRange) -> dict[str, dict[tuple[int, date], float]]:
    """Per branch and week: study hours and visits (for the charts)."""
    scope = await resolved(session, scope)
    dialect = session.get_bind().dialect.name
    week = week_of(StudyRecord.study_date, dialect).label("w")
    study = (select(StudyRecord.org_id, week, func.sum(StudyRecord.minutes))
             .where(*_study_where(scope, period)).group_by(StudyRecord.org_id, "w"))
    week = week_of(Visit.visit_date, dialect).label("w")
    visits = (select(Visit.org_id, week, func.count())
              .where(*_visit_where(scope, period)).group_by(Visit.org_id, "w"))
    return {
        "hours": {(k, _as_date(w)): _as_int(v) / 60 for k, w, v in await _rows(session, study)},
        "visits": {(k, _as_date(w)): float(v) for k, w, v in await _rows(session, visits)},
    }


async def problem_flow(session: AsyncSession, scope: Scope, period: DateRange,
                       tz: ZoneInfo) -> dict[str, dict[date, int]]:
    """Per week up to the period's end: problems reported, accepted into 整改中, closed (the
    chart adds them up into totals over time). A problem that came back (回潮) leaves the closed
    total in the week it came back, so the chart's last point is the problems closed now, as
    every other output counts them (and its coming back is not a second acceptance)."""
    scope = await resolved(session, scope)
    dialect = session.get_bind().dialect.name
    end = period.utc_bounds(tz)[1]
    week = week_of(func.date(ProblemEvent.at), dialect).label("w")
    reopened = and_(ProblemEvent.from_status == ProblemStatus.closed,
                    ProblemEvent.to_status == ProblemStatus.rectifying)
    counted = or_(ProblemEvent.to_status.in_((ProblemStatus.pending, ProblemStatus.closed)),
                  and_(ProblemEvent.to_status == ProblemStatus.rectifying,
                       ProblemEvent.from_status == ProblemStatus.pending))
    moved = case((reopened, literal("reopened")), else_=ProblemEvent.to_status).label("moved")
    query = (select(moved, week, func.count(distinct(ProblemEvent.problem_id)))
             .join(Problem, Problem.id == ProblemEvent.problem_id)
             .where(Problem.deleted_at.is_(None), ProblemEvent.at < end, or_(counted, reopened),
                    *scope.where(Problem.org_id, Problem.reporter_id))
             .group_by("moved", "w"))
    shown = (ProblemStatus.pending, ProblemStatus.rectifying, ProblemStatus.closed)
    flow: dict[str, dict[date, int]] = {s.value: {} for s in shown}
    for status, w, n in await _rows(session, query):
        day = _as_date(w)
        if status == "reopened":
            closed = flow[ProblemStatus.closed.value]
            closed[day] = closed.get(day, 0) - n
        else:
            flow[ProblemStatus(status).value][day] = flow[ProblemStatus(status).value].get(day, 0) + n
    return flow


async def hours_by_form(session: AsyncSession, scope: Scope, period: DateRange) -> dict[str, int]:
    """Study minutes per form over the scope."""
    scope = await resolved(session, scope)
    query = (select(StudyRecord.form, func.sum(StudyRecord.minutes))
             .where(*_study_where(scope, period)).group_by(StudyRecord.form))
    return {form: _as_int(minutes) for form, minutes in await _rows(session, query)}
