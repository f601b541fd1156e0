"""The Excel ledgers (台账) from the database: the 汇总 sheet and one sheet per kind of record,
ready to print (``documents.ledger_xlsx``), streamed so memory stays bounded.

Rows are read in keyset-paged chunks in date order (``storage.queries.ledgers``), each in its
own short session, so a big export never holds the (single, on SQLite) database connection for
long and other users' events get their turn in between. XlsxWriter's constant-memory mode writes
each chunk straight to a temporary file, off the event loop (``asyncio.to_thread``).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from handlers.core.i18n import Translator
from handlers.meetings.rules import missing_musts
from handlers.reports.documents import ledger_xlsx as xl
from handlers.reports.periods import Period
from handlers.reports.text import hours, percent
from storage.db import Sessions
from storage.models import ProblemStatus
from storage.queries.figures import Totals
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
from storage.queries.org_life import MeetingRow, meeting_rows
from storage.queries.papers import PaperFigures
from storage.queries.scope import Scope


def _local_date(value: datetime | None, tz: ZoneInfo) -> date | None:
    return None if value is None else value.astimezone(tz).date() if value.tzinfo else value.date()


def status_name(t: Translator, status: ProblemStatus | str) -> str:
    return t(f"report.status_{ProblemStatus(status).value}")


@dataclass(frozen=True)
class Shapes:
    """How a query's row becomes a ledger row, for one reader and time zone."""

    t: Translator
    tz: ZoneInfo

    def study(self, r: Row) -> xl.StudyRow:
        branch, name, day, form, minutes, content, reflection, meeting_kind, makeup_for = r
        source = (self.t("doc.xl_source_meeting", kind=meeting_kind) if meeting_kind
                  else self.t("doc.xl_source_makeup") if makeup_for else self.t("doc.xl_source_own"))
        return xl.StudyRow(day, name, form, minutes / 60, content, reflection or "", source, branch=branch)

    def visit(self, r: Row) -> xl.VisitRow:
        branch, name, day, kind, place, whom, heard, solved, topic = r
        return xl.VisitRow(day, name, kind, place, whom, heard, solved or 0, topic or "", branch=branch)

    def problem(self, r: Row) -> xl.ProblemRow:
        (branch, seq, reporter, found_at, description, source, kind, owner, deadline, measures, status,
         progress, done, closed_at, once_closed) = r
        closed = ProblemStatus(status) is ProblemStatus.closed
        return xl.ProblemRow(
            xl.problem_number(branch, int(seq)), _local_date(found_at, self.tz) or deadline, reporter,
            description, source, kind, owner, deadline, measures, status_name(self.t, status),
            progress or "", 1.0 if closed else (done / 100 if done is not None else None),
            _local_date(closed_at, self.tz) if closed else None,
            bool(once_closed) and not closed, branch=branch)

    def commitment(self, r: Row) -> xl.CommitmentRow:
        branch, name, made_at, content, kept, deeds, reported_on = r
        state = self.t("commit.state_kept") if kept else self.t("commit.state_open")
        return xl.CommitmentRow(_local_date(made_at, self.tz) or date.min, name, content, state, deeds or "",
                                reported_on, branch=branch)

    def shuxue(self, r: Row) -> xl.ShuxueRow:
        branch, name, start, self_study, research, deeds, answered_at = r
        return xl.ShuxueRow(start, name, self_study, research, deeds,
                            _local_date(answered_at, self.tz) or start, branch=branch)

    def meeting(self, r: MeetingRow) -> xl.MeetingRow:
        m, t = r.meeting, self.t
        absent = "、".join(f"{name}（{reason or t('doc.xl_no_reason')}）" for name, reason in r.absent)
        makeups = "；".join(t("doc.xl_made_up", name=name) if name in r.made_up else t("doc.xl_not_made_up", name=name)
                           for name, _ in r.absent)
        missing = missing_musts(t, m)
        musts = t("meeting.col_musts_ok") if not missing else t("meeting.col_musts_missing",
                                                                 missing="、".join(missing))
        return xl.MeetingRow(m.day, m.starts or "", m.ends or "", m.kind, m.place or "", m.topic or "",
                             m.host or "", m.recorder or "", r.expected, r.present, r.guests, absent, makeups,
                             musts, branch=r.org)


def summary_rows(t: Translator, totals: Totals) -> list[xl.SummaryRow]:
    """The 汇总 sheet: each figure as a number of its kind (counts, hours, rates as %)."""
    k = xl.Kind
    rows: list[tuple[str, float | int | None, xl.Kind]] = [
        ("members", totals.members, k.integer), ("reported", totals.reported, k.integer),
        ("participation", totals.participation, k.percent),
        ("study_hours", round(totals.study_hours, 1), k.hours),
        ("group_sessions", totals.group_sessions, k.integer),
        ("group_attendances", totals.group_attendances, k.integer),
        ("reading_days", totals.reading_days, k.integer), ("visits", totals.visits, k.integer),
        ("solved", totals.solved, k.integer), ("topics", totals.topics, k.integer),
        ("problems_found", totals.problems_found, k.integer),
        ("problems_listed", totals.problems_listed, k.integer),
        ("problems_accepted", totals.problems_accepted, k.integer),
        ("problems_closed", totals.problems_closed, k.integer),
        ("rectification_rate", totals.rectification_rate, k.percent),
        ("shuxue_answers", totals.shuxue_answers, k.integer), ("commitments", totals.commitments, k.integer),
        ("commitments_kept", totals.commitments_kept, k.integer),
    ]
    return [xl.SummaryRow(t(f"report.fig_{key}"), value, kind, t(f"report.def_{key}"))
            for key, value, kind in rows]


