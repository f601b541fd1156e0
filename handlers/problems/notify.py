"""Telling the next person in the loop: the secretary when a member asks for 销号 or a new
deadline, the owner when the secretary decides, the office when a 需上级协调 problem is accepted.

Messages go through the outbox (idempotent per history row and recipient), after quiet hours.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_, select

from handlers.core.context import Context
from handlers.core.i18n import t
from handlers.problems.lifecycle import ACTION_TEXT, COORDINATION_KIND, Action
from handlers.core.formats import short
from handlers.schedule.planner import payload
from handlers.schedule.times import after_quiet_hours
from storage.models import Identity, Member, Problem, ProblemEvent, Role
from storage.repositories.outbox import OutboxRepository, Planned

TO_APPROVERS = {Action.request_closure, Action.request_extension}
TO_OWNER = {Action.accept, Action.send_back, Action.approve, Action.reopen, Action.extend,
            Action.decline_extension}


def _recipients(problem: Problem, action: Action) -> list[ColumnElement[bool]]:
    """Conditions on ``Member`` naming who hears of ``action``."""
    if action in TO_APPROVERS:
        return [and_(Member.role == Role.secretary, Member.org_id == problem.org_id)]
    found: list[ColumnElement[bool]] = []
    if action in TO_OWNER and problem.owner_id is not None:
        found.append(Member.id == problem.owner_id)
    if action is Action.reject:
        found.append(Member.id == problem.reporter_id)
    if action is Action.accept and problem.kind == COORDINATION_KIND:
        found.append(Member.role == Role.office)
    return found


def _hint(action: Action, role: Role) -> str:
    """Where the recipient acts next: the list (approvers), their problems (the owner)."""
    if action in TO_APPROVERS or role is Role.office:
        return t("problem.notify_hint_board")
    return "" if action is Action.reject else t("problem.notify_hint_progress")


async def notify(ctx: Context, problem: Problem, event: ProblemEvent, action: Action) -> None:
    who = _recipients(problem, action)
    if not who or ctx.member is None:
        return
    platform = ctx.event.platform
    rows = await ctx.session.execute(
        select(Member.id, Member.org_id, Member.role, Identity.platform_user_id)
        .join(Identity, Identity.member_id == Member.id)
        .where(Identity.platform == platform, Member.active, Member.id != ctx.member.id,
               or_(*who)))
    send_at = after_quiet_hours(ctx.now, ctx.config.tz, ctx.config.quiet_start,
                                ctx.config.quiet_end)
    planned = []
    for member_id, org_id, role, chat_id in rows.tuples():
        text = t("problem.notify", problem=short(problem.description), actor=ctx.member.name,
                 action=t(ACTION_TEXT[action.value]), note=f"：{event.note}" if event.note else "",
                 hint=_hint(action, role))
        planned.append(Planned(f"problem:{event.id}:{member_id}", "problem", platform, chat_id,
                               payload(text), send_at, False, org_id, member_id))
    added = await OutboxRepository(ctx.session).enqueue(planned)
    ctx.enqueued = ctx.enqueued or added > 0
