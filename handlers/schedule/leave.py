"""/leave: a member pauses personal reminders while away (请假/出差)."""

from __future__ import annotations

from datetime import date

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.parsing import InvalidInput, clean_text, parse_date, require_not_past
from handlers.schedule.times import WEEKDAYS
from storage.repositories.leaves import LeaveRepository

CANCEL_WORDS = ("取消", "结束", "销假")
MAX_DAYS = 366


async def leave_command(ctx: Context, args: str) -> list[Reply]:
    member = ctx.member
    assert member is not None
    today = ctx.today
    if args.strip() in CANCEL_WORDS:
        await LeaveRepository(ctx.session).end(member.id, today)
        return [Reply(ctx.t("leave.ended"))]
    if not args.strip():
        current = await LeaveRepository(ctx.session).current(member.id, today)
        if current is None:
            return [Reply(ctx.t("leave.usage"))]
        return [Reply(ctx.t("leave.current", until=_day(current.until)) + "\n" + ctx.t("leave.usage"))]
    when, _, reason = args.strip().partition(" ")
    try:
        until = require_not_past(parse_date(when, today=today, prefer="future"), today=today)
        if (until - today).days > MAX_DAYS:
            raise InvalidInput("leave.too_long", days=MAX_DAYS)
        note = clean_text(reason, max_len=50, field=ctx.t("leave.reason")) if reason.strip() else None
    except InvalidInput as error:
        return [Reply(f"{error}\n{ctx.t('leave.usage')}")]
    await LeaveRepository(ctx.session).add(member.id, today, until, note)
    return [Reply(ctx.t("leave.saved", until=_day(until)))]


def _day(day: date) -> str:
    return f"{day.month}月{day.day}日（{WEEKDAYS[day.weekday()]}）"
