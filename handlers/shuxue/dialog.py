"""述学: this period's 自学情况, 调研情况 and 为民办实事情况, prefilled from what the member logged."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.core.context import Context
from handlers.core.formats import month_day
from handlers.dialogs import engine
from handlers.dialogs.engine import RECORD_ID, Choice, Dialog
from handlers.dialogs.fields import text_step
from handlers.core.events import Reply
from handlers.core.i18n import t
from handlers.core.parsing import format_hours
from handlers.schedule.audience import rhythm_of
from handlers.schedule.times import Rhythm, at_local, current_period
from storage.models import Member, Problem, ShuxueAnswer, ShuxueSchedule, StudyRecord, Visit

NONE = "本周无"
PERIOD = "period"


async def branch_rhythm(session: AsyncSession, org_id: int) -> Rhythm:
    schedule = await session.scalar(select(ShuxueSchedule).where(ShuxueSchedule.org_id == org_id))
    return rhythm_of(schedule) or Rhythm()


async def logged_since(session: AsyncSession, member: Member, since: date,
                       since_at: datetime) -> dict[str, str | None]:
    """What the member logged from ``since`` (``since_at``: its start, in UTC): one line per 述学
    field, None where nothing."""
    live = StudyRecord.deleted_at.is_(None)
    minutes, count = (await session.execute(
        select(func.coalesce(func.sum(StudyRecord.minutes), 0), func.count())
        .where(StudyRecord.member_id == member.id, StudyRecord.study_date >= since, live))).one()
    contents = list(await session.scalars(
        select(StudyRecord.content).where(StudyRecord.member_id == member.id,
                                          StudyRecord.study_date >= since, live)
        .group_by(StudyRecord.content).order_by(func.max(StudyRecord.id).desc()).limit(2)))
    visits, solved = (await session.execute(
        select(func.count(), func.coalesce(func.sum(Visit.solved_count), 0))
        .where(Visit.member_id == member.id, Visit.visit_date >= since,
               Visit.deleted_at.is_(None)))).one()
    places = list(await session.scalars(
        select(Visit.place).where(Visit.member_id == member.id, Visit.visit_date >= since,
                                  Visit.deleted_at.is_(None))
        .group_by(Visit.place).order_by(func.max(Visit.id).desc()).limit(2)))
    problems = await session.scalar(
        select(func.count()).select_from(Problem).where(
            Problem.reporter_id == member.id, Problem.deleted_at.is_(None),
            Problem.created_at >= since_at)) or 0
    return {
        "self_study": t("shuxue.prefill_study", hours=format_hours(minutes / 60), count=count,
                        contents="、".join(contents)) if count else None,
        "research": t("shuxue.prefill_research", count=visits, places="、".join(places),
                      problems=problems) if visits else None,
        "deeds": t("shuxue.prefill_deeds", solved=solved) if solved else None,
    }


async def begin(ctx: Context, _args: str = "") -> list[Reply]:
    member = ctx.member
    assert member is not None
    period = current_period(await branch_rhythm(ctx.session, member.org_id), ctx.today)
    existing = await ctx.session.scalar(select(ShuxueAnswer).where(
        ShuxueAnswer.member_id == member.id, ShuxueAnswer.period_start == period))
    data: dict[str, Any] = {PERIOD: period.isoformat(),
                            "logged": await logged_since(ctx.session, member, period,
                                                         at_local(period, time(0), ctx.config.tz))}
    if existing is not None:
        data.update(self_study=existing.self_study, research=existing.research,
                    deeds=existing.deeds)
        data[RECORD_ID] = existing.id
    return await engine.start(ctx, SHUXUE, data)


def _choices(field: str) -> Any:
    async def choices(_ctx: Context, data: dict[str, Any]) -> list[Choice]:
        logged = data["logged"].get(field)
        return ([Choice(t("shuxue.use_logged", text=logged), logged)] if logged else []) + [
            Choice(NONE, NONE)]
    return choices


def _prompt(key: str) -> Any:
    return lambda data: t(key, period=month_day(date.fromisoformat(data[PERIOD])))


async def finish(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    member = ctx.member
    assert member is not None
    period = date.fromisoformat(data[PERIOD])
    answer = await ctx.session.scalar(select(ShuxueAnswer).where(
        ShuxueAnswer.member_id == member.id, ShuxueAnswer.period_start == period))
    if answer is None:
        answer = ShuxueAnswer(member_id=member.id, org_id=member.org_id, period_start=period)
        ctx.session.add(answer)
    answer.self_study, answer.research, answer.deeds = (
        data["self_study"], data["research"], data["deeds"])
    answer.answered_at = ctx.now
    await ctx.session.flush()
    return [Reply(t("shuxue.saved", period=month_day(period)))]


SHUXUE = Dialog(
    name="shuxue",
    title="shuxue.title",
    steps=(
        text_step("self_study", "shuxue.self_study", _prompt("shuxue.ask_self_study"), max_len=300,
                  choices=_choices("self_study")),
        text_step("research", "shuxue.research", _prompt("shuxue.ask_research"), max_len=300,
                  choices=_choices("research")),
        text_step("deeds", "shuxue.deeds", _prompt("shuxue.ask_deeds"), max_len=300,
                  choices=_choices("deeds")),
    ),
    finish=finish,
)
