"""组织生活 in SQL: the office's monthly spot check (meetings held per branch, type and month, and
how many of them have the 四必有) and the rows of the workbook's 组织生活 sheet.

Complete (四必有齐全): a start and end time, a topic, a procedure and a record (text or file) —
the same test as ``handlers.meetings.rules.missing_musts``, here as SQL so the database counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Meeting, MeetingAttendance, Member, Organization, StudyRecord
from storage.queries.scope import DateRange, Scope

CHUNK = 500


def _filled(column: Any) -> Any:
    return and_(column.is_not(None), column != "")


COMPLETE = and_(_filled(Meeting.starts), _filled(Meeting.ends), _filled(Meeting.topic),
                _filled(Meeting.procedure),
                or_(_filled(Meeting.record_text), _filled(Meeting.record_file_id)))


def _month(session: AsyncSession) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(Meeting.day, "YYYY-MM")
    return func.strftime("%Y-%m", Meeting.day)


def meetings_where(scope: Scope, period: DateRange) -> list[Any]:
    """The scope's meetings in the period; a member's scope: the meetings they were listed at."""
    where = [Meeting.deleted_at.is_(None), Meeting.day.between(period.start, period.end)]
    if scope.member_id is None:
        return where + Scope(scope.org_ids).where(Meeting.org_id, None)
    return where + [Meeting.id.in_(select(MeetingAttendance.meeting_id).where(
        MeetingAttendance.member_id == scope.member_id))]


@dataclass(frozen=True)
class SpotCheck:
    """One branch, month and kind of meeting: how many were held and how many are complete."""

    org: str
    month: str  # YYYY-MM
    kind: str
    held: int
    complete: int


async def spot_check(session: AsyncSession, scope: Scope, period: DateRange) -> list[SpotCheck]:
    month = _month(session).label("month")
    rows = await session.execute(
        select(Organization.name, month, Meeting.kind, func.count(),
               func.sum(case((COMPLETE, 1), else_=0)))
        .join(Organization, Organization.id == Meeting.org_id).where(*meetings_where(scope, period))
        .group_by(Organization.id, Organization.name, month, Meeting.kind)
        .order_by(Organization.id, month, Meeting.kind))
    return [SpotCheck(org, str(m), kind, int(held), int(done or 0))
            for org, m, kind, held, done in rows.tuples()]


@dataclass(frozen=True)
class MeetingRow:
    """A meeting of the 组织生活 sheet: its branch's name, 实到 of 应到 (guests, 列席, counted
    apart), who was absent (name, reason) and which of them made up (in a member's scope, only
    the member)."""

    meeting: Meeting
    org: str
    present: int  # 实到: expected members who were there
    absent: list[tuple[str, str | None]]
    expected: int = 0  # 应到
    guests: int = 0  # 列席
    made_up: frozenset[str] = frozenset()  # names of the absent who logged the make-up (补学)


async def meeting_rows(sessions: async_sessionmaker[AsyncSession], scope: Scope,
                       period: DateRange) -> AsyncIterator[list[MeetingRow]]:
    """The scope's meetings of the period in date order (then id), CHUNK at a time, each chunk
    read in its own short session."""
    last: tuple[Any, int] | None = None
    while True:
        async with sessions() as session:
            query = select(Meeting).where(*meetings_where(scope, period))
            if last is not None:
                query = query.where(or_(Meeting.day > last[0], and_(Meeting.day == last[0], Meeting.id > last[1])))
            meetings = list(await session.scalars(query.order_by(Meeting.day, Meeting.id).limit(CHUNK)))
            if not meetings:
                return
            ids = [m.id for m in meetings]
            names = dict((await session.execute(select(Organization.id, Organization.name).where(
                Organization.id.in_({m.org_id for m in meetings})))).tuples().all())
            seats = await session.execute(
                select(MeetingAttendance.meeting_id, MeetingAttendance.present,
                       MeetingAttendance.guest, MeetingAttendance.absence_reason, Member.name,
                       MeetingAttendance.member_id)
                .join(Member, Member.id == MeetingAttendance.member_id)
                .where(MeetingAttendance.meeting_id.in_(ids))
                .order_by(Member.id))
            makeups = set((await session.execute(
                select(StudyRecord.makeup_for_id, StudyRecord.member_id)
                .where(StudyRecord.makeup_for_id.in_(ids), StudyRecord.deleted_at.is_(None)))).tuples())
            present: Counter[int] = Counter()
            expected: Counter[int] = Counter()
            guests: Counter[int] = Counter()
            absent: dict[int, list[tuple[str, str | None]]] = {}
            made_up: dict[int, set[str]] = {}
            for meeting_id, here, guest, reason, name, member_id in seats.tuples():
                if guest:
                    guests[meeting_id] += 1
                    continue
                expected[meeting_id] += 1
                if here:
                    present[meeting_id] += 1
                elif scope.member_id in (None, member_id):  # a member's rows name no colleague
                    absent.setdefault(meeting_id, []).append((name, reason))
                    if (meeting_id, member_id) in makeups:
                        made_up.setdefault(meeting_id, set()).add(name)
        last = (meetings[-1].day, meetings[-1].id)
        yield [MeetingRow(m, names.get(m.org_id, ""), present[m.id], absent.get(m.id, []),
                          expected[m.id], guests[m.id], frozenset(made_up.get(m.id, ())))
               for m in meetings]
        if len(meetings) < CHUNK:
            return
