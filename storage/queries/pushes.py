"""What the planner reads besides the audience: milestones due, problems in work, study hours
so far, paired places and their last visit."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Milestone, Pairing, Problem, ProblemEvent, StudyRecord, Visit
from storage.vocabulary import OPEN


async def milestones_from(session: AsyncSession, day: date) -> list[Milestone]:
    """The milestones due on or after ``day``."""
    return list(await session.scalars(select(Milestone).where(Milestone.due >= day)))


async def open_problems(session: AsyncSession) -> list[tuple[Problem, datetime]]:
    """Every live problem being worked on, with the time of its last change."""
    last_update = (select(ProblemEvent.problem_id, func.max(ProblemEvent.at).label("at"))
                   .group_by(ProblemEvent.problem_id).subquery())
    rows = await session.execute(
        select(Problem, last_update.c.at).join(last_update, last_update.c.problem_id == Problem.id)
        .where(Problem.status.in_(OPEN), Problem.deleted_at.is_(None)))
    return list(rows.tuples())


async def study_minutes(session: AsyncSession, start: date, end: date) -> dict[int, int]:
    """Per member, the minutes of study dated from ``start`` to ``end``."""
    rows = await session.execute(
        select(StudyRecord.member_id, func.sum(StudyRecord.minutes))
        .where(StudyRecord.study_date >= start, StudyRecord.study_date <= end,
               StudyRecord.deleted_at.is_(None))
        .group_by(StudyRecord.member_id))
    return {member_id: int(minutes or 0) for member_id, minutes in rows.tuples()}


async def pairings(session: AsyncSession) -> list[tuple[Pairing, date | None]]:
    """Every paired place (结对居村) with the day its member last visited it (None: never)."""
    last_visit = (select(Visit.member_id, Visit.place, func.max(Visit.visit_date).label("last"))
                  .where(Visit.deleted_at.is_(None)).group_by(Visit.member_id, Visit.place).subquery())
    rows = await session.execute(
        select(Pairing, last_visit.c.last).outerjoin(
            last_visit, (last_visit.c.member_id == Pairing.member_id)
            & (last_visit.c.place == Pairing.place)))
    return list(rows.tuples())
