"""The campaign calendar: the campaign's dates, milestones (时间节点) and the office's days off,
replaced whole from the office's file."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Campaign, Holiday, Milestone


class CalendarRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def replace(self, milestones: list[Milestone], holidays: list[Holiday],
                      campaign: Campaign | None) -> None:
        await self.session.execute(delete(Milestone))
        await self.session.execute(delete(Holiday))
        await self.session.execute(delete(Campaign))
        self.session.add_all([*milestones, *holidays, *([campaign] if campaign else [])])
        await self.session.flush()

    async def campaign(self) -> Campaign | None:
        """The campaign's dates, if the office's calendar gave them."""
        return await self.session.scalar(select(Campaign).order_by(Campaign.id).limit(1))

    async def milestones(self) -> list[Milestone]:
        return list(await self.session.scalars(select(Milestone).order_by(Milestone.due, Milestone.id)))

    async def holidays(self) -> list[Holiday]:
        return list(await self.session.scalars(select(Holiday).order_by(Holiday.day)))
