"""The Excel ledgers (台账): one workbook, seven sheets, streamed so memory stays bounded.

Rows are read in keyset-paged chunks, each in its own short session, so a big export never holds
the (single, on SQLite) database connection for long and other users' events get their turn in
between. openpyxl's write-only mode writes each chunk straight to a temporary file, off the event
loop (``asyncio.to_thread``).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.core.i18n import t
from handlers.reports import org_life
from handlers.reports.figures import Scope, Totals
from handlers.reports.periods import Period
from handlers.reports.text import hours, percent
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

CHUNK = 2000
Row = Sequence[Any]


@dataclass(frozen=True)
class Sheet:
    title: str  # catalogue key
    headers: tuple[tuple[str, int], ...]  # (catalogue key, column width)
    query: Callable[[Scope, Period, ZoneInfo], Select[Any]]  # must select the row id first
    shape: Callable[[Row, ZoneInfo], Row]  # a result row (without its id) → cells


def _local_date(value: datetime | None, tz: ZoneInfo) -> date | None:
    return None if value is None else value.astimezone(tz).date()


def _local_time(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    return None if value is None else value.astimezone(tz).replace(tzinfo=None)


def _study(scope: Scope, period: Period, _tz: ZoneInfo) -> Select[Any]:
    return (select(StudyRecord.id, Organization.name, Member.name, StudyRecord.study_date,
                   StudyRecord.form, StudyRecord.minutes, StudyRecord.content, StudyRecord.reflection,
                   StudyRecord.created_at)
            .join(Member, Member.id == StudyRecord.member_id)
            .join(Organization, Organization.id == StudyRecord.org_id)
            .where(StudyRecord.deleted_at.is_(None), StudyRecord.study_date.between(period.start, period.end),
                   *scope.where(StudyRecord.org_id, StudyRecord.member_id)))


def _visits(scope: Scope, period: Period, _tz: ZoneInfo) -> Select[Any]:
    return (select(Visit.id, Organization.name, Member.name, Visit.visit_date, Visit.kind, Visit.place,
                   Visit.whom, Visit.heard, Visit.solved_count, Visit.topic)
            .join(Member, Member.id == Visit.member_id)
            .join(Organization, Organization.id == Visit.org_id)
            .where(Visit.deleted_at.is_(None), Visit.visit_date.between(period.start, period.end),
                   *scope.where(Visit.org_id, Visit.member_id)))


def _problems(scope: Scope, period: Period, tz: ZoneInfo) -> Select[Any]:
    closed_at = (select(func.max(ProblemEvent.at))
                 .where(ProblemEvent.problem_id == Problem.id,
                        ProblemEvent.to_status == ProblemStatus.closed)
                 .correlate(Problem).scalar_subquery())
    return (select(Problem.id, Problem.id, Organization.name, Member.name, Problem.description,
                   Problem.source, Problem.kind, Problem.owner_name, Problem.deadline, Problem.measures,
                   Problem.status, Problem.created_at, closed_at)
            .join(Member, Member.id == Problem.reporter_id)
            .join(Organization, Organization.id == Problem.org_id)
            .where(Problem.deleted_at.is_(None), Problem.created_at < period.utc_bounds(tz)[1],
                   *scope.where(Problem.org_id, Problem.reporter_id)))


def _commitments(scope: Scope, _period: Period, _tz: ZoneInfo) -> Select[Any]:
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


def _shuxue(scope: Scope, period: Period, _tz: ZoneInfo) -> Select[Any]:
    return (select(ShuxueAnswer.id, Organization.name, Member.name, ShuxueAnswer.period_start,
                   ShuxueAnswer.self_study, ShuxueAnswer.research, ShuxueAnswer.deeds,
                   ShuxueAnswer.answered_at)
            .join(Member, Member.id == ShuxueAnswer.member_id)
            .join(Organization, Organization.id == ShuxueAnswer.org_id)
            .where(ShuxueAnswer.period_start.between(period.start, period.end),
                   *scope.where(ShuxueAnswer.org_id, ShuxueAnswer.member_id)))


def status_name(status: ProblemStatus | str) -> str:
    return t(f"report.status_{ProblemStatus(status).value}")


SHEETS: tuple[Sheet, ...] = (
    Sheet("report.sheet_study",
          (("report.col_branch", 16), ("report.col_name", 10), ("report.col_study_date", 12),
           ("report.col_form", 12), ("report.col_hours", 10), ("report.col_content", 36),
           ("report.col_reflection", 40), ("report.col_logged_at", 18)),
          _study, lambda r, tz: (r[0], r[1], r[2], r[3], round(r[4] / 60, 2), r[5], r[6] or "",
                                 _local_time(r[7], tz))),
    Sheet("report.sheet_visits",
          (("report.col_branch", 16), ("report.col_name", 10), ("report.col_visit_date", 12),
           ("report.col_visit_kind", 12), ("report.col_place", 20), ("report.col_whom", 20),
           ("report.col_heard", 40), ("report.col_solved", 10), ("report.col_topic", 24)),
          _visits, lambda r, tz: (*r[:7], r[7], r[8] or "")),
    Sheet("report.sheet_problems",
          (("report.col_problem_no", 8), ("report.col_branch", 16), ("report.col_reporter", 10),
           ("report.col_description", 40), ("report.col_source", 12), ("report.col_kind", 12),
           ("report.col_owner", 10), ("report.col_deadline", 12), ("report.col_measures", 40),
           ("report.col_status", 10), ("report.col_found_on", 12), ("report.col_closed_on", 12)),
          _problems, lambda r, tz: (*r[:9], status_name(r[9]), _local_date(r[10], tz),
                                    _local_date(r[11], tz))),
    Sheet("report.sheet_commitments",
          (("report.col_branch", 16), ("report.col_name", 10), ("report.col_commitment", 40),
           ("report.col_kept", 10), ("report.col_deeds", 40), ("report.col_report_date", 12)),
          _commitments, lambda r, tz: (r[0], r[1], r[2],
                                       t("commit.state_kept") if r[3] else t("commit.state_open"),
                                       r[4] or "", r[5])),
    Sheet("report.sheet_shuxue",
          (("report.col_branch", 16), ("report.col_name", 10), ("report.col_shuxue_period", 12),
           ("report.col_self_study", 36), ("report.col_research", 36), ("report.col_deeds_done", 36),
           ("report.col_answered_at", 18)),
          _shuxue, lambda r, tz: (*r[:6], _local_time(r[6], tz))),
)


async def _chunks(sessions: async_sessionmaker[AsyncSession], query: Select[Any]) -> AsyncIterator[list[Row]]:
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


def summary_rows(totals: Totals) -> list[tuple[str, Any, str]]:
    """The 汇总 sheet: (figure, value, definition); values are numbers, not text."""
    rate = totals.rectification_rate
    return [
        (t("report.fig_members"), totals.members, t("report.def_members")),
        (t("report.fig_reported"), totals.reported, t("report.def_reported")),
        (t("report.fig_study_hours"), round(totals.study_hours, 2), t("report.def_study_hours")),
        (t("report.fig_group_sessions"), totals.group_sessions, t("report.def_group_sessions")),
        (t("report.fig_group_attendances"), totals.group_attendances, t("report.def_group_attendances")),
        (t("report.fig_reading_days"), totals.reading_days, t("report.def_reading_days")),
        (t("report.fig_visits"), totals.visits, t("report.def_visits")),
        (t("report.fig_solved"), totals.solved, t("report.def_solved")),
        (t("report.fig_topics"), totals.topics, t("report.def_topics")),
        (t("report.fig_problems_found"), totals.problems_found, t("report.def_problems_found")),
        (t("report.fig_problems_accepted"), totals.problems_accepted, t("report.def_problems_accepted")),
        (t("report.fig_problems_closed"), totals.problems_closed, t("report.def_problems_closed")),
        (t("report.fig_rectification_rate"), None if rate is None else round(rate, 4),
         t("report.def_rectification_rate")),
        (t("report.fig_shuxue_answers"), totals.shuxue_answers, t("report.def_shuxue_answers")),
        (t("report.fig_commitments"), totals.commitments, t("report.def_commitments")),
        (t("report.fig_commitments_kept"), totals.commitments_kept, t("report.def_commitments_kept")),
    ]


class _Book:
    """A write-only workbook written one chunk at a time (each call runs in a worker thread)."""

    def __init__(self) -> None:
        self.book = Workbook(write_only=True)
        self.sheet: Any = None
        self.rows = 0
        self.columns = 0

    def open(self, title: str, headers: Sequence[tuple[str, int]]) -> None:
        self.sheet = self.book.create_sheet(title)
        self.sheet.freeze_panes = "A2"
        for i, (_, width) in enumerate(headers, start=1):
            self.sheet.column_dimensions[get_column_letter(i)].width = width
        self.sheet.append([name for name, _ in headers])
        self.rows, self.columns = 1, len(headers)

    def append(self, rows: Sequence[Row]) -> None:
        for row in rows:
            self.sheet.append(list(row))
        self.rows += len(rows)

    def close_sheet(self) -> None:
        self.sheet.auto_filter.ref = f"A1:{get_column_letter(self.columns)}{max(self.rows, 1)}"

    def save(self) -> bytes:
        out = io.BytesIO()
        self.book.save(out)
        return out.getvalue()


async def workbook(sessions: async_sessionmaker[AsyncSession], scope: Scope, period: Period,
                   tz: ZoneInfo, totals: Totals) -> bytes:
    """The whole workbook as .xlsx bytes."""
    book = _Book()
    for sheet in SHEETS:
        headers = [(t(key), width) for key, width in sheet.headers]
        await asyncio.to_thread(book.open, t(sheet.title), headers)
        async for chunk in _chunks(sessions, sheet.query(scope, period, tz)):
            shaped = [sheet.shape(row, tz) for row in chunk]
            await asyncio.to_thread(book.append, shaped)
        await asyncio.to_thread(book.close_sheet)
    await asyncio.to_thread(book.open, t("meeting.sheet"), [(t(k), w) for k, w in org_life.HEADERS])
    async for rows in org_life.sheet_rows(sessions, scope, period):
        await asyncio.to_thread(book.append, rows)
    await asyncio.to_thread(book.close_sheet)
    headers = [(t("report.col_figure"), 22), (t("report.col_value"), 12), (t("report.col_definition"), 70)]
    await asyncio.to_thread(book.open, t("report.sheet_summary"), headers)
    await asyncio.to_thread(book.append, summary_rows(totals))
    await asyncio.to_thread(book.close_sheet)
    return await asyncio.to_thread(book.save)


def caption(totals: Totals) -> str:
    """A line to send with the workbook."""
    return t("report.xlsx_caption", hours=hours(totals.study_minutes), visits=totals.visits,
             rate=percent(totals.rectification_rate))
