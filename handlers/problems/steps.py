"""Step builders for the problem actions: a deadline with a suggested date, a percentage, evidence."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from handlers.core.context import Context
from handlers.core.i18n import Translator
from handlers.core.parsing import InvalidInput, normalize, parse_count
from handlers.dialogs.engine import Choice, Step
from handlers.dialogs.fields import deadline_step, show_date

PROBLEM_ID = "problem_id"  # the problem a problem dialog acts on
Suggest = Callable[[dict[str, Any]], tuple[str, str] | None]  # (label key, ISO date) or None


def suggested_deadline_step(key: str, label: str, prompt: str, suggest: Suggest) -> Step:
    """A deadline step whose first button is a date from the data (the current deadline, the
    date a member asked for), when that date is not already past."""
    base = deadline_step(key, label, prompt)

    async def choices(ctx: Context, data: dict[str, Any]) -> list[Choice]:
        first = suggest(data)
        offered = list(await base.options(ctx, data))
        if first is not None and date.fromisoformat(first[1]) >= ctx.today:
            offered.insert(0, Choice(ctx.t(first[0], date=show_date(first[1])), first[1]))
        return offered

    return replace(base, choices=choices)


def parse_percent(text: str, _ctx: Context) -> int:
    """"60", "60%", "６０％", "百分之六十" → 60; anything else, or over 100, is asked again."""
    compact = normalize(text).replace(" ", "").rstrip("%")
    compact = compact.removeprefix("百分之")
    try:
        return parse_count(compact, max_value=100)
    except InvalidInput as error:
        raise InvalidInput("problem.percent_invalid") from error


def percent_step(key: str) -> Step:
    return Step(key, "problem.percent", "problem.ask_percent",
                choices=tuple(Choice(f"{n}%", n) for n in (25, 50, 75, 100)), parse=parse_percent,
                optional=True, columns=4, show=lambda n, _t: f"{n}%")


def _show_files(files: list[dict[str, Any]], t: Translator) -> str:
    return "、".join(f.get("name") or t("problem.evidence_unnamed", n=i)
                    for i, f in enumerate(files, start=1))


def evidence_step(key: str) -> Step:
    return Step(key, "problem.evidence", "problem.ask_evidence", optional=True, files=True,
                show=_show_files)
