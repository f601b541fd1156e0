"""组织生活 in the reports: the office's monthly spot-check figure (meetings held per branch, type
and month, and how many of them have the 四必有) and the workbook's 组织生活 sheet.

Complete (四必有齐全): a start and end time, a topic, a procedure and a record (text or file) —
the same test as ``handlers.meetings.rules.missing_musts``, here as SQL so the database counts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.core.i18n import t
from handlers.meetings.rules import KINDS, missing_musts
from handlers.reports.figures import Scope
from handlers.reports.periods import Period
from storage.models import Meeting, MeetingAttendance, Member, Organization

CHUNK = 500
HEADERS: tuple[tuple[str, int], ...] = (
    ("report.col_branch", 20), ("meeting.col_day", 12), ("meeting.kind", 14), ("meeting.topic", 30),
    ("meeting.host", 10), ("meeting.col_present", 10), ("meeting.col_absent", 30),
    ("meeting.col_musts", 20))


def _filled(column: Any) -> Any:
    return and_(column.is_not(None), column != "")


COMPLETE = and_(_filled(Meeting.starts), _filled(Meeting.ends), _filled(Meeting.topic),
                _filled(Meeting.procedure),
                or_(_filled(Meeting.record_text), _filled(Meeting.record_file_id)))


def _month(session: AsyncSession) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(Meeting.day, "YYYY-MM")
    return func.strftime("%Y-%m", Meeting.day)


def _where(scope: Scope, period: Period) -> list[Any]:
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


async def spot_check(session: AsyncSession, scope: Scope, period: Period) -> list[SpotCheck]:
    month = _month(session).label("month")
    rows = await session.execute(
        select(Organization.name, month, Meeting.kind, func.count(),
               func.sum(case((COMPLETE, 1), else_=0)))
        .join(Organization, Organization.id == Meeting.org_id).where(*_where(scope, period))
        .group_by(Organization.id, Organization.name, month, Meeting.kind)
        .order_by(Organization.id, month, Meeting.kind))
    return [SpotCheck(org, str(m), kind, int(held), int(done or 0))
            for org, m, kind, held, done in rows.tuples()]


def spot_check_lines(rows: Sequence[SpotCheck], *, with_org: bool) -> list[str]:
    """"组织生活（四必有齐全/召开）：" then one line per branch and month."""
    if not rows:
        return [t("meeting.spot_none")]
    groups: dict[tuple[str, str], list[SpotCheck]] = {}
    for row in rows:
        groups.setdefault((row.org, row.month), []).append(row)
    lines = [t("meeting.spot_head")]
    for (org, month), items in groups.items():
        items.sort(key=lambda r: KINDS.index(r.kind) if r.kind in KINDS else len(KINDS))
        kinds = "、".join(t("meeting.spot_kind", kind=r.kind, complete=r.complete, held=r.held)
                         for r in items)
        year, mon = month.split("-")
        lines.append(t("meeting.spot_line", org=f"{org} " if with_org else "", year=year,
                       month=int(mon), kinds=kinds))
    return lines


async def summary_block(session: AsyncSession, scope: Scope, period: Period) -> str:
    """The spot-check lines appended to a branch's or the office's /summary."""
    rows = await spot_check(session, scope, period)
    return "\n" + "\n".join(spot_check_lines(rows, with_org=scope.org_ids is None
                                             or len(scope.org_ids) > 1))


async def sheet_rows(sessions: async_sessionmaker[AsyncSession], scope: Scope,
                     period: Period) -> AsyncIterator[list[list[Any]]]:
    """The 组织生活 sheet's rows (date, branch, type, topic, host, present, absentees, 四必有),
    CHUNK meetings at a time, each chunk read in its own short session."""
    last = 0
    while True:
        async with sessions() as session:
            meetings = list(await session.scalars(
                select(Meeting).where(*_where(scope, period), Meeting.id > last)
                .order_by(Meeting.id).limit(CHUNK)))
            if not meetings:
                return
            names = dict((await session.execute(select(Organization.id, Organization.name).where(
                Organization.id.in_({m.org_id for m in meetings})))).tuples().all())
            seats = await session.execute(
                select(MeetingAttendance.meeting_id, MeetingAttendance.present,
                       MeetingAttendance.absence_reason, Member.name)
                .join(Member, Member.id == MeetingAttendance.member_id)
                .where(MeetingAttendance.meeting_id.in_([m.id for m in meetings]))
                .order_by(Member.id))
            present: dict[int, int] = {}
            absent: dict[int, list[str]] = {}
            for meeting_id, here, reason, name in seats.tuples():
                if here:
                    present[meeting_id] = present.get(meeting_id, 0) + 1
                else:
                    absent.setdefault(meeting_id, []).append(f"{name}（{reason or '—'}）")
        last = meetings[-1].id
        yield [[names.get(m.org_id, ""), m.day, m.kind, m.topic or "", m.host or "",
                present.get(m.id, 0), "、".join(absent.get(m.id, [])), _musts(m)]
               for m in meetings]
        if len(meetings) < CHUNK:
            return


def _musts(meeting: Meeting) -> str:
    missing = missing_musts(meeting)
    return t("meeting.col_musts_ok") if not missing else t("meeting.col_musts_missing",
                                                           missing="、".join(missing))
