"""The small pieces the drafts are written with: paragraphs with a run-in heading, clauses joined
into sentences, Chinese ordinals, and numbers as a paper prints them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from handlers.core.i18n import Translator

NUMERALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class Para:
    """A paragraph: an optional run-in heading ("1．开展读书班集中学。") and its text."""

    lead: str
    text: str


def numeral(n: int) -> str:
    """1 → 一 … 10 → 十, 11 → 十一 … 99 → 九十九."""
    if n <= 10:
        return NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return (NUMERALS[tens - 1] if tens > 1 else "") + "十" + (NUMERALS[ones - 1] if ones else "")


def sentence(clauses: Iterable[str]) -> str:
    """Non-empty clauses joined by "，", ending in "。"; nothing when none is left."""
    kept = [c for c in clauses if c]
    return "，".join(kept) + "。" if kept else ""


def ordinal_clauses(t: Translator, clauses: Sequence[str]) -> str:
    """"一是…；二是…。" (a single clause stands alone)."""
    if len(clauses) == 1:
        return clauses[0] + "。"
    return "；".join(t("doc.nth", n=numeral(i)) + c for i, c in enumerate(clauses, start=1)) + "。"


def numbered(t: Translator, items: Sequence[tuple[str, str]], style: str) -> list[Para]:
    """(lead, text) pairs numbered in order: ``level3`` "1．…", ``level2`` "（一）…"."""
    key = "doc.lead_third" if style == "level3" else "doc.lead_second"
    return [Para(t(key, n=i if style == "level3" else numeral(i), lead=lead), text)
            for i, (lead, text) in enumerate(items, start=1)]


def number(value: float) -> str:
    """12.0 → "12", 5.5 → "5.5", 2.25 → "2.3": at most one decimal."""
    return f"{round(value, 1):g}"


def share(t: Translator, part: int, whole: int) -> str:
    """A percentage that never reads 100% while someone is missing, nor 0% while someone is there."""
    if whole <= 0:
        return t("report.none")
    value = round(part * 100 / whole)
    if part < whole:
        value = min(value, 99)
    if part > 0:
        value = max(value, 1)
    return f"{value}%"


def names(t: Translator, items: Sequence[str], limit: int = 10) -> str:
    """"张三、李四、王五" and "等" when more than ``limit``."""
    shown = "、".join(items[:limit])
    return shown + (t("doc.and_more") if len(items) > limit else "")
