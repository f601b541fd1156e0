"""The Excel ledgers (台账) ready to print and hand in, written by XlsxWriter.

Each sheet: a title row (branch and ledger), a line with the period and the day it was made, a
bold bordered header, then 序号 and the rows in date order, each bordered with wrapped text and a
height that fits it, and a totals row where sums make sense. Printing: A4 landscape, fitted to
one page wide, the three header rows repeated on every page, "第 1 页，共 3 页" at the foot.
Dates are dates, percentages are numbers shown with %.

Rows stream: ``constant_memory`` writes each row to a temporary file as soon as the next one
starts, so a year of a large branch costs the memory of a row, not of the workbook. Rows are
therefore taken from iterables (the integration pages them out of the database) and must come
in date order; one out of order is a ``ValueError`` (sorting here would mean holding them all).
Text is never read as a formula or a link (``strings_to_formulas``/``urls`` off): a member's
"=HYPERLINK(…)" stays text.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

import xlsxwriter

from handlers.core.i18n import Translator
from handlers.reports.documents.dates import document_date, document_period

FONT = "宋体"
FONT_SIZE = 11
LINE_HEIGHT = 15.0  # points a wrapped line of 11 pt text needs
PADDING = 3.0
A4 = 9  # Excel's paper code
HEADER_ROWS = 3  # title, period line, column header
MAX_TEXT = 32767  # Excel's limit for one cell


class Kind(str, Enum):
    text = "text"
    date = "date"
    integer = "integer"
    hours = "hours"  # one decimal
    percent = "percent"  # a ratio 0…1 shown as 33%
    flag = "flag"  # True shown as 是, False left blank


@dataclass(frozen=True)
class LedgerTitle:
    branch: str
    period_start: date
    period_end: date
    made_on: date


@dataclass(frozen=True)
class StudyRow:
    day: date
    name: str
    form: str
    hours: float
    content: str
    reflection: str = ""
    source: str = ""  # 本人登记, or the meeting that credited it
    branch: str = ""  # the office's ledger: each row's branch


@dataclass(frozen=True)
class VisitRow:
    day: date
    name: str
    kind: str
    place: str
    whom: str
    heard: str
    solved: int = 0
    topic: str = ""
    branch: str = ""  # the office's ledger: each row's branch


@dataclass(frozen=True)
class ProblemRow:
    number: str  # per branch, e.g. 机关一-001 (``problem_number``)
    found_on: date
    reporter: str
    description: str
    source: str
    kind: str
    owner: str
    deadline: date | None
    measures: str
    status: str  # in the one status model's words: 待确认, 整改中, 申请销号, 已销号
    progress: str = ""  # 进展情况: the latest update
    percent: float | None = None  # 完成比例, 0…1
    closed_on: date | None = None  # only while the problem is 已销号
    reopened: bool = False  # 回潮: closed once, then reopened
    branch: str = ""  # the office's ledger: each row's branch


@dataclass(frozen=True)
class CommitmentRow:
    made_on: date
    name: str
    content: str
    state: str  # 已兑现 / 仍在推进
    deeds: str = ""
    reported_on: date | None = None
    branch: str = ""  # the office's ledger: each row's branch


@dataclass(frozen=True)
class ShuxueRow:
    period_start: date
    name: str
    self_study: str
    research: str
    deeds: str
    answered_on: date
    branch: str = ""  # the office's ledger: each row's branch


@dataclass(frozen=True)
class MeetingRow:
    day: date
    starts: str  # "14:30" (local), "" when not recorded
    ends: str
    kind: str
    place: str
    topic: str
    host: str
    recorder: str
    expected: int  # 应到: members (guests are not)
    present: int  # 实到
    guests: int  # 列席
    absent: str  # 缺席及原因: "张三（公差）、李四（病假）"
    makeups: str  # 补学: "张三已补学；李四未补学"
    musts: str  # 四必有: 齐全 / 缺记录
    branch: str = ""  # the office's ledger: each row's branch


@dataclass(frozen=True)
class SummaryRow:
    figure: str
    value: float | int | None
    kind: Kind
    definition: str


@dataclass(frozen=True)
class Column:
    header: str  # catalogue key
    width: float  # Excel character units
    kind: Kind
    value: Callable[[Any], Any]
    total: bool = False  # summed in the totals row
    kind_of: Callable[[Any], Kind] | None = None  # when each row says its own kind (汇总)


@dataclass(frozen=True)
class SheetSpec:
    name: str  # catalogue key of the sheet (and the ledger in its title)
    columns: tuple[Column, ...]
    order: Callable[[Any], date] | None  # the date rows must come in order of
    totals: bool = True  # a 合计 row (with the ``total`` columns summed, if any)
    title: str = ""  # catalogue key of the ledger's name in the title row, when not the sheet's
    one_page: bool = False  # fitted to one page whole (汇总), not only one page wide


def _time_span(row: MeetingRow) -> str:
    return f"{row.starts}—{row.ends}" if row.starts and row.ends else ""


STUDY = SheetSpec("doc.xl_sheet_study", (
    Column("doc.xl_col_day", 11, Kind.date, lambda r: r.day),
    Column("doc.xl_col_name", 9, Kind.text, lambda r: r.name),
    Column("doc.xl_col_form", 11, Kind.text, lambda r: r.form),
    Column("doc.xl_col_hours", 8, Kind.hours, lambda r: r.hours, total=True),
    # wide enough for the longest 必读书目 title on one line (《…专题摘编》: 44 units)
    Column("doc.xl_col_content", 46, Kind.text, lambda r: r.content),
    Column("doc.xl_col_reflection", 32, Kind.text, lambda r: r.reflection),
    Column("doc.xl_col_source", 16, Kind.text, lambda r: r.source),
), order=lambda r: r.day)

VISITS = SheetSpec("doc.xl_sheet_visits", (
    Column("doc.xl_col_day", 11, Kind.date, lambda r: r.day),
    Column("doc.xl_col_name", 9, Kind.text, lambda r: r.name),
    Column("doc.xl_col_visit_kind", 11, Kind.text, lambda r: r.kind),
    Column("doc.xl_col_place", 18, Kind.text, lambda r: r.place),
    Column("doc.xl_col_whom", 16, Kind.text, lambda r: r.whom),
    Column("doc.xl_col_heard", 46, Kind.text, lambda r: r.heard),
    Column("doc.xl_col_solved", 9, Kind.integer, lambda r: r.solved, total=True),
    Column("doc.xl_col_topic", 20, Kind.text, lambda r: r.topic),
), order=lambda r: r.day)

PROBLEMS = SheetSpec("doc.xl_sheet_problems", (
    Column("doc.xl_col_number", 11, Kind.text, lambda r: r.number),
    Column("doc.xl_col_found_on", 11, Kind.date, lambda r: r.found_on),
    Column("doc.xl_col_reporter", 8, Kind.text, lambda r: r.reporter),
    Column("doc.xl_col_description", 22, Kind.text, lambda r: r.description),
    Column("doc.xl_col_problem_source", 9, Kind.text, lambda r: r.source),
    Column("doc.xl_col_problem_kind", 10, Kind.text, lambda r: r.kind),
    Column("doc.xl_col_owner", 8, Kind.text, lambda r: r.owner),
    Column("doc.xl_col_deadline", 11, Kind.date, lambda r: r.deadline),
    Column("doc.xl_col_measures", 20, Kind.text, lambda r: r.measures),
    Column("doc.xl_col_progress", 18, Kind.text, lambda r: r.progress),
    Column("doc.xl_col_percent", 7, Kind.percent, lambda r: r.percent),
    Column("doc.xl_col_status", 9, Kind.text, lambda r: r.status),
    Column("doc.xl_col_closed_on", 11, Kind.date, lambda r: r.closed_on),
    Column("doc.xl_col_reopened", 6, Kind.flag, lambda r: r.reopened),
), order=lambda r: r.found_on)

COMMITMENTS = SheetSpec("doc.xl_sheet_commitments", (
    Column("doc.xl_col_made_on", 11, Kind.date, lambda r: r.made_on),
    Column("doc.xl_col_name", 9, Kind.text, lambda r: r.name),
    Column("doc.xl_col_commitment", 44, Kind.text, lambda r: r.content),
    Column("doc.xl_col_state", 10, Kind.text, lambda r: r.state),
    Column("doc.xl_col_deeds", 44, Kind.text, lambda r: r.deeds),
    Column("doc.xl_col_reported_on", 11, Kind.date, lambda r: r.reported_on),
), order=lambda r: r.made_on)

SHUXUE = SheetSpec("doc.xl_sheet_shuxue", (
    Column("doc.xl_col_period", 11, Kind.date, lambda r: r.period_start),
    Column("doc.xl_col_name", 9, Kind.text, lambda r: r.name),
    Column("doc.xl_col_self_study", 36, Kind.text, lambda r: r.self_study),
    Column("doc.xl_col_research", 36, Kind.text, lambda r: r.research),
    Column("doc.xl_col_deeds_done", 36, Kind.text, lambda r: r.deeds),
    Column("doc.xl_col_answered_on", 11, Kind.date, lambda r: r.answered_on),
), order=lambda r: r.period_start)

MEETINGS = SheetSpec("doc.xl_sheet_meetings", (
    Column("doc.xl_col_day", 11, Kind.date, lambda r: r.day),
    Column("doc.xl_col_time", 12, Kind.text, _time_span),
    Column("doc.xl_col_meeting_kind", 11, Kind.text, lambda r: r.kind),
    Column("doc.xl_col_meeting_place", 14, Kind.text, lambda r: r.place),
    Column("doc.xl_col_topic_meeting", 20, Kind.text, lambda r: r.topic),
    Column("doc.xl_col_host", 8, Kind.text, lambda r: r.host),
    Column("doc.xl_col_recorder", 8, Kind.text, lambda r: r.recorder),
    Column("doc.xl_col_expected", 6, Kind.integer, lambda r: r.expected, total=True),
    Column("doc.xl_col_present", 6, Kind.integer, lambda r: r.present, total=True),
    Column("doc.xl_col_guests", 6, Kind.integer, lambda r: r.guests, total=True),
    Column("doc.xl_col_absent", 18, Kind.text, lambda r: r.absent),
    Column("doc.xl_col_makeups", 16, Kind.text, lambda r: r.makeups),
    Column("doc.xl_col_musts", 10, Kind.text, lambda r: r.musts),
), order=lambda r: r.day)

SUMMARY = SheetSpec("doc.xl_sheet_summary", (
    Column("doc.xl_col_figure", 26, Kind.text, lambda r: r.figure),
    Column("doc.xl_col_value", 12, Kind.text, lambda r: r.value, kind_of=lambda r: r.kind),
    Column("doc.xl_col_definition", 80, Kind.text, lambda r: r.definition),
), order=None, totals=False, title="doc.xl_title_summary", one_page=True)

NUMBER_WIDTH = 6  # the 序号 column
BRANCH_COLUMN = Column("doc.xl_col_branch", 16, Kind.text, lambda r: r.branch)


def with_branch(spec: SheetSpec) -> SheetSpec:
    """The sheet with a 支部 column after 序号: the office's ledger of several branches."""
    if spec is SUMMARY:
        return spec
    return replace(spec, columns=(BRANCH_COLUMN, *spec.columns))


