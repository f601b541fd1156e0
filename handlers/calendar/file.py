"""The office's campaign calendar (a TOML file): the campaign's dates, milestones, days off and
branches' 述学 rhythms.

Loading is all or nothing: every problem is reported with its line, and nothing is written unless
the whole file is right. Loading again replaces the campaign, the milestones and the days off
(milestones by key). Statutory holidays and make-up workdays (调休) need no entry: they come from
the `chinese-calendar` package (``handlers.calendar.workdays``); the file's holidays are days off
in addition.

    [campaign]                       # optional; 全程 (the campaign so far) starts at start
    name = "主题教育"
    start = 2023-09-15
    end = 2024-01-31                 # optional
    reading_class_days = 7           # optional: the 读书班's target days

    [[milestone]]
    key = "dushuban"                 # stable id; a new key is a new milestone
    name = "读书班结束"
    date = 2023-11-10
    branches = ["机关第一党支部"]      # optional: default every branch
    roles = ["支部书记", "支委"]        # optional: 党员 支委 支部书记 办公室; default everyone
    remind_days = [7, 3, 1, 0]       # optional: days before; 0 = on the day

    [[holiday]]                      # a day off besides the statutory ones
    date = 2023-11-24
    name = "单位调休"
    until = 2023-11-24               # optional: the last day of a span

    [[schedule]]                     # a branch's 述学 rhythm
    branch = "机关第一党支部"
    weekday = "周一"
    time = "09:00"
    every_weeks = 2                  # optional, 1 or 2
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from handlers.calendar.workdays import SEARCH_DAYS, WorkCalendar, statutory_key
from handlers.core.i18n import Translator
from handlers.schedule.planner import DEFAULT_MILESTONE_DAYS
from handlers.schedule.times import WEEKDAYS
from storage.db import Session
from storage.models import Campaign, Holiday, Milestone
from storage.repositories.calendar import CalendarRepository
from storage.repositories.orgs import OrgRepository
from storage.repositories.shuxue import ShuxueRepository
from storage.vocabulary import ROLE_NAMES


class CalendarError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MilestoneEntry(_Strict):
    key: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=100)
    date: date
    branches: list[str] = []
    roles: list[str] = []
    remind_days: list[int] = list(DEFAULT_MILESTONE_DAYS)

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, roles: list[str]) -> list[str]:
        unknown = [r for r in roles if r not in ROLE_NAMES]
        if unknown:
            raise PydanticCustomError("unknown_roles", "unknown roles",
                                      {"roles": "、".join(unknown), "known": "、".join(ROLE_NAMES)})
        return roles

    @field_validator("remind_days")
    @classmethod
    def _sane_days(cls, days: list[int]) -> list[int]:
        if any(d < 0 or d > 365 for d in days):
            raise PydanticCustomError("remind_days", "days out of range")
        return sorted(set(days), reverse=True)


class HolidayEntry(_Strict):
    date: date
    name: str | None = Field(default=None, max_length=50)  # None: calendar.day_off
    until: date | None = None  # a span of days off, inclusive


class ScheduleEntry(_Strict):
    branch: str
    weekday: str
    time: str = Field(default="09:00", pattern=r"^([01]?\d|2[0-3]):[0-5]\d$")
    every_weeks: int = Field(default=1, ge=1, le=2)

    @field_validator("weekday")
    @classmethod
    def _weekday(cls, value: str) -> str:
        if value not in WEEKDAYS:
            raise PydanticCustomError("weekday", "unknown weekday", {"known": "、".join(WEEKDAYS)})
        return value


class CampaignEntry(_Strict):
    name: str | None = Field(default=None, max_length=100)
    start: date
    end: date | None = None
    reading_class_days: int | None = Field(default=None, ge=1, le=60)


class CalendarFile(_Strict):
    campaign: CampaignEntry | None = None
    milestone: list[MilestoneEntry] = []
    holiday: list[HolidayEntry] = []
    schedule: list[ScheduleEntry] = []


def _table_lines(text: str) -> dict[str, list[int]]:
    """Line numbers of each ``[[name]]`` (or ``[name]``) header, in order, to name the entry a
    problem is in."""
    lines: dict[str, list[int]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = re.match(r"\s*\[\[?\s*(\w+)\s*\]\]?", line)
        if match:
            lines.setdefault(match.group(1), []).append(number)
    return lines


# pydantic's error types, and our validators', as the catalogue says them (its own are English)
MESSAGES = {"missing": "calendar.err_missing", "extra_forbidden": "calendar.err_extra",
            "date": "calendar.err_date", "int": "calendar.err_int", "bool": "calendar.err_int",
            "string_type": "calendar.err_text", "list_type": "calendar.err_list",
            "string_too_short": "calendar.err_empty", "string_too_long": "calendar.err_too_long",
            "greater_than_equal": "calendar.err_at_least", "less_than_equal": "calendar.err_at_most",
            "string_pattern_mismatch": "calendar.err_time", "model_type": "calendar.err_table",
            "unknown_roles": "calendar.err_roles", "remind_days": "calendar.err_remind_days",
            "weekday": "calendar.err_weekday"}


def _message(t: Translator, issue: Any) -> str:
    """``date_parsing``, ``date_from_datetime_inexact`` …: by the kind before the first "_"."""
    kind = issue["type"]
    key = MESSAGES.get(kind) or MESSAGES.get(kind.split("_")[0], "calendar.err_other")
    return t(key, **{name: str(value) for name, value in (issue.get("ctx") or {}).items()})


def parse_calendar(t: Translator, text: str) -> CalendarFile:
    try:
        raw: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        at = re.search(r"at line (\d+), column (\d+)", str(error))
        problem = t("calendar.syntax_at", line=at.group(1), column=at.group(2)) if at else \
            t("calendar.syntax", error=str(error))
        raise CalendarError([problem]) from error
    try:
        return CalendarFile.model_validate(raw)
    except ValidationError as error:
        headers = _table_lines(text)
        problems = []
        for issue in error.errors():
            loc = issue["loc"]
            where = t("calendar.top")
            if len(loc) >= 2 and isinstance(loc[1], int) and str(loc[0]) in headers:
                line = headers[str(loc[0])][loc[1]]
                field = ".".join(str(part) for part in loc[2:]) or str(loc[0])
                where = t("calendar.where", line=line, table=loc[0], field=field)
            elif loc and str(loc[0]) in headers:  # a [table]: its header's line
                field = ".".join(str(part) for part in loc[1:]) or str(loc[0])
                where = t("calendar.where_table", line=headers[str(loc[0])][0], table=loc[0],
                          field=field)
            problems.append(f"{where}：{_message(t, issue)}")
        raise CalendarError(problems) from error


class Loaded(NamedTuple):
    """What a calendar file set: milestones, days off, 述学 rhythms, and the campaign (or None)."""

    milestones: int
    holidays: int
    schedules: int
    campaign: Campaign | None


def loaded_text(t: Translator, loaded: Loaded) -> str:
    """The one message saying what was loaded (the CLI's and the chat's)."""
    text = t("calendar.loaded", milestones=loaded.milestones, holidays=loaded.holidays,
             schedules=loaded.schedules)
    return text + ("\n" + campaign_line(t, loaded.campaign) if loaded.campaign else "")


async def load_calendar(t: Translator, session: Session, path: Path) -> Loaded:
    """``load_calendar_text`` of a file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CalendarError([t("calendar.unreadable", error=type(error).__name__)]) from error
    return await load_calendar_text(t, session, text)


