"""Report periods: 本周, 本月, 上周, 上月, the campaign so far, or a typed range; and the one before.

A period is a closed range of local dates. ``previous`` is the period of the same kind just
before it (上周 for 本周, the same number of days before for a typed range), for "change against
the previous period". The campaign (全程) runs from the start the office's calendar gives (else
from the first day anything was logged). With no period named, a summary shows 本月, or the last
complete month while this one is under a week old (or 全程 when that month was before the
campaign); every summary offers ``offered_periods`` as buttons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from handlers.core.i18n import Translator
from handlers.core.parsing import InvalidInput, normalize, parse_date
from storage.db import Session
from storage.queries import figures
from storage.queries.scope import DateRange
from storage.repositories.calendar import CalendarRepository

WEEK_WORDS = ("本周", "这周", "周")
LAST_WEEK_WORDS = ("上周",)
MONTH_WORDS = ("本月", "这个月", "月")
LAST_MONTH_WORDS = ("上月", "上个月")
CAMPAIGN_WORDS = ("全程", "至今", "累计", "全部时间")
MAX_DAYS = 3 * 366
KINDS = ("this_week", "last_week", "this_month", "last_month", "campaign", "range", "previous")
YOUNG_DAYS = 7  # a current period shorter than this is not the default: the last complete one is


@dataclass(frozen=True)
class CampaignSpan:
    """The campaign's first day (None: nothing known yet) and last day (None: open)."""

    start: date | None
    end: date | None = None


async def campaign_span(session: Session) -> CampaignSpan:
    """The office calendar's campaign; without one, from the first day anything was logged."""
    found = await CalendarRepository(session).campaign()
    if found is not None:
        return CampaignSpan(found.start, found.end)
    return CampaignSpan(await figures.first_day(session))


@dataclass(frozen=True)
class Period(DateRange):
    kind: str  # one of KINDS; names the period in the text

    def label(self, t: Translator) -> str:
        return t(f"report.{self.kind}")

    def shown(self, t: Translator) -> str:
        return t("report.period", label=self.label(t), start=self.start.isoformat(),
                 end=self.end.isoformat())


def _month_start(day: date) -> date:
    return day.replace(day=1)


def this_week(today: date) -> Period:
    return Period(today - timedelta(days=today.weekday()), today, "this_week")


def last_week(today: date) -> Period:
    start = today - timedelta(days=today.weekday() + 7)
    return Period(start, start + timedelta(days=6), "last_week")


def this_month(today: date) -> Period:
    return Period(_month_start(today), today, "this_month")


def last_month(today: date) -> Period:
    end = _month_start(today) - timedelta(days=1)
    return Period(_month_start(end), end, "last_month")


def campaign(span: CampaignSpan | None, today: date) -> Period:
    """The campaign so far: from its start (or today) to today, or to its end once it is over."""
    end = min(today, span.end) if span and span.end else today
    start = span.start if span and span.start else end
    return Period(min(start, end), end, "campaign")


def default_period(today: date, span: CampaignSpan | None) -> Period:
    """本月; while it is under a week old, 上月, or 全程 when 上月 ended before the campaign began."""
    month = this_month(today)
    if month.days >= YOUNG_DAYS:
        return month
    last = last_month(today)
    if span and span.start and last.end < span.start:
        return campaign(span, today)
    return last


def offered_periods(today: date, span: CampaignSpan | None) -> tuple[Period, ...]:
    """The periods every summary offers as buttons, in this order: 本周, 上周, 本月, 上月, 全程."""
    return (this_week(today), last_week(today), this_month(today), last_month(today),
            campaign(span, today))


def previous(period: Period) -> Period:
    """The period before ``period``: the whole previous week or month for those, else as long."""
    if period.kind in ("this_week", "last_week"):
        start = period.start - timedelta(days=7)
        return Period(start, start + timedelta(days=period.days - 1), "previous")
    if period.kind in ("this_month", "last_month"):
        end = period.start - timedelta(days=1)
        start = _month_start(end)
        # 本月 so far compares with the same number of days of last month.
        end = min(end, start + timedelta(days=period.days - 1))
        return Period(start, end, "previous")
    end = period.start - timedelta(days=1)
    return Period(end - timedelta(days=period.days - 1), end, "previous")


def parse_period(words: list[str], today: date, span: CampaignSpan | None) -> Period:
    """The period named by ``words`` (already split); no words: ``default_period``.

    Raises InvalidInput with a message saying what is accepted.
    """
    if not words:
        return default_period(today, span)
    if len(words) == 1:
        word = normalize(words[0])
        named = {**{w: this_week for w in WEEK_WORDS}, **{w: last_week for w in LAST_WEEK_WORDS},
                 **{w: this_month for w in MONTH_WORDS}, **{w: last_month for w in LAST_MONTH_WORDS}}
        if word in named:
            return named[word](today)
        if word in CAMPAIGN_WORDS:
            return campaign(span, today)
    if len(words) == 2:
        start = parse_date(words[0], today=today)  # its own message says what is wrong
        end = parse_date(words[1], today=today)
        if end < start:
            raise InvalidInput("report.period_reversed")
        if (end - start).days >= MAX_DAYS:
            raise InvalidInput("report.period_too_long", days=MAX_DAYS)
        return Period(start, end, "range")
    raise InvalidInput("report.bad_period")


def from_button(kind: str, start: date, end: date, today: date) -> Period | None:
    """The period a paging button names, if a summary shown on or before ``today`` could have
    named it: the kind's own days (a week from its Monday, a month from its first day, the whole
    week or month before), never after today (a typed range: within ``MAX_DAYS``). None for any
    other: a forged or garbled button."""
    if end < start or (end - start).days >= MAX_DAYS:
        return None
    period = Period(start, end, kind)
    day_after = end + timedelta(days=1)
    shown_then = {"this_week": lambda: this_week(end) == period and end <= today,
                  "this_month": lambda: this_month(end) == period and end <= today,
                  "last_week": lambda: last_week(day_after) == period and end < today,
                  "last_month": lambda: last_month(day_after) == period and end < today,
                  "campaign": lambda: end <= today,
                  "range": lambda: True}
    check = shown_then.get(kind)
    return period if check is not None and check() else None