def problem_number(branch: str, sequence: int) -> str:
    """机关第一党支部, 1 → 机关一-001: the branch's name without 党支部/支部 and 第, then the
    problem's place in the branch's own list."""
    short = branch
    for word in ("党支部", "支部"):
        if short.endswith(word):
            short = short[: -len(word)]
            break
    short = short.replace("第", "") or branch
    return f"{short}-{sequence:03d}"


def display_width(text: str) -> float:
    """In Excel character units: a CJK or full-width character takes two (Excel with 宋体; LibreOffice
    needs a little less, so a row there may keep a spare line rather than cut text off)."""
    return sum(2.0 if unicodedata.east_asian_width(ch) in "WF" else 1.0 for ch in text)


def lines_needed(text: str, width: float) -> int:
    """How many lines wrapped ``text`` takes in a column of ``width`` units."""
    usable = max(width - 1.0, 1.0)
    return sum(max(1, math.ceil(display_width(part) / usable)) for part in text.split("\n"))


class LedgerWriter:
    """One workbook; ``sheet`` writes a sheet from an iterable of rows, then ``close``."""

    def __init__(self, t: Translator, path: Path, title: LedgerTitle) -> None:
        self.t = t
        self.path = path
        self.title = title
        self.book = xlsxwriter.Workbook(str(path), {
            "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
            "default_format_properties": {"font_name": FONT, "font_size": FONT_SIZE}})
        base = {"font_name": FONT, "font_size": FONT_SIZE, "border": 1, "valign": "top", "text_wrap": True}
        self.formats = {
            "title": self.book.add_format({"font_name": FONT, "font_size": 16, "bold": True,
                                           "align": "center", "valign": "vcenter"}),
            "subtitle": self.book.add_format({"font_name": FONT, "font_size": FONT_SIZE,
                                              "align": "center", "valign": "vcenter"}),
            "header": self.book.add_format({**base, "bold": True, "align": "center", "valign": "vcenter",
                                            "bg_color": "#D9D9D9"}),
            Kind.text: self.book.add_format(base),
            Kind.flag: self.book.add_format({**base, "align": "center"}),
            Kind.date: self.book.add_format({**base, "num_format": "yyyy-mm-dd", "align": "center"}),
            Kind.integer: self.book.add_format({**base, "num_format": "0", "align": "center"}),
            Kind.hours: self.book.add_format({**base, "num_format": "0.0", "align": "center"}),
            Kind.percent: self.book.add_format({**base, "num_format": "0%", "align": "center"}),
            "total": self.book.add_format({**base, "bold": True, "align": "center"}),
            "total_hours": self.book.add_format({**base, "bold": True, "num_format": "0.0", "align": "center"}),
            "total_integer": self.book.add_format({**base, "bold": True, "num_format": "0", "align": "center"}),
        }

    def _page_setup(self, sheet: Any, spec: SheetSpec) -> None:
        sheet.set_paper(A4)
        sheet.set_landscape()
        sheet.fit_to_pages(1, 1 if spec.one_page else 0)  # one page wide, as many tall as it takes
        sheet.repeat_rows(0, HEADER_ROWS - 1)
        sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
        sheet.center_horizontally()
        sheet.set_footer(self.t("doc.xl_footer"))
        sheet.freeze_panes(HEADER_ROWS, 0)
        sheet.hide_gridlines(0)

    def _head(self, sheet: Any, spec: SheetSpec, widths: Sequence[float]) -> None:
        last = len(widths) - 1
        title = self.title
        sheet.set_row(0, 30)
        sheet.merge_range(0, 0, 0, last, self.t("doc.xl_title", branch=title.branch,
                                                          ledger=self.t(spec.title or spec.name)),
                          self.formats["title"])
        sheet.set_row(1, 20)
        sheet.merge_range(1, 0, 1, last, self.t("doc.xl_subtitle",
                                           period=document_period(title.period_start, title.period_end),
                                           made_on=document_date(title.made_on)), self.formats["subtitle"])
        headers = [self.t("doc.xl_col_no")] + [self.t(c.header) for c in spec.columns]
        sheet.set_row(2, LINE_HEIGHT * max(lines_needed(h, w) for h, w in zip(headers, widths, strict=True))
                      + PADDING)
        for col, header in enumerate(headers):
            sheet.write_string(2, col, header, self.formats["header"])

    def _cell(self, sheet: Any, row: int, col: int, kind: Kind, value: Any) -> None:
        fmt = self.formats[kind]
        if value is None or value == "" or value is False:
            sheet.write_blank(row, col, None, fmt)
        elif kind is Kind.date:
            sheet.write_datetime(row, col, value, fmt)
        elif kind is Kind.flag:
            sheet.write_string(row, col, self.t("doc.xl_yes"), fmt)
        elif kind is Kind.text:
            sheet.write_string(row, col, str(value)[:MAX_TEXT], fmt)
        else:
            sheet.write_number(row, col, value, fmt)

    def sheet(self, spec: SheetSpec, rows: Iterable[Any]) -> int:
        """Write one sheet; returns the number of rows written."""
        writing = self.open(spec)
        writing.add(rows)
        return writing.finish()

    def open(self, spec: SheetSpec) -> SheetWriter:
        """Start a sheet whose rows come in batches (``add``), as the database pages them out."""
        widths = [NUMBER_WIDTH] + [c.width for c in spec.columns]
        sheet = self.book.add_worksheet(self.t(spec.name))
        for col, width in enumerate(widths):
            sheet.set_column(col, col, width)
        self._page_setup(sheet, spec)
        self._head(sheet, spec, widths)
        return SheetWriter(self, sheet, spec, widths)

    def _totals(self, sheet: Any, spec: SheetSpec, count: int, sums: list[float]) -> None:
        row = HEADER_ROWS + count
        sheet.set_row(row, LINE_HEIGHT + PADDING)
        sheet.write_string(row, 0, self.t("doc.xl_total"), self.formats["total"])
        sheet.write_string(row, 1, self.t("doc.xl_total_rows", n=count), self.formats["total"])
        first, last = HEADER_ROWS + 1, HEADER_ROWS + count  # 1-based Excel rows of the data
        for i, column in enumerate(spec.columns[1:], start=1):
            col = i + 1
            if not column.total:
                sheet.write_blank(row, col, None, self.formats["total"])
                continue
            fmt = self.formats["total_hours" if column.kind is Kind.hours else "total_integer"]
            letter = xlsxwriter.utility.xl_col_to_name(col)
            formula = f"=SUM({letter}{first}:{letter}{last})" if count else "=0"
            sheet.write_formula(row, col, formula, fmt, round(sums[i], 2))

    def close(self) -> Path:
        self.book.close()
        return self.path


