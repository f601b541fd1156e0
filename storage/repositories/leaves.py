"""Leave (请假/出差): the days a member gets no personal reminders."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Leave


class LeaveRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def current(self, member_id: int, today: date) -> Leave | None:
        """The member's leave that lasts longest from today on, if any."""
        return await self.session.scalar(
            select(Leave).where(Leave.member_id == member_id, Leave.until >= today)
            .order_by(Leave.until.desc()).limit(1))

    async def end(self, member_id: int, today: date) -> None:
        """Every leave of the member is over yesterday."""
        await self.session.execute(update(Leave).where(Leave.member_id == member_id,
                                                       Leave.until >= today)
                                   .values(until=today - timedelta(days=1)))

    async def add(self, member_id: int, start: date, until: date, reason: str | None) -> None:
        self.session.add(Leave(member_id=member_id, start=start, until=until, reason=reason))
        await self.session.flush()
