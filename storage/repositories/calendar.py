"""The campaign calendar: milestones (时间节点) and holidays, replaced whole from the office's file."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Holiday, Milestone


class CalendarRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def replace(self, milestones: list[Milestone], holidays: list[Holiday]) -> None:
        await self.session.execute(delete(Milestone))
        await self.session.execute(delete(Holiday))
        self.session.add_all([*milestones, *holidays])
        await self.session.flush()

    async def milestones(self) -> list[Milestone]:
        return list(await self.session.scalars(select(Milestone).order_by(Milestone.due, Milestone.id)))

    async def holidays(self) -> list[Holiday]:
        return list(await self.session.scalars(select(Holiday).order_by(Holiday.day)))
