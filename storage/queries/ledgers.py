"""The ledgers' rows (台账): one query per sheet, in date order, read in keyset-paged chunks.

Each query selects the row's id and the date it is ordered by first (the keyset the chunks are
paged by: date, then id), then the sheet's cells in order; ``handlers.reports.ledgers`` shapes
and writes them. Paging by (date, id) keeps the order a ledger prints in (a record logged late
for an earlier day sits with its day) without sorting a year of rows in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import (
    Commitment,
    CommitmentReport,
    Meeting,
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
    """(branch, name, date, form, minutes, content, reflection, the meeting that credited it)."""
    return (select(StudyRecord.id, StudyRecord.study_date, Organization.name, Member.name,
                   StudyRecord.study_date, StudyRecord.form, StudyRecord.minutes, StudyRecord.content,
                   StudyRecord.reflection, Meeting.kind, StudyRecord.makeup_for_id)
            .join(Member, Member.id == StudyRecord.member_id)
            .join(Organization, Organization.id == StudyRecord.org_id)
            .outerjoin(Meeting, Meeting.id == StudyRecord.meeting_id)
            .where(StudyRecord.deleted_at.is_(None), StudyRecord.study_date.between(period.start, period.end),
                   *scope.where(StudyRecord.org_id, StudyRecord.member_id)))


def visit_rows(scope: Scope, period: DateRange, _tz: ZoneInfo) -> Select[Any]:
    return (select(Visit.id, Visit.visit_date, Organization.name, Member.name, Visit.visit_date, Visit.kind,
                   Visit.place, Visit.whom, Visit.heard, Visit.solved_count, Visit.topic)
            .join(Member, Member.id == Visit.member_id)
            .join(Organization, Organization.id == Visit.org_id)
            .where(Visit.deleted_at.is_(None), Visit.visit_date.between(period.start, period.end),
                   *scope.where(Visit.org_id, Visit.member_id)))


def problem_rows(scope: Scope, period: DateRange, tz: ZoneInfo) -> Select[Any]:
    """(branch, its number in the branch's list, reporter, found, description, source, kind, owner,
    deadline, measures, status, latest progress note, latest 完成比例 (since the last 回潮), closed
    at, once closed).

    The number counts every live problem of the branch in the order reported, so it stays the
    same whatever the period or the reader."""
    numbered = (select(Problem.id.label("pid"),
                       func.row_number().over(partition_by=Problem.org_id,
                                              order_by=(Problem.created_at, Problem.id)).label("seq"))
                .where(Problem.deleted_at.is_(None)).subquery())

    def latest(column: Any, *where: Any) -> Any:
        return (select(column).where(ProblemEvent.problem_id == Problem.id, *where)
                .order_by(ProblemEvent.at.desc(), ProblemEvent.id.desc()).limit(1)
                .correlate(Problem).scalar_subquery())

    closed_at = (select(func.max(ProblemEvent.at))
                 .where(ProblemEvent.problem_id == Problem.id,
                        ProblemEvent.to_status == ProblemStatus.closed)
                 .correlate(Problem).scalar_subquery())
    once_closed = exists().where(ProblemEvent.problem_id == Problem.id,
                                 ProblemEvent.to_status == ProblemStatus.closed)
    note = and_(ProblemEvent.note.is_not(None), ProblemEvent.note != "",
                ProblemEvent.action.in_(("update", "request_closure", "send_back", "reopen")))
    # 完成比例 reported since the problem last came back (回潮): a reopened problem is not as
    # done as it was before it was closed
    reopened = (select(func.coalesce(func.max(ProblemEvent.id), 0))
                .where(ProblemEvent.problem_id == Problem.id, ProblemEvent.action == "reopen")
                .correlate(Problem).scalar_subquery())
    return (select(Problem.id, Problem.created_at, Organization.name, numbered.c.seq, Member.name,
                   Problem.created_at, Problem.description, Problem.source, Problem.kind, Problem.owner_name,
                   Problem.deadline, Problem.measures, Problem.status, latest(ProblemEvent.note, note),
                   latest(ProblemEvent.percent, ProblemEvent.percent.is_not(None), ProblemEvent.id > reopened),
                   closed_at, once_closed)
            .join(numbered, numbered.c.pid == Problem.id)
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
    return (select(Commitment.id, Commitment.created_at, Organization.name, Member.name, Commitment.created_at,
                   Commitment.content, Commitment.kept,
                   latest.with_only_columns(CommitmentReport.text).scalar_subquery(),
                   latest.with_only_columns(CommitmentReport.report_date).scalar_subquery())
            .join(Member, Member.id == Commitment.member_id)
            .join(Organization, Organization.id == Commitment.org_id)
            .where(Commitment.deleted_at.is_(None),
                   *scope.where(Commitment.org_id, Commitment.member_id)))


def shuxue_rows(scope: Scope, period: DateRange, _tz: ZoneInfo) -> Select[Any]:
    return (select(ShuxueAnswer.id, ShuxueAnswer.period_start, Organization.name, Member.name,
                   ShuxueAnswer.period_start, ShuxueAnswer.self_study, ShuxueAnswer.research, ShuxueAnswer.deeds,
                   ShuxueAnswer.answered_at)
            .join(Member, Member.id == ShuxueAnswer.member_id)
            .join(Organization, Organization.id == ShuxueAnswer.org_id)
            .where(ShuxueAnswer.period_start.between(period.start, period.end),
                   *scope.where(ShuxueAnswer.org_id, ShuxueAnswer.member_id)))


async def chunks(sessions: async_sessionmaker[AsyncSession], query: Select[Any]) -> AsyncIterator[list[Row]]:
    """The query's rows in (date, id) order, CHUNK at a time, each chunk read in its own short
    session; a row is yielded without its id and date keys."""
    id_column, day_column = query.selected_columns[0], query.selected_columns[1]
    last: tuple[Any, int] | None = None
    while True:
        page = query
        if last is not None:
            page = page.where(or_(day_column > last[0], and_(day_column == last[0], id_column > last[1])))
        async with sessions() as session:
            rows = (await session.execute(page.order_by(day_column, id_column).limit(CHUNK))).all()
        if not rows:
            return
        last = (rows[-1][1], rows[-1][0])
        yield [row[2:] for row in rows]
        if len(rows) < CHUNK:
            return
