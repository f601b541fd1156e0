"""/schedule: a secretary sets the branch's 述学 rhythm (day, time, weekly or every two weeks);
the office first says which branch. In a group it shows the rhythm of the group's branch."""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta
from typing import Any

from handlers.core.context import Context
from handlers.core.events import Button, Reply
from handlers.core.i18n import Text, Translator
from handlers.core.parsing import InvalidInput, normalize
from handlers.core.policy import leads, sees_every_branch
from handlers.dialogs import engine
from handlers.dialogs.engine import Choice, Dialog, Step
from handlers.schedule.times import WEEKDAYS
from storage.models import ShuxueSchedule
from storage.repositories.orgs import OrgRepository
from storage.repositories.shuxue import ShuxueRepository

BRANCH = "branch"  # [org id, name] of the branch whose rhythm is set


def describe(t: Translator, schedule: ShuxueSchedule | None) -> str:
    if schedule is None:
        return t("schedule.default")
    if not schedule.enabled:
        return t("schedule.off")
    every = t("schedule.weekly") if schedule.every_weeks == 1 else t("schedule.biweekly")
    return t("schedule.current", every=every, weekday=WEEKDAYS[schedule.weekday], time=schedule.time,
             remind_days=schedule.remind_after_days, remind_time=schedule.remind_time)


async def begin(ctx: Context, _args: str = "") -> list[Reply]:
    member = ctx.member
    assert member is not None
    if not ctx.event.is_private:
        group = await OrgRepository(ctx.session).group_for(ctx.event.platform, ctx.event.chat_id)
        current = await ShuxueRepository(ctx.session).schedule(group.org_id if group else member.org_id)
        return [Reply(describe(ctx.t, current), buttons=((Button(ctx.t("schedule.change"), start="schedule"),),))]
    if sees_every_branch(member):
        return await engine.start(ctx, SCHEDULE_BRANCH)
    current = await ShuxueRepository(ctx.session).schedule(member.org_id)
    if not leads(member, member.org_id):
        return [Reply(describe(ctx.t, current) + "\n" + ctx.t("schedule.only_secretary"))]
    return await engine.start(ctx, SCHEDULE, {"current": describe(ctx.t, current),
                                                BRANCH: [member.org_id, member.org.name]})


async def _branches(ctx: Context, _data: dict[str, Any]) -> list[Choice]:
    return [Choice(name, [org_id, name]) for org_id, name in await OrgRepository(ctx.session).branches()]


async def branch_chosen(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    """The office picked the branch: its rhythm now, then the same questions as a secretary's."""
    org_id, name = data[BRANCH]
    current = await ShuxueRepository(ctx.session).schedule(org_id)
    return await engine.start(ctx, SCHEDULE, {
        "current": ctx.t("schedule.of_branch", branch=name) + "\n" + describe(ctx.t, current),
        BRANCH: [org_id, name]})


_CLOCK = re.compile(r"([0-9]{1,2})(?::([0-9]{1,2}))?")


def _parse_time(text: str, _ctx: Context) -> str:
    """"9:00", "９：３０", "9点" → "09:00"; a superscript digit is no digit ("²" is not 2)."""
    if any(unicodedata.category(c) in ("No", "Nl") for c in text):
        raise InvalidInput("schedule.bad_time")
    clean = normalize(text).replace("：", ":").replace("点", ":").rstrip(":")
    match = _CLOCK.fullmatch(clean)
    if match:
        hh, mm = int(match[1]), int(match[2] or 0)
        if 0 <= hh < 24 and 0 <= mm < 60:
            return f"{hh:02d}:{mm:02d}"
    raise InvalidInput("schedule.bad_time")


async def finish(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    member = ctx.member
    assert member is not None
    org_id = int(data[BRANCH][0]) if data.get(BRANCH) else member.org_id
    if not leads(member, org_id) or not await OrgRepository(ctx.session).branches((org_id,)):
        return [Reply(ctx.t("schedule.only_secretary"))]  # checked again as it is saved
    days_ahead = (data["weekday"] - ctx.today.weekday()) % 7
    remind_days, remind_time = data["remind"]
    schedule = await ShuxueRepository(ctx.session).set_schedule(
        org_id, weekday=data["weekday"], time=data["time"], every_weeks=data["every"],
        remind_after_days=remind_days, remind_time=remind_time, enabled=True,
        anchor=ctx.today + timedelta(days=days_ahead))  # the next prompt day starts the cycle
    return [Reply(ctx.t("schedule.saved") + "\n" + describe(ctx.t, schedule))]


SCHEDULE = Dialog(
    name="schedule",
    title="schedule.title",
    steps=(
        Step("weekday", "schedule.weekday", lambda d, t: d["current"] + "\n" + t("schedule.ask_weekday"),
             choices=tuple(Choice(name, i) for i, name in enumerate(WEEKDAYS)), columns=4,
             show=lambda i, _t: WEEKDAYS[i]),
        Step("time", "schedule.time", "schedule.ask_time",
             choices=tuple(Choice(x, x) for x in ("08:30", "09:00", "10:00", "14:30")),
             parse=_parse_time, columns=4),
        Step("every", "schedule.every", "schedule.ask_every",
             choices=(Choice(Text.of("schedule.weekly"), 1), Choice(Text.of("schedule.biweekly"), 2)),
             show=lambda n, t: t("schedule.weekly") if n == 1 else t("schedule.biweekly")),
        Step("remind", "schedule.remind", "schedule.ask_remind",
             choices=(Choice(Text.of("schedule.remind_next_evening"), [1, "18:00"]),
                      Choice(Text.of("schedule.remind_same_evening"), [0, "18:00"]),
                      Choice(Text.of("schedule.remind_two_days"), [2, "18:00"])),
             columns=1, show=lambda r, t: t("schedule.remind_value", days=r[0], time=r[1])),
    ),
    finish=finish,
)
SCHEDULE_BRANCH = Dialog(
    name="schedule_branch",
    title="schedule.title",
    steps=(Step(BRANCH, "schedule.branch", "schedule.ask_branch", choices=_branches, columns=1,
                show=lambda v, _t: str(v[1])),),
    finish=branch_chosen,
    confirm=False,
)
