"""Print settings for the plain openpyxl workbooks (the archive's 述学/承诺 books and 目录, the
problem list's export), so that they print as the ledgers do (``ledger_xlsx``): A4 landscape,
one page wide, the header row on every page, and the grid printed (their cells have no borders)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openpyxl.worksheet.properties import PageSetupProperties

from handlers.reports.documents.ledger_xlsx import LINE_HEIGHT, PADDING, lines_needed

A4 = "9"  # the spreadsheet format's paper size code


def make_printable(sheet: Any) -> None:
    """Set ``sheet`` (a worksheet, write-only or not, before its rows are written) to print so."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as the rows need
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = "1:1"
    sheet.print_options.gridLines = True


def row_height(values: Sequence[object], widths: Sequence[float]) -> float | None:
    """The height (points) a row of these wrapped cell values in columns of these widths needs;
    None when one line does. Without it a spreadsheet prints every row one line tall, the rest of a
    wrapped text cut off."""
    lines = max((lines_needed(str(value), width) for value, width in zip(values, widths, strict=True)
                 if value is not None), default=1)
    return LINE_HEIGHT * lines + PADDING if lines > 1 else None


def fit_rows(sheet: Any, widths: Sequence[float], first: int = 2) -> None:
    """Set each written row of ``sheet`` from ``first`` on as tall as its wrapped cells need."""
    for number, cells in enumerate(sheet.iter_rows(min_row=first, values_only=True), start=first):
        height = row_height(cells, widths)
        if height is not None:
            sheet.row_dimensions[number].height = height
