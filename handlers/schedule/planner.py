"""The planner: from the database and the clock, every push that is due, into the outbox.

``plan`` is a pure function of the stored state and ``now``: it looks at the grace window
[now - grace, now] and enqueues each due message under a key naming what, to whom and which
occurrence. Running it again (every minute, after a restart, from two processes) adds nothing new,
so nothing is sent twice; an occurrence older than the grace window is never sent (and is logged).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from handlers.calendar.workdays import WorkCalendar
from handlers.core.buttons import RemindAgain
from handlers.core.events import Button, payload
from handlers.core.formats import month_day
from handlers.core.i18n import Translator
from handlers.meetings.rules import MAKEUP_DAYS, MAKEUP_NUDGE_LEFT
from handlers.meetings.views import headline
from handlers.problems.lifecycle import UPDATE_EVERY, is_overdue
from handlers.schedule.audience import Audience, Branch, Person, load_audience
from handlers.schedule.times import (
    after_quiet_hours,
    at_local,
    local_days,
    prompt_periods,
    reminder_time,
)
from storage.db import Session
from storage.models import (
    ProblemStatus,
)
from storage.queries.pushes import (
    milestones_from,
    open_problems,
    pairings,
    study_minutes,
)
from storage.repositories.meetings import MeetingRepository
from storage.repositories.outbox import OutboxRepository, Planned
from storage.repositories.shuxue import ShuxueRepository
from storage.vocabulary import ROLE_NAMES

log = logging.getLogger(__name__)

DEFAULT_MILESTONE_DAYS = (7, 3, 1, 0)
SOON_DAYS = (3, 0)  # a deadline's owner hears 3 days before and on the day
SECRETARY_AFTER_DAYS = 3  # overdue this long: the secretary hears too


@dataclass(frozen=True)
class PlanConfig:
    platforms: tuple[str, ...]  # the running ones: a member's pushes go to one of them
    tz: ZoneInfo
    grace: timedelta = timedelta(hours=6)
    quiet_start: time = time(22, 0)
    quiet_end: time = time(8, 0)
    nudge_at: time = time(9, 0)  # when daily nudges (deadlines, calendar) go out
    yearly_target_minutes: int = 32 * 60
    pairing_days: int = 15
    texts: Translator = field(kw_only=True)  # the language the pushes are written in


@dataclass
class PlanResult:
    added: int
    dropped: list[str]


def shuxue_reminder(t: Translator, key_kind: str, person: Person, period: date,
                    send_at: datetime) -> Planned:
    """A member's private 述学 reminder; ``key_kind`` tells the first from the one sent again."""
    return Planned(f"{key_kind}:{person.member_id}:{period}", "shuxue_remind", person.platform,
                   person.chat_id,
                   payload(t("push.shuxue_remind", period=month_day(period)),
                           ((Button(t("push.shuxue_button"), start="shuxue"),),)),
                   send_at, False, person.org_id, person.member_id)


