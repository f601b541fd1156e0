"""Step builders shared by the record dialogs: dates, hours, counts, free text."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from handlers.core.context import Context
from handlers.core.formats import full_date
from handlers.core.i18n import Text, Translator
from handlers.core.parsing import (
    clean_text,
    format_hours,
    parse_count,
    parse_date,
    parse_hours,
    parse_name,
    require_not_future,
    require_not_past,
)
from handlers.dialogs.engine import Choice, Step


def show_date(value: str, _t: Translator | None = None) -> str:
    return full_date(date.fromisoformat(value))


def show_minutes(value: int, t: Translator) -> str:
    return t("field.hours_value", hours=format_hours(value / 60))


def past_date_step(key: str, label: str, prompt: str) -> Step:
    """A date on or before today: 今天 / 昨天 / 前天 buttons, or typed."""

    def parse(text: str, ctx: Context) -> str:
        day = parse_date(text, today=ctx.today, prefer="past")
        return require_not_future(day, today=ctx.today).isoformat()

    async def choices(ctx: Context, _data: dict[str, Any]) -> list[Choice]:
        return [Choice(ctx.t(name), (ctx.today - timedelta(days=back)).isoformat())
                for back, name in enumerate(("date.today", "date.yesterday", "date.day_before"))] + [
            Choice(ctx.t("date.other"), asks_typing=True)]

    return Step(key, label, prompt, choices=choices, parse=parse, typing_hint="date.type_hint",
                columns=3, show=show_date)


def deadline_step(key: str, label: str, prompt: str) -> Step:
    """A date on or after today: quick spans, or typed."""

    def parse(text: str, ctx: Context) -> str:
        day = parse_date(text, today=ctx.today, prefer="future")
        return require_not_past(day, today=ctx.today).isoformat()

    async def choices(ctx: Context, _data: dict[str, Any]) -> list[Choice]:
        spans = ((7, "deadline.week"), (14, "deadline.two_weeks"), (30, "deadline.month"))
        return [Choice(ctx.t(name), (ctx.today + timedelta(days=days)).isoformat())
                for days, name in spans] + [Choice(ctx.t("date.other"), asks_typing=True)]

    return Step(key, label, prompt, choices=choices, parse=parse, typing_hint="date.type_hint_future",
                columns=2, show=show_date)


def hours_step(key: str, label: str, prompt: str, quick: tuple[str, ...]) -> Step:
    def parse(text: str, _ctx: Context) -> int:
        return round(parse_hours(text) * 60)

    return Step(key, label, prompt,
                choices=tuple(Choice(Text.of("field.hours_value", hours=h), round(float(h) * 60)) for h in quick),
                parse=parse, columns=3, show=show_minutes)


def count_step(key: str, label: str, prompt: str, quick: tuple[int, ...] = (0, 1, 2, 3)) -> Step:
    def parse(text: str, _ctx: Context) -> int:
        return parse_count(text)

    return Step(key, label, prompt, choices=tuple(Choice(str(n), n) for n in quick), parse=parse,
                columns=4)


def text_step(key: str, label: str, prompt: Any, *, max_len: int, optional: bool = False,
              choices: Any = ()) -> Step:
    def parse(text: str, ctx: Context) -> str:
        return clean_text(text, max_len=max_len, field=ctx.t(label))

    return Step(key, label, prompt, choices=choices, parse=parse, optional=optional, columns=1,
                max_len=max_len)


def name_step(key: str, label: str, prompt: Any, *, max_len: int = 50, optional: bool = False,
              choices: Any = ()) -> Step:
    """A person's name (one or a few): typed or picked, never a bare number or symbol."""

    def parse(text: str, ctx: Context) -> str:
        return parse_name(text, max_len=max_len, field=ctx.t(label))

    return Step(key, label, prompt, choices=choices, parse=parse, optional=optional, columns=1,
                max_len=max_len)


def pick_step(key: str, label: str, prompt: str, options: tuple[str, ...], columns: int = 2) -> Step:
    """Buttons only (a typed label is accepted too)."""
    return Step(key, label, prompt, choices=tuple(Choice(o, o) for o in options), columns=columns)
