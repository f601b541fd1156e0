"""The Excel ledgers (台账): one workbook, seven sheets, streamed so memory stays bounded.

Rows are read in keyset-paged chunks (``storage.queries.ledgers``), each in its own short
session, so a big export never holds the (single, on SQLite) database connection for long and
other users' events get their turn in between. openpyxl's write-only mode writes each chunk straight to a temporary file, off the event
loop (``asyncio.to_thread``).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from handlers.core.i18n import Translator
from handlers.reports import org_life
from handlers.reports.periods import Period
from handlers.reports.text import hours, percent
from storage.db import Sessions
from storage.models import ProblemStatus
from storage.queries.figures import Totals
from storage.queries.papers import PaperFigures
from storage.queries.ledgers import (
    Row,
    RowQuery,
    chunks,
    commitment_rows,
    problem_rows,
    shuxue_rows,
    study_rows,
    visit_rows,
)
from storage.queries.scope import Scope


@dataclass(frozen=True)
class Sheet:
    title: str  # catalogue key
    headers: tuple[tuple[str, int], ...]  # (catalogue key, column width)
    query: Callable[[Scope, Period, ZoneInfo], RowQuery]
    shape: Callable[[Row, ZoneInfo, Translator], Row]  # a result row (without its id) → cells


def _local_date(value: datetime | None, tz: ZoneInfo) -> date | None:
    return None if value is None else value.astimezone(tz).date()


def _local_time(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    return None if value is None else value.astimezone(tz).replace(tzinfo=None)


def status_name(t: Translator, status: ProblemStatus | str) -> str:
    return t(f"report.status_{ProblemStatus(status).value}")


SHEETS: tuple[Sheet, ...] = (
    Sheet("report.sheet_study",
          (("report.col_branch", 16), ("report.col_name", 10), ("report.col_study_date", 12),
           ("report.col_form", 12), ("report.col_hours", 10), ("report.col_content", 36),
           ("report.col_reflection", 40), ("report.col_logged_at", 18)),
          study_rows, lambda r, tz, t: (r[0], r[1], r[2], r[3], round(r[4] / 60, 2), r[5], r[6] or "",
                                 _local_time(r[7], tz))),
    Sheet("report.sheet_visits",
          (("report.col_branch", 16), ("report.col_name", 10), ("report.col_visit_date", 12),
           ("report.col_visit_kind", 12), ("report.col_place", 20), ("report.col_whom", 20),
           ("report.col_heard", 40), ("report.col_solved", 10), ("report.col_topic", 24)),
          visit_rows, lambda r, tz, t: (*r[:7], r[7], r[8] or "")),
    Sheet("report.sheet_problems",
          (("report.col_problem_no", 8), ("report.col_branch", 16), ("report.col_reporter", 10),
           ("report.col_description", 40), ("report.col_source", 12), ("report.col_kind", 12),
           ("report.col_owner", 10), ("report.col_deadline", 12), ("report.col_measures", 40),
           ("report.col_status", 10), ("report.col_found_on", 12), ("report.col_closed_on", 12)),
          problem_rows, lambda r, tz, t: (*r[:9], status_name(t, r[9]), _local_date(r[10], tz),
                                    _local_date(r[11], tz))),
    Sheet("report.sheet_commitments",
          (("report.col_branch", 16), ("report.col_name", 10), ("report.col_commitment", 40),
           ("report.col_kept", 10), ("report.col_deeds", 40), ("report.col_report_date", 12)),
          commitment_rows, lambda r, tz, t: (r[0], r[1], r[2],
                                       t("commit.state_kept") if r[3] else t("commit.state_open"),
                                       r[4] or "", r[5])),
    Sheet("report.sheet_shuxue",
          (("report.col_branch", 16), ("report.col_name", 10), ("report.col_shuxue_period", 12),
           ("report.col_self_study", 36), ("report.col_research", 36), ("report.col_deeds_done", 36),
           ("report.col_answered_at", 18)),
          shuxue_rows, lambda r, tz, t: (*r[:6], _local_time(r[6], tz))),
)


def summary_rows(t: Translator, totals: Totals) -> list[tuple[str, Any, str]]:
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
        (t("report.fig_problems_listed"), totals.problems_listed, t("report.def_problems_listed")),
        (t("report.fig_problems_accepted"), totals.problems_accepted, t("report.def_problems_accepted")),
        (t("report.fig_problems_closed"), totals.problems_closed, t("report.def_problems_closed")),
        (t("report.fig_rectification_rate"), None if rate is None else round(rate, 4),
         t("report.def_rectification_rate")),
        (t("report.fig_shuxue_answers"), totals.shuxue_answers, t("report.def_shuxue_answers")),
        (t("report.fig_commitments"), totals.commitments, t("report.def_commitments")),
        (t("report.fig_commitments_kept"), totals.commitments_kept, t("report.def_commitments_kept")),
    ]


def paper_rows(t: Translator, p: PaperFigures) -> list[tuple[str, Any, str]]:
    """The 汇总 sheet's rows of the figures the papers report (``PaperFigures``)."""
    per = p.visits_per_pair_half_month
    rows: list[tuple[str, Any, str]] = [
        (t("report.fig_org_life_sessions"), p.org_life_sessions, t("report.def_org_life_sessions")),
        (t("report.fig_centre_group_sessions"), p.centre_group_sessions, t("report.def_centre_group_sessions")),
        (t("report.fig_joint_sessions"), p.joint_sessions, t("report.def_joint_sessions")),
        (t("report.fig_lectures"), p.lectures, t("report.def_lectures")),
        (t("report.fig_secretaries_lectured"), p.secretaries_lectured, t("report.def_secretaries_lectured")),
        (t("report.fig_reading_class_days"), p.reading_class_days, t("report.def_reading_class_days")),
        (t("report.fig_reading_class_target"), p.reading_class_target, t("report.def_reading_class_target")),
        (t("report.fig_research_topics"), p.research_topics, t("report.def_research_topics")),
        (t("report.fig_research_trips"), p.research_trips, t("report.def_research_trips")),
        (t("report.fig_paired_places"), p.paired_places, t("report.def_paired_places")),
        (t("report.fig_pairs"), p.pairs, t("report.def_pairs")),
        (t("report.fig_covered_places"), p.covered_places, t("report.def_covered_places")),
        (t("report.fig_pair_visits_rate"), None if per is None else round(per, 2), t("report.def_pair_visits_rate")),
        (t("report.fig_closure_requested"), p.closure_requested, t("report.def_closure_requested")),
        (t("report.fig_measures"), p.measures, t("report.def_measures")),
        (t("report.fig_shuxue_weeks"), p.shuxue_weeks, t("report.def_shuxue_weeks")),
    ]
    rows += [(t("report.fig_lecturer", name=x.name, branch=x.branch), x.lectures,
              t("report.def_lecturer_secretary") if x.secretary else t("report.def_lecturer"))
             for x in p.lecturers]
    rows += [(t("report.fig_topic", title=x.title), x.trips, t("report.def_topic", owner=x.owner, branch=x.branch))
             for x in p.topics]
    return rows


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