class _Plan:
    """Collects the messages of one planning pass."""

    def __init__(self, cfg: PlanConfig, now: datetime) -> None:
        self.cfg, self.now, self.t = cfg, now, cfg.texts
        self.send_at = after_quiet_hours(now, cfg.tz, cfg.quiet_start, cfg.quiet_end)
        self.messages: list[Planned] = []

    def to_person(self, key: str, kind: str, person: Person, text: str,
                  buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        self.messages.append(Planned(key, kind, person.platform, person.chat_id,
                                     payload(text, buttons), self.send_at, False, person.org_id,
                                     person.member_id))

    def to_group(self, key: str, kind: str, group: tuple[str, str], org_id: int, text: str,
                 buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        platform, chat_id = group
        self.messages.append(Planned(key, kind, platform, chat_id,
                                     payload(text, buttons), self.send_at, True, org_id))


async def plan(session: Session, now: datetime, cfg: PlanConfig, *,
               look_back: timedelta | None = None) -> PlanResult:
    """Enqueue what is due in [now - grace, now]. With ``look_back`` (on start-up), also name the
    述学 prompts that fell due between ``now - look_back`` and the grace window and were never sent."""
    start = now - cfg.grace
    today = now.astimezone(cfg.tz).date()
    audience = await load_audience(session, cfg.platforms, today)
    plan_ = _Plan(cfg, now)
    await _shuxue(session, plan_, audience, start, now)
    for day in _nudge_days(cfg, audience, start, now):
        await _milestones(session, plan_, audience, day)
        await _problems(session, plan_, audience, day)
        await _pairings(session, plan_, audience, day)
        await _makeups(session, plan_, audience, day)
        if day == audience.calendar.next_workday(day.replace(day=1)):
            await _hours(session, plan_, audience, day)
    outbox = OutboxRepository(session)
    added = await outbox.enqueue(plan_.messages)
    dropped: list[str] = []
    if look_back is not None:
        missed = _Plan(cfg, now)
        await _shuxue(session, missed, audience, now - look_back, start - timedelta(microseconds=1))
        keys = [m.key for m in missed.messages if m.kind == "shuxue_prompt"]
        dropped = sorted(set(keys) - await outbox.known(keys))
        for key in dropped:
            log.warning("not sending %s: it fell due more than %s ago (bot was down)", key, cfg.grace)
    return PlanResult(added, dropped)


def _nudge_days(cfg: PlanConfig, audience: Audience, start: datetime, end: datetime) -> Iterator[date]:
    """Workdays (a make-up Saturday too; no weekend, holiday or office day off) whose
    daily-nudge time falls in [start, end]."""
    for day in local_days(start, end, cfg.tz):
        if audience.calendar.is_workday(day) and start <= at_local(day, cfg.nudge_at, cfg.tz) <= end:
            yield day


def _reminder_due(calendar: WorkCalendar, day: date, due: date, before: Iterable[int]) -> int | None:
    """Of the reminders ``before`` days ahead of ``due``, the nearest one sent on ``day``: each on
    its own day, or on the last workday before it when that is a day off."""
    found = [d for d in before if calendar.last_workday(due - timedelta(days=d)) == day]
    return min(found) if found else None


# --- 述学 ------------------------------------------------------------------------------------------

async def _shuxue(session: Session, plan_: _Plan, audience: Audience, start: datetime,
                  end: datetime) -> None:
    cfg = plan_.cfg
    for branch in audience.branches:
        for period, _when in prompt_periods(branch.rhythm, start, end, cfg.tz, audience.calendar):
            for group in branch.groups:
                plan_.to_group(f"shuxue_prompt:{branch.org.id}:{period}:{group[1]}", "shuxue_prompt",
                               group, branch.org.id,
                               plan_.t("push.shuxue_prompt", period=month_day(period)),
                               ((Button(plan_.t("push.shuxue_button"), start="shuxue"),),))
        for period, _ in prompt_periods(branch.rhythm, start - timedelta(days=14), end, cfg.tz,
                                        audience.calendar):
            remind = reminder_time(branch.rhythm, period, cfg.tz, audience.calendar)
            if start <= remind <= end:
                await _remind_and_digest(session, plan_, audience, branch, period, remind)


async def _remind_and_digest(session: Session, plan_: _Plan, audience: Audience,
                             branch: Branch, period: date, remind: datetime) -> None:
    answered = await ShuxueRepository(session).answered(branch.org.id, period)
    day = remind.astimezone(plan_.cfg.tz).date()
    missing = [p for p in branch.people if p.member_id not in answered]
    for person in missing:
        if not audience.on_leave(person.member_id, day):
            plan_.messages.append(shuxue_reminder(plan_.t, "shuxue_remind", person, period,
                                                  plan_.send_at))
    done = [p.name for p in branch.people if p.member_id in answered]
    text = plan_.t("push.shuxue_digest", org=branch.org.name, period=month_day(period), done=len(done),
             total=len(branch.people), done_names="、".join(done) or "—",
             missing_names="、".join(p.name for p in missing) or "—")
    refused = await OutboxRepository(session).failed_since(
        branch.org.id, remind - timedelta(days=7 * branch.rhythm.every_weeks))
    if refused:
        names = {person.name if (person := audience.person(m.member_id or 0)) else m.chat_id
                 for m in refused}
        text += "\n" + plan_.t("push.undelivered", count=len(refused), chats="、".join(sorted(names)))
    buttons = ((Button(plan_.t("push.nudge_again"), data=RemindAgain(branch.org.id, period).pack()),),) \
        if missing else ()
    for secretary in branch.secretaries:
        plan_.to_person(f"shuxue_digest:{branch.org.id}:{period}:{secretary.member_id}",
                        "shuxue_digest", secretary, text, buttons)


# --- the campaign calendar --------------------------------------------------------------------------

async def _milestones(session: Session, plan_: _Plan, audience: Audience, day: date) -> None:
    for milestone in await milestones_from(session, day):
        remind = _reminder_due(audience.calendar, day, milestone.due,
                               milestone.remind_days or DEFAULT_MILESTONE_DAYS)
        if remind is None:
            continue
        days_left = (milestone.due - day).days
        roles = {ROLE_NAMES[r] for r in milestone.roles if r in ROLE_NAMES}
        text = (plan_.t("push.milestone_today", name=milestone.name) if days_left == 0 else
                plan_.t("push.milestone", name=milestone.name, due=month_day(milestone.due), days=days_left))
        for branch in audience.branches:
            if milestone.branches and branch.org.name not in milestone.branches:
                continue
            for person in branch.people:
                if (not roles or person.role in roles) and not audience.on_leave(person.member_id, day):
                    plan_.to_person(f"milestone:{milestone.key}:{remind}:{person.member_id}",
                                    "milestone", person, text)


# --- problems, study hours, paired villages ------------------------------------------------------

async def _problems(session: Session, plan_: _Plan, audience: Audience, day: date) -> None:
    """Deadlines and updates, by the lifecycle's own rules: the owner hears while the work is
    theirs (整改中); the secretary hears of any open problem long overdue (also one waiting for
    their decision on closure)."""
    stale_before = plan_.now - UPDATE_EVERY
    for problem, updated in await open_problems(session):
        owner = audience.person(problem.owner_id or problem.reporter_id)
        left = (problem.deadline - day).days
        short = problem.description[:30]
        soon = _reminder_due(audience.calendar, day, problem.deadline, SOON_DAYS)
        if (problem.status is ProblemStatus.rectifying and owner is not None
                and not audience.on_leave(owner.member_id, day)):
            if soon is not None:
                plan_.to_person(f"deadline_soon:{problem.id}:{problem.deadline}:{soon}", "deadline",
                                owner, plan_.t("push.deadline_soon", problem=short, days=left)
                                if left else plan_.t("push.deadline_today", problem=short))
            elif is_overdue(problem.status, problem.deadline, day):
                plan_.to_person(f"overdue:{problem.id}:{problem.deadline}", "deadline", owner,
                                plan_.t("push.overdue_owner", problem=short, due=month_day(problem.deadline)))
            if updated <= stale_before:
                plan_.to_person(f"stale:{problem.id}:{updated.date()}", "stale", owner,
                                plan_.t("push.stale", problem=short, days=UPDATE_EVERY.days))
        if is_overdue(problem.status, problem.deadline, day) and left <= -SECRETARY_AFTER_DAYS:
            for secretary in audience.secretaries_of(problem.org_id):
                plan_.to_person(
                    f"overdue_secretary:{problem.id}:{problem.deadline}:{secretary.member_id}",
                    "deadline", secretary,
                    plan_.t("push.overdue_secretary", problem=short, owner=problem.owner_name,
                      due=month_day(problem.deadline)))


async def _hours(session: Session, plan_: _Plan, audience: Audience, day: date) -> None:
    """Once a month: members behind the yearly study target, pro rata."""
    year_start = day.replace(month=1, day=1)
    days_in_year = (year_start.replace(year=day.year + 1) - year_start).days
    expected = plan_.cfg.yearly_target_minutes * (day - year_start).days / days_in_year
    logged = await study_minutes(session, year_start, day)
    for branch in audience.branches:
        for person in branch.people:
            minutes = int(logged.get(person.member_id, 0) or 0)
            if minutes < expected and not audience.on_leave(person.member_id, day):
                plan_.to_person(f"hours:{person.member_id}:{day:%Y-%m}", "hours", person,
                                plan_.t("push.hours_behind", hours=round(minutes / 60, 1),
                                  expected=round(expected / 60, 1),
                                  target=plan_.cfg.yearly_target_minutes // 60))


async def _pairings(session: Session, plan_: _Plan, audience: Audience, day: date) -> None:
    """A paired 居村 not visited for ``pairing_days``: one nudge per such stretch."""
    for pairing, last in await pairings(session):
        since = (day - last).days if last is not None else None
        if since is not None and since < plan_.cfg.pairing_days:
            continue
        person = audience.person(pairing.member_id)
        if person is None or audience.on_leave(person.member_id, day):
            continue
        if last is None:
            stretch = f"never-{day.toordinal() // plan_.cfg.pairing_days}"
            text = plan_.t("push.pairing_never", place=pairing.place)
        else:
            stretch, text = last.isoformat(), plan_.t("push.pairing", place=pairing.place, days=since)
        plan_.to_person(f"pairing:{pairing.id}:{stretch}", "pairing", person, text)


async def _makeups(session: Session, plan_: _Plan, audience: Audience, day: date) -> None:
    """An absentee who has not made up a meeting hears once more near the end of the make-up
    window (the first ask went out when the attendance was taken)."""
    for meeting, member_id in await MeetingRepository(session).absentees_since(
            day - timedelta(days=MAKEUP_DAYS)):
        due = meeting.day + timedelta(days=MAKEUP_DAYS)
        person = audience.person(member_id)
        if not 0 <= (due - day).days <= MAKEUP_NUDGE_LEFT or person is None \
                or audience.on_leave(member_id, day):
            continue
        plan_.to_person(f"makeup_nudge:{meeting.id}:{member_id}", "makeup", person,
                        plan_.t("push.makeup", meeting=headline(meeting), due=month_day(due)),
                        ((Button(plan_.t("meeting.makeup_button"), start="study"),),))
