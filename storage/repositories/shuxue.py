"""述学: each branch's rhythm and the members' answers, one a member a period."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member, ShuxueAnswer, ShuxueSchedule


class ShuxueRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def schedule(self, org_id: int) -> ShuxueSchedule | None:
        return await self.session.scalar(
            select(ShuxueSchedule).where(ShuxueSchedule.org_id == org_id))

    async def set_schedule(self, org_id: int, **values: Any) -> ShuxueSchedule:
        """Set the branch's rhythm (the columns named in ``values``), made if it had none."""
        schedule = await self.schedule(org_id)
        if schedule is None:
            schedule = ShuxueSchedule(org_id=org_id)
            self.session.add(schedule)
        for key, value in values.items():
            setattr(schedule, key, value)
        await self.session.flush()
        return schedule

    async def answer(self, member_id: int, period: date) -> ShuxueAnswer | None:
        return await self.session.scalar(select(ShuxueAnswer).where(
            ShuxueAnswer.member_id == member_id, ShuxueAnswer.period_start == period))

    async def save_answer(self, member: Member, period: date, *, self_study: str,
                          research: str, deeds: str, at: datetime) -> ShuxueAnswer:
        """The member's answer for the period, written anew or over the one they gave."""
        answer = await self.answer(member.id, period)
        if answer is None:
            answer = ShuxueAnswer(member_id=member.id, org_id=member.org_id, period_start=period)
            self.session.add(answer)
        answer.self_study, answer.research, answer.deeds = self_study, research, deeds
        answer.answered_at = at
        await self.session.flush()
        return answer

    async def answered(self, org_id: int, period: date) -> set[int]:
        """The members of the branch who answered the period's 述学."""
        return set(await self.session.scalars(select(ShuxueAnswer.member_id).where(
            ShuxueAnswer.org_id == org_id, ShuxueAnswer.period_start == period)))
