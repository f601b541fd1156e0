"""The secretary's "再提醒一次" button under the 述学 digest: one more private reminder each."""

from __future__ import annotations

from datetime import date

from handlers.calendar.workdays import WorkCalendar
from handlers.core.buttons import RemindAgain
from handlers.core.context import Context
from handlers.core.events import Outcome
from handlers.core.policy import leads
from handlers.schedule.audience import load_audience
from handlers.schedule.planner import shuxue_reminder
from handlers.schedule.times import (
    Rhythm,
    after_quiet_hours,
    current_period,
    reminder_time,
)
from storage.repositories.outbox import OutboxRepository
from storage.repositories.shuxue import ShuxueRepository


def _is_open(rhythm: Rhythm, period: date, ctx: Context, calendar: WorkCalendar) -> bool:
    """Whether ``period`` is the branch's 述学 round now and its digest (the button's message)
    has gone out: a button of ours names no other, so any other period is forged or stale."""
    return (period == current_period(rhythm, ctx.today)
            and reminder_time(rhythm, period, ctx.config.tz, calendar) <= ctx.now)


async def nudge_again(ctx: Context, pressed: RemindAgain) -> Outcome:
    """Only that branch's secretary (or the office) may, for the round in progress."""
    org_id, period = pressed.org_id, pressed.period
    if ctx.member is None or not leads(ctx.member, org_id):
        return Outcome(notice=ctx.t("push.not_your_branch"))
    audience = await load_audience(ctx.session, ctx.platforms, ctx.today)
    branch = next((b for b in audience.branches if b.org.id == org_id), None)
    if branch is None or not _is_open(branch.rhythm, period, ctx, audience.calendar):
        return Outcome(notice=ctx.t("button.stale"))
    answered = await ShuxueRepository(ctx.session).answered(org_id, period)
    send_at = after_quiet_hours(ctx.now, ctx.config.tz, ctx.config.quiet_start, ctx.config.quiet_end)
    planned = [shuxue_reminder(ctx.t, "shuxue_remind2", p, period, send_at)
               for p in branch.people
               if p.member_id not in answered and not audience.on_leave(p.member_id, ctx.today)]
    added = await OutboxRepository(ctx.session).enqueue(planned)
    ctx.enqueued = ctx.enqueued or added > 0
    if added == 0:
        return Outcome(notice=ctx.t("push.renudged_before"))
    return Outcome(notice=ctx.t("push.renudged", count=added))
