"""How values read in the chat: dates ("2023年11月9日", or "11月9日" where the year goes without
saying) and long texts cut short."""

from __future__ import annotations

from datetime import date


def full_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def month_day(day: date) -> str:
    return f"{day.month}月{day.day}日"


def short(text: str, limit: int = 30) -> str:
    """``text``, or its first ``limit`` characters and "…"."""
    return text if len(text) <= limit else text[:limit] + "…"
