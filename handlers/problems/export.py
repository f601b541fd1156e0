"""The problem list as the Excel sheet offices pass around (问题清单台账), one row per problem."""

from __future__ import annotations

from datetime import date
from io import BytesIO
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from handlers.core.i18n import Translator
from handlers.problems.views import evidence_name, history_line, local_day, status_text
from handlers.reports.documents.printable_sheet import fit_rows, make_printable
from storage.db import Session
from storage.models import ProblemStatus
from storage.repositories.problems import HistoryLine, ProblemRepository

# (catalogue key of the header, column width in characters)
COLUMNS: tuple[tuple[str, int], ...] = (
    ("problem.col_no", 6), ("problem.col_description", 36), ("problem.col_source", 10),
    ("problem.col_kind", 12), ("problem.col_owner", 10), ("problem.col_measures", 36),
    ("problem.col_deadline", 12), ("problem.col_progress", 50), ("problem.col_status", 12),
    ("problem.col_closed_on", 12), ("problem.col_evidence", 24), ("problem.col_org", 18),
)
DATE_COLUMNS = (7, 10)  # 完成时限, 销号日期 (1-based)
DATE_FORMAT = "yyyy-mm-dd"
PROGRESS_ACTIONS = ("update", "request_closure")
FILE_NAME = "问题清单.xlsx"
Row = tuple[object, ...]


def progress(t: Translator, history: list[HistoryLine], tz: ZoneInfo) -> str:
    """The latest progress first, then every dated change."""
    if not history:
        return ""
    reported = [entry for entry in history if entry.event.action in PROGRESS_ACTIONS]
    latest = (reported or history)[-1]
    lines = [t("problem.export_latest", text=history_line(t, latest, tz)), t("problem.export_history")]
    return "\n".join(lines + [history_line(t, entry, tz) for entry in history])


def closed_on(history: list[HistoryLine], status: ProblemStatus, tz: ZoneInfo) -> date | None:
    if status is not ProblemStatus.closed:
        return None
    approvals = [entry.event.at for entry in history if entry.event.action == "approve"]
    return local_day(approvals[-1], tz) if approvals else None


async def rows(t: Translator, session: Session, org_id: int | None, today: date, tz: ZoneInfo) -> list[Row]:
    """One row per problem of the branch (``org_id``), or of every branch (None)."""
    repo = ProblemRepository(session)
    out: list[Row] = []
    for n, (problem, org) in enumerate(await repo.all_of(org_id), start=1):
        history = await repo.history(problem.id)
        evidence = await repo.evidence(problem.id)
        names = "\n".join(evidence_name(t, item, i) for i, item in enumerate(evidence, start=1))
        out.append((n, problem.description, problem.source, problem.kind, problem.owner_name,
                        problem.measures, problem.deadline, progress(t, history, tz),
                        status_text(t, problem, today), closed_on(history, problem.status, tz),
                        names or None, org))
    return out


def workbook(t: Translator, table: list[Row]) -> bytes:
    """Bold header, first row frozen, set widths, wrapped text, dates as Excel dates."""
    book = Workbook()
    sheet = book.active
    sheet.title = t("problem.sheet_title")
    sheet.append([t(key) for key, _ in COLUMNS])
    for row in table:
        sheet.append(list(row))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for index, (_, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            if cell.column in DATE_COLUMNS:
                cell.number_format = DATE_FORMAT
    sheet.freeze_panes = "A2"
    fit_rows(sheet, [width for _, width in COLUMNS])
    make_printable(sheet)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def export(t: Translator, session: Session, org_id: int | None, today: date, tz: ZoneInfo) -> bytes:
    return workbook(t, await rows(t, session, org_id, today, tz))
