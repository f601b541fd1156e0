"""What a member logged since a day: what 述学 offers to prefill its answers with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Problem, StudyRecord, Visit


@dataclass(frozen=True)
class Logged:
    minutes: int  # of study
    studies: int
    contents: list[str]  # the newest two distinct study contents
    visits: int
    solved: int  # problems solved on the spot, over those visits
    places: list[str]  # the newest two distinct places visited
    problems: int  # problems reported


async def logged_since(session: AsyncSession, member_id: int, since: date,
                       since_at: datetime) -> Logged:
    """From ``since`` (``since_at``: its start, in UTC, for when problems were reported)."""
    live = StudyRecord.deleted_at.is_(None)
    minutes, count = (await session.execute(
        select(func.coalesce(func.sum(StudyRecord.minutes), 0), func.count())
        .where(StudyRecord.member_id == member_id, StudyRecord.study_date >= since, live))).one()
    contents = list(await session.scalars(
        select(StudyRecord.content).where(StudyRecord.member_id == member_id,
                                          StudyRecord.study_date >= since, live)
        .group_by(StudyRecord.content).order_by(func.max(StudyRecord.id).desc()).limit(2)))
    visits, solved = (await session.execute(
        select(func.count(), func.coalesce(func.sum(Visit.solved_count), 0))
        .where(Visit.member_id == member_id, Visit.visit_date >= since,
               Visit.deleted_at.is_(None)))).one()
    places = list(await session.scalars(
        select(Visit.place).where(Visit.member_id == member_id, Visit.visit_date >= since,
                                  Visit.deleted_at.is_(None))
        .group_by(Visit.place).order_by(func.max(Visit.id).desc()).limit(2)))
    problems = await session.scalar(
        select(func.count()).select_from(Problem).where(
            Problem.reporter_id == member_id, Problem.deleted_at.is_(None),
            Problem.created_at >= since_at)) or 0
    return Logged(int(minutes), count, contents, visits, int(solved), places, problems)
