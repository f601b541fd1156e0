"""What the Word drafts say besides the figures of ``storage.queries.figures``: the problems'
states at the period's end (overdue, 回潮) per branch, the 组织生活 details the shortfalls name
(meetings missing 四必有 items, make-ups outstanding), and a member's own records
(books, meetings missed, topic, problems owned).

Meetings are few (a branch holds some a month), so their rows are read as rows; everything
counted over records is a GROUP BY.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, distinct, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Commitment,
    Meeting,
    MeetingAttendance,
    Member,
    Organization,
    Problem,
    ProblemEvent,
    ProblemStatus,
    ShuxueAnswer,
    StudyRecord,
    Visit,
)
from storage.queries.org_life import meetings_where
from storage.queries.scope import DateRange, Scope, resolved
from storage.repositories.meetings import CREDITED
from storage.vocabulary import OPEN

OPEN_STATUSES = tuple(sorted(OPEN, key=lambda status: status.value))


@dataclass
class ProblemStates:
    """One branch's problems (reported by the period's end, not rejected) by where they stand now."""

    pending: int = 0
    rectifying: int = 0
    closure_requested: int = 0
    overdue: int = 0  # being worked on, past the deadline (on ``today``)
    reopened: int = 0  # being worked on again after a 已销号 (回潮)


def _filled(column: Any) -> Any:
    return and_(column.is_not(None), column != "")


def _once_closed() -> Any:
    return exists().where(ProblemEvent.problem_id == Problem.id,
                          ProblemEvent.to_status == ProblemStatus.closed)


async def problem_states(session: AsyncSession, scope: Scope, period: DateRange, tz: ZoneInfo,
                         today: date) -> dict[int, ProblemStates]:
    """Per branch (org id): the counts of ``ProblemStates``."""
    scope = await resolved(session, scope)
    working = Problem.status.in_(OPEN_STATUSES)
    query = (select(Problem.org_id,
                    func.sum(case((Problem.status == ProblemStatus.pending, 1), else_=0)),
                    func.sum(case((Problem.status == ProblemStatus.rectifying, 1), else_=0)),
                    func.sum(case((Problem.status == ProblemStatus.closure_requested, 1), else_=0)),
                    func.sum(case((and_(working, Problem.deadline < today), 1), else_=0)),
                    func.sum(case((and_(working, _once_closed()), 1), else_=0)))
             .where(Problem.deleted_at.is_(None), Problem.status != ProblemStatus.rejected,
                    Problem.created_at < period.utc_bounds(tz)[1],
                    *scope.where(Problem.org_id, Problem.reporter_id))
             .group_by(Problem.org_id))
    return {org_id: ProblemStates(*(int(v or 0) for v in values))
            for org_id, *values in (await session.execute(query)).all()}


@dataclass(frozen=True)
class MeetingFacts:
    """A meeting of the period: its branch, type and which 四必有 items it has."""

    org: str
    day: date
    kind: str
    timed: bool
    topic: bool
    procedure: bool
    record: bool


@dataclass(frozen=True)
class Absence:
    """An absence from a meeting that credits hours (a make-up is asked), made up or not."""

    name: str
    org: str
    day: date
    kind: str
    made_up: bool


@dataclass
class OrgLife:
    meetings: list[MeetingFacts] = field(default_factory=list)
    absences: int = 0  # every absence of an expected member (guests are not expected)
    makeups: list[Absence] = field(default_factory=list)  # the absences a make-up is asked for


async def org_life(session: AsyncSession, scope: Scope, period: DateRange) -> OrgLife:
    """The period's meetings in date order, its absences and make-ups (a member's scope: their own)."""
    scope = await resolved(session, scope)
    where = meetings_where(scope, period)
    rows = await session.execute(
        select(Organization.name, Meeting.day, Meeting.kind,
               and_(_filled(Meeting.starts), _filled(Meeting.ends)), _filled(Meeting.topic),
               _filled(Meeting.procedure), or_(_filled(Meeting.record_text), _filled(Meeting.record_file_id)))
        .join(Organization, Organization.id == Meeting.org_id).where(*where)
        .order_by(Meeting.day, Meeting.id))
    out = OrgLife([MeetingFacts(org, day, kind, bool(a), bool(b), bool(c), bool(d))
                   for org, day, kind, a, b, c, d in rows.tuples()])
    absent = [MeetingAttendance.present.is_(False), MeetingAttendance.guest.is_(False)]
    if scope.member_id is not None:
        absent.append(MeetingAttendance.member_id == scope.member_id)
    out.absences = int(await session.scalar(
        select(func.count()).select_from(MeetingAttendance)
        .join(Meeting, Meeting.id == MeetingAttendance.meeting_id).where(*where, *absent)) or 0)
    made = exists().where(StudyRecord.makeup_for_id == Meeting.id,
                          StudyRecord.member_id == MeetingAttendance.member_id,
                          StudyRecord.deleted_at.is_(None))
    rows = await session.execute(
        select(Member.name, Organization.name, Meeting.day, Meeting.kind, made)
        .select_from(MeetingAttendance)
        .join(Meeting, Meeting.id == MeetingAttendance.meeting_id)
        .join(Member, Member.id == MeetingAttendance.member_id)
        .join(Organization, Organization.id == Meeting.org_id)
        .where(*where, *absent, CREDITED).order_by(Meeting.day, Meeting.id, Member.id))
    out.makeups = [Absence(name, org, day, kind, bool(done)) for name, org, day, kind, done in rows.tuples()]
    return out


@dataclass
class OwnRecords:
    """A member's own: the books they studied, their 调研课题, the problems they own, their
    commitment and the 述学 periods their branch held."""

    books: list[str] = field(default_factory=list)
    meetings_attended: int = 0
    topic: str = ""  # the topic of most of their visits
    problems_owned: int = 0
    problems_owned_closed: int = 0
    problems_owned_overdue: int = 0
    commitment: str = ""
    shuxue_periods: int = 0


async def own_records(session: AsyncSession, member_id: int, period: DateRange, tz: ZoneInfo,
                      today: date) -> OwnRecords:
    out = OwnRecords()
    org_id = await session.scalar(select(Member.org_id).where(Member.id == member_id))
    in_period = [StudyRecord.member_id == member_id, StudyRecord.deleted_at.is_(None),
                 StudyRecord.study_date.between(period.start, period.end)]
    books = await session.execute(
        select(StudyRecord.content, func.sum(StudyRecord.minutes)).where(*in_period)
        .group_by(StudyRecord.content).order_by(func.sum(StudyRecord.minutes).desc(), StudyRecord.content))
    out.books = [content for content, _ in books.tuples() if content]
    out.meetings_attended = int(await session.scalar(
        select(func.count(distinct(StudyRecord.meeting_id))).where(*in_period,
                                                                   StudyRecord.meeting_id.is_not(None))) or 0)
    out.topic = await session.scalar(
        select(Visit.topic).where(
            Visit.member_id == member_id, Visit.deleted_at.is_(None), _filled(Visit.topic),
            Visit.visit_date.between(period.start, period.end))
        .group_by(Visit.topic).order_by(func.count().desc(), Visit.topic).limit(1)) or ""
    owned = await session.execute(
        select(func.count(), func.sum(case((Problem.status == ProblemStatus.closed, 1), else_=0)),
               func.sum(case((and_(Problem.status.in_(OPEN_STATUSES), Problem.deadline < today), 1),
                             else_=0)))
        .where(Problem.owner_id == member_id, Problem.deleted_at.is_(None),
               Problem.status.in_((*OPEN_STATUSES, ProblemStatus.closed)),
               Problem.created_at < period.utc_bounds(tz)[1]))
    n, closed, overdue = owned.one()
    out.problems_owned, out.problems_owned_closed, out.problems_owned_overdue = (
        int(n or 0), int(closed or 0), int(overdue or 0))
    out.commitment = await session.scalar(
        select(Commitment.content).where(Commitment.member_id == member_id, Commitment.deleted_at.is_(None))
        .order_by(Commitment.id.desc()).limit(1)) or ""
    out.shuxue_periods = int(await session.scalar(
        select(func.count(distinct(ShuxueAnswer.period_start)))
        .where(ShuxueAnswer.org_id == org_id,
               ShuxueAnswer.period_start.between(period.start, period.end))) or 0)
    return out