def paper_rows(t: Translator, p: PaperFigures) -> list[xl.SummaryRow]:
    """The 汇总 sheet's rows of the figures the papers report (``PaperFigures``), then each
    lecturer and each research topic on a line of its own."""
    k = xl.Kind
    per = p.visits_per_pair_half_month
    rows: list[tuple[str, float | int | None, xl.Kind]] = [
        ("org_life_sessions", p.org_life_sessions, k.integer),
        ("centre_group_sessions", p.centre_group_sessions, k.integer),
        ("joint_sessions", p.joint_sessions, k.integer), ("lectures", p.lectures, k.integer),
        ("secretaries_lectured", p.secretaries_lectured, k.integer),
        ("reading_class_days", p.reading_class_days, k.hours),
        ("reading_class_target", p.reading_class_target, k.integer),
        ("research_topics", p.research_topics, k.integer), ("research_trips", p.research_trips, k.integer),
        ("paired_places", p.paired_places, k.integer), ("pairs", p.pairs, k.integer),
        ("covered_places", p.covered_places, k.integer),
        ("pair_visits_rate", None if per is None else round(per, 1), k.hours),
        ("closure_requested", p.closure_requested, k.integer), ("measures", p.measures, k.integer),
        ("shuxue_weeks", p.shuxue_weeks, k.integer),
    ]
    out = [xl.SummaryRow(t(f"report.fig_{key}"), value, kind, t(f"report.def_{key}"))
           for key, value, kind in rows]
    out += [xl.SummaryRow(t("report.fig_lecturer", name=x.name, branch=x.branch), x.lectures, k.integer,
                          t("report.def_lecturer_secretary") if x.secretary else t("report.def_lecturer"))
            for x in p.lecturers]
    out += [xl.SummaryRow(t("report.fig_topic", title=x.title), x.trips, k.integer,
                          t("report.def_topic", owner=x.owner, branch=x.branch)) for x in p.topics]
    return out


SHEETS: tuple[tuple[xl.SheetSpec, Callable[[Scope, Period, ZoneInfo], RowQuery], str], ...] = (
    (xl.STUDY, study_rows, "study"), (xl.VISITS, visit_rows, "visit"), (xl.PROBLEMS, problem_rows, "problem"),
    (xl.COMMITMENTS, commitment_rows, "commitment"), (xl.SHUXUE, shuxue_rows, "shuxue"),
)


async def _write(writer: xl.LedgerWriter, spec: xl.SheetSpec, batches: Any,
                 shape: Callable[[Any], Any]) -> None:
    sheet = await asyncio.to_thread(writer.open, spec)
    async for batch in batches:
        shaped: Iterable[Any] = [shape(row) for row in batch]
        await asyncio.to_thread(sheet.add, shaped)
    await asyncio.to_thread(sheet.finish)


async def workbook(t: Translator, sessions: Sessions, scope: Scope, period: Period, tz: ZoneInfo,
                   totals: Totals, papers: PaperFigures | None = None, *, title: str, made_on: date,
                   by_branch: bool) -> bytes:
    """The whole workbook as .xlsx bytes: 汇总, the record sheets, 组织生活. ``by_branch``: the
    office's, with a 支部 column on each sheet."""
    shapes = Shapes(t, tz)

    def spec_of(spec: xl.SheetSpec) -> xl.SheetSpec:
        return xl.with_branch(spec) if by_branch else spec

    with tempfile.TemporaryDirectory(prefix="branchbot-ledger-") as folder:
        path = Path(folder) / "ledger.xlsx"
        writer = await asyncio.to_thread(xl.LedgerWriter, t, path,
                                         xl.LedgerTitle(title, period.start, period.end, made_on))
        try:
            summary = await asyncio.to_thread(writer.open, xl.SUMMARY)
            await asyncio.to_thread(summary.add, summary_rows(t, totals)
                                    + (paper_rows(t, papers) if papers is not None else []))
            await asyncio.to_thread(summary.finish)
            for spec, query, shape in SHEETS:
                await _write(writer, spec_of(spec), chunks(sessions, query(scope, period, tz)),
                             getattr(shapes, shape))
            await _write(writer, spec_of(xl.MEETINGS), meeting_rows(sessions, scope, period), shapes.meeting)
        finally:
            await asyncio.to_thread(writer.close)
        return await asyncio.to_thread(path.read_bytes)


def caption(t: Translator, totals: Totals) -> str:
    """A line to send with the workbook."""
    return t("report.xlsx_caption", hours=hours(totals.study_minutes), visits=totals.visits,
             rate=percent(t, totals.rectification_rate))
