"""Report periods: 本周, 本月, 上周, 上月, the campaign so far, or a typed range; and the one before.

A period is a closed range of local dates. ``previous`` is the period of the same kind just
before it (上周 for 本周, the same number of days before for a typed range), for "change against
the previous period".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from handlers.core.i18n import Translator
from handlers.core.parsing import InvalidInput, normalize, parse_date
from storage.queries.scope import DateRange

WEEK_WORDS = ("本周", "这周", "周")
LAST_WEEK_WORDS = ("上周",)
MONTH_WORDS = ("本月", "这个月", "月")
LAST_MONTH_WORDS = ("上月", "上个月")
CAMPAIGN_WORDS = ("全程", "至今", "累计", "全部时间")
MAX_DAYS = 3 * 366
KINDS = ("this_week", "last_week", "this_month", "last_month", "campaign", "range", "previous")


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


def campaign(first_day: date | None, today: date) -> Period:
    """The campaign so far: from the first day anything was logged (or today) to today."""
    return Period(min(first_day or today, today), today, "campaign")


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


def parse_period(words: list[str], today: date, first_day: date | None) -> Period:
    """The period named by ``words`` (already split); no words means 本月.

    Raises InvalidInput with a message saying what is accepted.
    """
    if not words:
        return this_month(today)
    if len(words) == 1:
        word = normalize(words[0])
        named = {**{w: this_week for w in WEEK_WORDS}, **{w: last_week for w in LAST_WEEK_WORDS},
                 **{w: this_month for w in MONTH_WORDS}, **{w: last_month for w in LAST_MONTH_WORDS}}
        if word in named:
            return named[word](today)
        if word in CAMPAIGN_WORDS:
            return campaign(first_day, today)
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
