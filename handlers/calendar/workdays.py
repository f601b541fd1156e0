"""Working days in China: statutory holidays and make-up workdays (调休) from the `chinese-calendar`
package (the State Council's notice of each year), with the office's own days off on top.

A workday is a weekday that is not a holiday, or a weekend day made a workday (调休); the
calendar file's holidays are days off in addition (a local day off; they win over 调休). For a
year the package has no data for yet, weekends are the only rest days besides the file's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar
from chinese_calendar.constants import Holiday as Statutory

SEARCH_DAYS = 31  # no run of days off is longer
_KEYS = {holiday.value: f"holiday.{holiday.name}" for holiday in Statutory}


def _detail(day: date) -> tuple[bool, str | None]:
    """(a day off, the statutory holiday it is of or is made up for), as the package has it."""
    try:
        off, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:  # a year not published yet
        return day.weekday() >= 5, None
    return bool(off), name


@dataclass(frozen=True)
class WorkCalendar:
    extra: frozenset[date] = frozenset()  # the calendar file's days off

    def is_holiday(self, day: date) -> bool:
        """A day off that is not an ordinary weekend: a statutory holiday or one of the file's."""
        if day in self.extra:
            return True
        off, name = _detail(day)
        return off and name is not None

    def is_makeup_workday(self, day: date) -> bool:
        """A weekend day worked in exchange for a holiday (调休上班)."""
        off, name = _detail(day)
        return not off and name is not None and day.weekday() >= 5 and day not in self.extra

    def is_workday(self, day: date) -> bool:
        return day not in self.extra and not _detail(day)[0]

    def next_workday(self, day: date) -> date:
        """``day`` if it is a workday, else the first one after it."""
        for _ in range(SEARCH_DAYS):
            if self.is_workday(day):
                return day
            day += timedelta(days=1)
        return day

    def last_workday(self, day: date) -> date:
        """``day`` if it is a workday, else the last one before it."""
        for _ in range(SEARCH_DAYS):
            if self.is_workday(day):
                return day
            day -= timedelta(days=1)
        return day

    def after_holiday(self, day: date) -> date:
        """Where something due on ``day`` goes: the next workday when ``day`` is a holiday (not
        when it is an ordinary weekend: a rhythm set on 周六 stays on Saturday)."""
        return self.next_workday(day) if self.is_holiday(day) else day


def statutory_key(day: date) -> str | None:
    """The catalogue key of the statutory holiday ``day`` is of, or is made up for (调休)."""
    name = _detail(day)[1]
    return _KEYS.get(name) if name else None
