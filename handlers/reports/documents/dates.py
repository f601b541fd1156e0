"""How dates read in documents: "2023年11月9日", and periods "2023年10月1日至10月31日"."""

from __future__ import annotations

from datetime import date

from handlers.core.formats import full_date, month_day


def document_date(day: date) -> str:
    """The one spelling of a date in a document: 2023年11月9日."""
    return full_date(day)


def document_period(start: date, end: date) -> str:
    """2023年10月1日至10月31日; the year is written again only when it changes."""
    if start == end:
        return document_date(start)
    tail = month_day(end) if start.year == end.year else document_date(end)
    return f"{document_date(start)}至{tail}"
