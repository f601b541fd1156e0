"""Print settings for the plain openpyxl workbooks (the archive's 述学/承诺 books and 目录, the
problem list's export), so that they print as the ledgers do (``ledger_xlsx``): A4 landscape,
one page wide, the header row on every page, and the grid printed (their cells have no borders)."""

from __future__ import annotations

from typing import Any

from openpyxl.worksheet.properties import PageSetupProperties

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
