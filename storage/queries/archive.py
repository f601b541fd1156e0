"""What the 资料归档 reads of one branch and period: its meetings, problems (with their history
and evidence), 述学 answers, commitments and their reports, and the index lines of its study
records and visits. Deleted records are not archived. Each list is in a fixed order (date, then
id), so the same data always gives the same archive."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import (
    Commitment,
    CommitmentReport,
    Meeting,
    Member,
    Problem,
    ProblemEvidence,
    ShuxueAnswer,
    StudyRecord,
    Visit,
)
from storage.queries.ledgers import chunks
from storage.queries.scope import DateRange


@dataclass(frozen=True)
class IndexLine:
    """A record the archive lists without a document of its own (it is in 台账.xlsx)."""

    id: int
    day: date
    member: str
    summary: str


async def meetings(session: AsyncSession, org_id: int, period: DateRange) -> list[Meeting]:
    return list(await session.scalars(
        select(Meeting).where(Meeting.org_id == org_id, Meeting.deleted_at.is_(None),
                              Meeting.day.between(period.start, period.end))
        .order_by(Meeting.day, Meeting.starts, Meeting.id)))


async def problems(session: AsyncSession, org_id: int, period: DateRange, tz: ZoneInfo
                   ) -> list[Problem]:
    """The problems found in the period (their whole history, to today, comes with each)."""
    start, end = period.utc_bounds(tz)
    return list(await session.scalars(
        select(Problem).where(Problem.org_id == org_id, Problem.deleted_at.is_(None),
                              Problem.created_at >= start, Problem.created_at < end)
        .order_by(Problem.created_at, Problem.id)))


async def evidence_of(session: AsyncSession, problem_ids: list[int]) -> dict[int, list[int]]:
    """Each problem's evidence rows (their ids: the owners of its attachments), in order."""
    found: dict[int, list[int]] = {problem_id: [] for problem_id in problem_ids}
    if problem_ids:
        rows = await session.execute(
            select(ProblemEvidence.problem_id, ProblemEvidence.id)
            .where(ProblemEvidence.problem_id.in_(problem_ids)).order_by(ProblemEvidence.id))
        for problem_id, evidence_id in rows.tuples():
            found[problem_id].append(evidence_id)
    return found


async def shuxue(session: AsyncSession, org_id: int, period: DateRange
                 ) -> list[tuple[ShuxueAnswer, str]]:
    rows = await session.execute(
        select(ShuxueAnswer, Member.name).join(Member, Member.id == ShuxueAnswer.member_id)
        .where(ShuxueAnswer.org_id == org_id,
               ShuxueAnswer.period_start.between(period.start, period.end))
        .order_by(ShuxueAnswer.period_start, ShuxueAnswer.id))
    return [(answer, name) for answer, name in rows.tuples()]


async def commitments(session: AsyncSession, org_id: int, period: DateRange, tz: ZoneInfo
                      ) -> list[tuple[Commitment, str, list[CommitmentReport]]]:
    """The commitments made up to the period's end, each with its reports in the period."""
    _, end = period.utc_bounds(tz)
    rows = (await session.execute(
        select(Commitment, Member.name).join(Member, Member.id == Commitment.member_id)
        .where(Commitment.org_id == org_id, Commitment.deleted_at.is_(None),
               Commitment.created_at < end)
        .order_by(Commitment.id))).tuples().all()
    reports: dict[int, list[CommitmentReport]] = {commitment.id: [] for commitment, _ in rows}
    if reports:
        for report in await session.scalars(
                select(CommitmentReport).where(
                    CommitmentReport.commitment_id.in_(list(reports)),
                    CommitmentReport.deleted_at.is_(None),
                    CommitmentReport.report_date.between(period.start, period.end))
                .order_by(CommitmentReport.report_date, CommitmentReport.id)):
            reports[report.commitment_id].append(report)
    return [(commitment, name, reports[commitment.id]) for commitment, name in rows]


def _study(org_id: int, period: DateRange) -> Any:
    return (select(StudyRecord.id, StudyRecord.id, StudyRecord.study_date, Member.name,
                   StudyRecord.form, StudyRecord.content)
            .join(Member, Member.id == StudyRecord.member_id)
            .where(StudyRecord.org_id == org_id, StudyRecord.deleted_at.is_(None),
                   StudyRecord.study_date.between(period.start, period.end)))


def _visits(org_id: int, period: DateRange) -> Any:
    return (select(Visit.id, Visit.id, Visit.visit_date, Member.name, Visit.kind, Visit.place)
            .join(Member, Member.id == Visit.member_id)
            .where(Visit.org_id == org_id, Visit.deleted_at.is_(None),
                   Visit.visit_date.between(period.start, period.end)))


async def index_lines(sessions: async_sessionmaker[AsyncSession], kind: str, org_id: int,
                      period: DateRange) -> AsyncIterator[list[IndexLine]]:
    """The study records (``kind="study"``) or visits of a branch, in id order, in chunks."""
    query = _study(org_id, period) if kind == "study" else _visits(org_id, period)
    async for rows in chunks(sessions, query):
        yield [IndexLine(row[0], row[1], row[2], f"{row[3]}：{row[4]}") for row in rows]


async def member_names(session: AsyncSession) -> dict[int, str]:
    """Every member's name by id (the senders of files, the reporters of problems)."""
    return dict((await session.execute(select(Member.id, Member.name))).tuples().all())
