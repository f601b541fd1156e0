"""目录.xlsx: every record the archive holds and every file, each on one line, with where it is
in the archive; a file also with its sha256, size, type, sender and time of receipt. Written
line by line into openpyxl's write-only workbook (its sheets go to temporary files, not memory)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font

from handlers.core.i18n import Translator
from handlers.reports.documents.printable_sheet import make_printable, row_height
from storage.files.attachments import KeptFile

# Widths so that a sheet prints one page wide and legible; long texts (paths, a record's files, a
# sha256) wrap in their cells.
RECORD_COLUMNS = (("archive.col_no", 7), ("archive.col_branch", 18), ("archive.col_kind", 8),
                  ("archive.col_id", 8), ("archive.col_date", 12), ("archive.col_summary", 30),
                  ("archive.col_path", 36), ("archive.col_file_count", 8),
                  ("archive.col_files", 40))
FILE_COLUMNS = (("archive.col_no", 7), ("archive.col_branch", 18), ("archive.col_kind", 8),
                ("archive.col_id", 8), ("archive.col_path", 36), ("archive.col_name", 24),
                ("archive.col_type", 16), ("archive.col_size", 10), ("archive.col_sha256", 34),
                ("archive.col_sender", 10), ("archive.col_received", 17),
                ("archive.col_state", 10))


_WRAPPED = Alignment(wrap_text=True, vertical="top")


@dataclass(frozen=True)
class RecordRow:
    branch: str
    kind: str
    id: int
    day: date
    summary: str
    path: str
    files: int
    file_list: str = ""  # each file's name and place in the archive, a line each


class Index:
    def __init__(self, t: Translator, tz: ZoneInfo) -> None:
        self.t, self.tz = t, tz
        self.book = Workbook(write_only=True)
        self.records_sheet = self._sheet(t("archive.index_records"), RECORD_COLUMNS)
        self.files_sheet = self._sheet(t("archive.index_files"), FILE_COLUMNS)
        self.records = 0
        self.files = 0

    def _sheet(self, title: str, columns: tuple[tuple[str, int], ...]) -> Any:
        sheet = self.book.create_sheet(title)
        for n, (_, width) in enumerate(columns):
            sheet.column_dimensions[chr(ord("A") + n)].width = width
        sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        header = []
        for key, _ in columns:
            cell = WriteOnlyCell(sheet, self.t(key))
            cell.font = bold
            header.append(cell)
        make_printable(sheet)
        sheet.append(header)
        return sheet

    def _row(self, sheet: Any, number: int, columns: tuple[tuple[str, int], ...],
             values: list[object]) -> None:
        """Line ``number`` of ``sheet`` (after the header), each cell wrapped in its column and
        read from the top, the line as tall as its longest cell needs (set before it is written)."""
        height = row_height(values, [width for _, width in columns])
        if height is not None:
            sheet.row_dimensions[number + 1].height = height
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value)
            cell.alignment = _WRAPPED
            cells.append(cell)
        sheet.append(cells)

    def record(self, row: RecordRow) -> None:
        self.records += 1
        self._row(self.records_sheet, self.records, RECORD_COLUMNS, [
            self.records, row.branch, row.kind, row.id, row.day, row.summary, row.path, row.files,
            row.file_list])

    def file(self, branch: str, kind: str, record_id: int, path: str | None, file: KeptFile,
             state: str, sender: str) -> None:
        self.files += 1
        received = file.received_at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")
        self._row(self.files_sheet, self.files, FILE_COLUMNS, [
            self.files, branch, kind, record_id, path or "", file.name or "", file.mime or "",
            file.size, file.sha256 or "", sender, received, state])

    def save(self, path: Path) -> None:
        self.book.save(path)