async def load_calendar_text(t: Translator, session: Session, text: str) -> Loaded:
    """Replace the campaign, milestones and days off with the file's, and set the named
    branches' rhythms. Raises CalendarError, writing nothing."""
    calendar = parse_calendar(t, text)
    headers = _table_lines(text)
    branches = {name: org_id for org_id, name in await OrgRepository(session).branches()}
    problems = []
    campaign = calendar.campaign
    if campaign is not None and campaign.end is not None and campaign.end < campaign.start:
        problems.append(t("calendar.campaign_reversed", line=headers["campaign"][0],
                          start=campaign.start.isoformat(), end=campaign.end.isoformat()))
    keys: set[str] = set()
    for i, entry in enumerate(calendar.milestone):
        line = headers["milestone"][i]
        if entry.key in keys:
            problems.append(t("calendar.duplicate_key", line=line, key=entry.key))
        keys.add(entry.key)
        problems += [t("calendar.unknown_branch", line=line, branch=b)
                     for b in entry.branches if b not in branches]
    for i, entry in enumerate(calendar.schedule):
        if entry.branch not in branches:
            problems.append(t("calendar.unknown_branch", line=headers["schedule"][i], branch=entry.branch))
    for i, entry in enumerate(calendar.holiday):
        if entry.until is not None and entry.until < entry.date:
            problems.append(t("calendar.bad_span", line=headers["holiday"][i]))
        elif entry.until is not None and (entry.until - entry.date).days >= SEARCH_DAYS:
            problems.append(t("calendar.long_span", line=headers["holiday"][i], days=SEARCH_DAYS))
    if problems:
        raise CalendarError(problems)

    days: dict[date, str] = {}
    for h in calendar.holiday:
        day = h.date
        while day <= (h.until or h.date):
            days[day] = h.name or t("calendar.day_off")
            day += timedelta(days=1)
    stored = None if campaign is None else Campaign(
        name=campaign.name, start=campaign.start, end=campaign.end,
        reading_class_days=campaign.reading_class_days)
    await CalendarRepository(session).replace(
        [Milestone(key=m.key, name=m.name, due=m.date, branches=m.branches, roles=m.roles,
                   remind_days=m.remind_days) for m in calendar.milestone],
        [Holiday(day=day, name=name) for day, name in sorted(days.items())], stored)
    for s in calendar.schedule:
        await ShuxueRepository(session).set_schedule(
            branches[s.branch], weekday=WEEKDAYS.index(s.weekday), time=s.time,
            every_weeks=s.every_weeks, enabled=True)
    return Loaded(len(calendar.milestone), len(days), len(calendar.schedule), stored)


