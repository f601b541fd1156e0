"""述学: this period's 自学情况, 调研情况 and 为民办实事情况, prefilled from what the member logged."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.formats import month_day, short
from handlers.core.i18n import Translator
from handlers.core.parsing import format_hours
from handlers.dialogs import engine
from handlers.dialogs.engine import RECORD_ID, Choice, Dialog
from handlers.dialogs.fields import text_step
from handlers.schedule.audience import rhythm_of
from handlers.schedule.times import Rhythm, at_local, current_period
from storage.db import Session
from storage.models import Member
from storage.queries.logged import logged_since
from storage.repositories.shuxue import ShuxueRepository

NONE = "本周无"
PERIOD = "period"
ANSWER_CHARS = 300  # each of the three answers
LABEL_CHARS = 40  # a logged line shown on its button


async def branch_rhythm(session: Session, org_id: int) -> Rhythm:
    return rhythm_of(await ShuxueRepository(session).schedule(org_id)) or Rhythm()


async def prefills(t: Translator, session: Session, member: Member, since: date,
                   since_at: datetime) -> dict[str, str | None]:
    """What the member logged from ``since`` (``since_at``: its start, in UTC): one line per 述学
    field, None where nothing."""
    found = await logged_since(session, member.id, since, since_at)
    lines = {
        "self_study": t("shuxue.prefill_study", hours=format_hours(found.minutes / 60),
                        count=found.studies, contents="、".join(found.contents))
        if found.studies else None,
        "research": t("shuxue.prefill_research", count=found.visits, places="、".join(found.places),
                      problems=found.problems) if found.visits else None,
        "deeds": t("shuxue.prefill_deeds", solved=found.solved) if found.solved else None,
    }
    # Offered as the answer: within what a typed answer may be (many contents make a long line).
    return {field: None if line is None else short(line, ANSWER_CHARS - 1)
            for field, line in lines.items()}


async def begin(ctx: Context, _args: str = "") -> list[Reply]:
    member = ctx.member
    assert member is not None
    period = current_period(await branch_rhythm(ctx.session, member.org_id), ctx.today)
    existing = await ShuxueRepository(ctx.session).answer(member.id, period)
    data: dict[str, Any] = {PERIOD: period.isoformat(),
                            "logged": await prefills(ctx.t, ctx.session, member, period,
                                                     at_local(period, time(0), ctx.config.tz))}
    if existing is not None:
        data.update(self_study=existing.self_study, research=existing.research,
                    deeds=existing.deeds)
        data[RECORD_ID] = existing.id
    return await engine.start(ctx, SHUXUE, data)


def _choices(field: str) -> Any:
    async def choices(ctx: Context, data: dict[str, Any]) -> list[Choice]:
        logged = data["logged"].get(field)
        return ([Choice(ctx.t("shuxue.use_logged", text=short(logged, LABEL_CHARS)), logged)]
                if logged else []) + [
            Choice(NONE, NONE)]
    return choices


def _prompt(key: str) -> Any:
    return lambda data, t: t(key, period=month_day(date.fromisoformat(data[PERIOD])))


async def finish(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    member = ctx.member
    assert member is not None
    period = date.fromisoformat(data[PERIOD])
    await ShuxueRepository(ctx.session).save_answer(
        member, period, self_study=data["self_study"], research=data["research"],
        deeds=data["deeds"], at=ctx.now)
    return [Reply(ctx.t("shuxue.saved", period=month_day(period)))]


SHUXUE = Dialog(
    name="shuxue",
    title="shuxue.title",
    steps=(
        text_step("self_study", "shuxue.self_study", _prompt("shuxue.ask_self_study"),
                  max_len=ANSWER_CHARS,
                  choices=_choices("self_study")),
        text_step("research", "shuxue.research", _prompt("shuxue.ask_research"),
                  max_len=ANSWER_CHARS,
                  choices=_choices("research")),
        text_step("deeds", "shuxue.deeds", _prompt("shuxue.ask_deeds"),
                  max_len=ANSWER_CHARS,
                  choices=_choices("deeds")),
    ),
    finish=finish,
)
