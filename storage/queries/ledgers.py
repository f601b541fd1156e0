"""The ledgers' rows (台账): one query per sheet, read in keyset-paged chunks.

Each query selects the row's id first (the key the chunks are paged by), then the sheet's cells
in order; ``handlers.reports.ledgers`` shapes and writes them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import (
    Commitment,
    CommitmentReport,
    Member,
    Organization,
    Problem,
    ProblemEvent,
    ProblemStatus,
    ShuxueAnswer,
    StudyRecord,
    Visit,
)
from storage.queries.scope import DateRange, Scope

CHUNK = 2000
Row = Sequence[Any]
RowQuery: TypeAlias = Select[Any]


def study_rows(scope: Scope, period: DateRange, _tz: ZoneInfo) -> Select[Any]:
    return (select(StudyRecord.id, Organization.name, Member.name, StudyRecord.study_date,
                   StudyRecord.form, StudyRecord.minutes, StudyRecord.content, StudyRecord.reflection,
                   StudyRecord.created_at)
            .join(Member, Member.id == StudyRecord.member_id)
            .join(Organization, Organization.id == StudyRecord.org_id)
            .where(StudyRecord.deleted_at.is_(None), StudyRecord.study_date.between(period.start, period.end),
                   *scope.where(StudyRecord.org_id, StudyRecord.member_id)))


def visit_rows(scope: Scope, period: DateRange, _tz: ZoneInfo) -> Select[Any]:
    return (select(Visit.id, Organization.name, Member.name, Visit.visit_date, Visit.kind, Visit.place,
                   Visit.whom, Visit.heard, Visit.solved_count, Visit.topic)
            .join(Member, Member.id == Visit.member_id)
            .join(Organization, Organization.id == Visit.org_id)
            .where(Visit.deleted_at.is_(None), Visit.visit_date.between(period.start, period.end),
                   *scope.where(Visit.org_id, Visit.member_id)))


def problem_rows(scope: Scope, period: DateRange, tz: ZoneInfo) -> Select[Any]:
    closed_at = (select(func.max(ProblemEvent.at))
                 .where(ProblemEvent.problem_id == Problem.id,
                        ProblemEvent.to_status == ProblemStatus.closed)
                 .correlate(Problem).scalar_subquery())
    # 销号日期 only for a problem closed now: one that came back (回潮) is being rectified again
    closed_on = case((Problem.status == ProblemStatus.closed, closed_at))
    return (select(Problem.id, Problem.id, Organization.name, Member.name, Problem.description,
                   Problem.source, Problem.kind, Problem.owner_name, Problem.deadline, Problem.measures,
                   Problem.status, Problem.created_at, closed_on)
            .join(Member, Member.id == Problem.reporter_id)
            .join(Organization, Organization.id == Problem.org_id)
            .where(Problem.deleted_at.is_(None), Problem.created_at < period.utc_bounds(tz)[1],
                   *scope.where(Problem.org_id, Problem.reporter_id)))


def commitment_rows(scope: Scope, _period: DateRange, _tz: ZoneInfo) -> Select[Any]:
    latest = (select(CommitmentReport.text, CommitmentReport.report_date)
              .where(CommitmentReport.commitment_id == Commitment.id,
                     CommitmentReport.deleted_at.is_(None))
              .order_by(CommitmentReport.report_date.desc(), CommitmentReport.id.desc())
              .limit(1).correlate(Commitment))
    return (select(Commitment.id, Organization.name, Member.name, Commitment.content, Commitment.kept,
                   latest.with_only_columns(CommitmentReport.text).scalar_subquery(),
                   latest.with_only_columns(CommitmentReport.report_date).scalar_subquery())
            .join(Member, Member.id == Commitment.member_id)
            .join(Organization, Organization.id == Commitment.org_id)
            .where(Commitment.deleted_at.is_(None),
                   *scope.where(Commitment.org_id, Commitment.member_id)))


def shuxue_rows(scope: Scope, period: DateRange, _tz: ZoneInfo) -> Select[Any]:
    return (select(ShuxueAnswer.id, Organization.name, Member.name, ShuxueAnswer.period_start,
                   ShuxueAnswer.self_study, ShuxueAnswer.research, ShuxueAnswer.deeds,
                   ShuxueAnswer.answered_at)
            .join(Member, Member.id == ShuxueAnswer.member_id)
            .join(Organization, Organization.id == ShuxueAnswer.org_id)
            .where(ShuxueAnswer.period_start.between(period.start, period.end),
                   *scope.where(ShuxueAnswer.org_id, ShuxueAnswer.member_id)))


async def chunks(sessions: async_sessionmaker[AsyncSession], query: Select[Any]) -> AsyncIterator[list[Row]]:
    """The query's rows in id order, CHUNK at a time, each chunk read in its own short session."""
    id_column = query.selected_columns[0]
    last = 0
    while True:
        async with sessions() as session:
            rows = (await session.execute(query.where(id_column > last).order_by(id_column)
                                          .limit(CHUNK))).all()
        if not rows:
            return
        last = rows[-1][0]
        yield [row[1:] for row in rows]
        if len(rows) < CHUNK:
            return