def campaign_line(t: Translator, campaign: Campaign) -> str:
    return t("calendar.campaign_line", name=campaign.name or t("calendar.campaign"),
             start=campaign.start.isoformat(),
             end=campaign.end.isoformat() if campaign.end else t("calendar.open_end"),
             reading=t("calendar.reading_days", days=campaign.reading_class_days)
             if campaign.reading_class_days else "")


def statutory_lines(t: Translator, start: date, end: date) -> list[str]:
    """The statutory holidays (one line per run of days) and make-up workdays (one a day) from
    ``start`` to ``end``, as the package has them: nobody types them."""
    calendar = WorkCalendar()
    runs: list[tuple[str, str, date, date]] = []  # (kind, name key, first, last)
    day = start
    while day <= end:
        key = statutory_key(day)
        kind = "holiday" if calendar.is_holiday(day) else "makeup" if calendar.is_makeup_workday(day) else ""
        if kind and key:
            if (kind == "holiday" and runs and runs[-1][:2] == (kind, key)
                    and runs[-1][3] == day - timedelta(days=1)):
                runs[-1] = (kind, key, runs[-1][2], day)
            else:
                runs.append((kind, key, day, day))
        day += timedelta(days=1)
    return [t(f"calendar.statutory_{kind}", name=t(key), first=first.isoformat(),
              last=last.isoformat(), days=(last - first).days + 1)
            for kind, key, first, last in runs]


async def calendar_lines(t: Translator, session: Session) -> list[str]:
    lines = []
    calendar = CalendarRepository(session)
    campaign = await calendar.campaign()
    if campaign is not None:
        lines.append(campaign_line(t, campaign))
    for m in await calendar.milestones():
        scope = "、".join(m.branches) or t("calendar.all_branches")
        roles = "、".join(m.roles) or t("calendar.everyone")
        days = "、".join(str(d) for d in m.remind_days)
        lines.append(t("calendar.milestone_line", due=m.due.isoformat(), name=m.name, scope=scope,
                       roles=roles, days=days))
    for h in await calendar.holidays():
        lines.append(t("calendar.holiday_line", day=h.day.isoformat(), name=h.name))
    if campaign is not None:
        lines += statutory_lines(t, campaign.start, campaign.end or campaign.start + timedelta(days=365))
    return lines
