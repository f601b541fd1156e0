"""Whose rows a query counts (``Scope``) and over which days (``DateRange``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Organization, OrgKind


@dataclass(frozen=True)
class Scope:
    """Whose rows count: some branches (None: every branch), or one member."""

    org_ids: tuple[int, ...] | None = None
    member_id: int | None = None

    def where(self, org_column: Any, member_column: Any) -> list[Any]:
        if self.org_ids is None:  # every branch (not the bureau's own office members)
            branches = select(Organization.id).where(Organization.kind == OrgKind.branch)
            conditions = [org_column.in_(branches.scalar_subquery())]
        else:
            conditions = [org_column.in_(self.org_ids)]
        if self.member_id is not None:
            conditions.append(member_column == self.member_id)
        return conditions


async def resolved(session: AsyncSession, scope: Scope) -> Scope:
    """``scope`` with "every branch" spelled out as their ids: an IN list lets both databases
    use the (org_id, date) indexes, where a subquery tends to a full scan."""
    if scope.org_ids is not None:
        return scope
    ids = await session.scalars(select(Organization.id).where(Organization.kind == OrgKind.branch))
    return Scope(tuple(ids), scope.member_id)


@dataclass(frozen=True)
class DateRange:
    """A closed range of local dates."""

    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def utc_bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[from, to) in UTC, for timestamps (when a problem was reported or closed)."""
        start = datetime.combine(self.start, time.min, tz)
        end = datetime.combine(self.end + timedelta(days=1), time.min, tz)
        return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))