async def workbook(t: Translator, sessions: Sessions, scope: Scope, period: Period,
                   tz: ZoneInfo, totals: Totals, papers: PaperFigures | None = None) -> bytes:
    """The whole workbook as .xlsx bytes."""
    book = _Book()
    for sheet in SHEETS:
        headers = [(t(key), width) for key, width in sheet.headers]
        await asyncio.to_thread(book.open, t(sheet.title), headers)
        async for chunk in chunks(sessions, sheet.query(scope, period, tz)):
            shaped = [sheet.shape(row, tz, t) for row in chunk]
            await asyncio.to_thread(book.append, shaped)
        await asyncio.to_thread(book.close_sheet)
    await asyncio.to_thread(book.open, t("meeting.sheet"), [(t(k), w) for k, w in org_life.HEADERS])
    async for rows in org_life.sheet_rows(t, sessions, scope, period):
        await asyncio.to_thread(book.append, rows)
    await asyncio.to_thread(book.close_sheet)
    headers = [(t("report.col_figure"), 22), (t("report.col_value"), 12), (t("report.col_definition"), 70)]
    await asyncio.to_thread(book.open, t("report.sheet_summary"), headers)
    await asyncio.to_thread(book.append, summary_rows(t, totals)
                            + (paper_rows(t, papers) if papers is not None else []))
    await asyncio.to_thread(book.close_sheet)
    return await asyncio.to_thread(book.save)


def caption(t: Translator, totals: Totals) -> str:
    """A line to send with the workbook."""
    return t("report.xlsx_caption", hours=hours(totals.study_minutes), visits=totals.visits,
             rate=percent(t, totals.rectification_rate))