class SheetWriter:
    """One sheet being written: rows numbered (序号) and checked to come in date order, the
    ``total`` columns summed for the 合计 row."""

    def __init__(self, ledger: LedgerWriter, sheet: Any, spec: SheetSpec, widths: Sequence[float]) -> None:
        self.ledger, self.sheet, self.spec, self.widths = ledger, sheet, spec, widths
        self.sums = [0.0] * len(spec.columns)
        self.previous: date | None = None
        self.n = 0

    def add(self, rows: Iterable[Any]) -> None:
        spec, formats = self.spec, self.ledger.formats
        for item in rows:
            self.n += 1
            n = self.n
            if spec.order is not None:
                day = spec.order(item)
                if self.previous is not None and day < self.previous:
                    raise ValueError(f"{spec.name}: row {n} ({day}) comes before row {n - 1} ({self.previous})")
                self.previous = day
            values = [c.value(item) for c in spec.columns]
            kinds = [c.kind_of(item) if c.kind_of else c.kind for c in spec.columns]
            excel_row = HEADER_ROWS + n - 1
            lines = max([1] + [lines_needed(str(v), w) for v, w, k in zip(values, self.widths[1:], kinds, strict=True)
                               if k is Kind.text and v])
            self.sheet.set_row(excel_row, LINE_HEIGHT * lines + PADDING)
            self.sheet.write_number(excel_row, 0, n, formats[Kind.integer])
            for i, (value, kind) in enumerate(zip(values, kinds, strict=True)):
                self.ledger._cell(self.sheet, excel_row, i + 1, kind, value)
                if spec.columns[i].total and value:
                    self.sums[i] += value

    def finish(self) -> int:
        """The 合计 row (if the sheet has one); returns the rows written."""
        if self.spec.totals:
            self.ledger._totals(self.sheet, self.spec, self.n, self.sums)
        return self.n


def write_ledger(t: Translator, path: Path, title: LedgerTitle, *, by_branch: bool = False, summary: Iterable[SummaryRow] = (),
                 study: Iterable[StudyRow] = (), visits: Iterable[VisitRow] = (),
                 problems: Iterable[ProblemRow] = (), commitments: Iterable[CommitmentRow] = (),
                 shuxue: Iterable[ShuxueRow] = (), meetings: Iterable[MeetingRow] = ()) -> dict[str, int]:
    """The whole ledger at ``path``: 汇总 first, then one sheet per kind of record. Returns the
    rows written per sheet (by sheet name). CPU and file work: run it in a worker thread."""
    writer = LedgerWriter(t, path, title)
    written = {}
    try:
        for spec, rows in ((SUMMARY, summary), (STUDY, study), (VISITS, visits), (PROBLEMS, problems),
                           (COMMITMENTS, commitments), (SHUXUE, shuxue), (MEETINGS, meetings)):
            written[t(spec.name)] = writer.sheet(with_branch(spec) if by_branch else spec, rows)
    finally:
        writer.close()
    return written
