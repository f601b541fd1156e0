"""Reading a sheet the office sends (.xlsx or .csv, from a path or as bytes), and finding its
columns by their Chinese headers. Every import refuses a file whole (``Refused``), each problem
named by its line ("第3行：…")."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

from handlers.core.i18n import Translator
from handlers.core.parsing import InvalidInput, parse_date

Table = list[list[str]]


class Refused(ValueError):
    """The file was refused as a whole; ``problems`` are lines like "第3行：…"."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def read_path(t: Translator, path: Path) -> Table:
    return read_bytes(t, path.name, path.read_bytes())


def read_bytes(t: Translator, name: str, raw: bytes) -> Table:
    """The cells of the file's first sheet, stripped; the kind comes from the name's suffix."""
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise Refused([t("roster.bad_encoding")])
        return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(raw), read_only=True, data_only=True).worksheets[0]
            return [[_cell(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]
        except Exception as error:  # openpyxl raises many kinds for a broken file
            raise Refused([t("roster.unreadable", error=type(error).__name__)]) from error
    raise Refused([t("roster.bad_type", suffix=suffix or "?")])


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def columns(t: Translator, header: list[str], required: Mapping[str, tuple[str, ...]],
            optional: Mapping[str, tuple[str, ...]] = {}, *, what: str) -> dict[str, int]:
    """Where each column is (by any of its names); a missing required one refuses the file."""
    lowered = [cell.strip().lower() for cell in header]
    found: dict[str, int] = {}
    for key, names in {**required, **optional}.items():
        at = [i for i, cell in enumerate(lowered) if cell in names]
        if at:
            found[key] = at[0]
        elif key in required:
            raise Refused([t("import.missing_column", what=what, column=names[0],
                             columns="、".join(n[0] for n in required.values()))])
    return found


def rows(table: Table, where: dict[str, int]) -> list[tuple[int, dict[str, str]]]:
    """(line number, cells by column key) of every row below the header with anything in it."""
    out = []
    for line, cells in enumerate(table[1:], start=2):
        values = {key: (cells[i].strip() if i < len(cells) else "") for key, i in where.items()}
        if any(values.values()):
            out.append((line, values))
    return out


def day(text: str, today: date) -> date | None:
    """A date as people write it (2023-10-09, 10月9日 …); None when it is none."""
    try:
        return parse_date(text, today=today)
    except InvalidInput:
        return None
