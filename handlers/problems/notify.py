"""Telling the next person in the loop: the secretary when a member asks for 销号 or a new
deadline (a secretary's own 销号: the branch's 支委 and the office, who decide it), the owner when
the secretary decides, the office when a 需上级协调 problem is accepted.

Messages go through the outbox (idempotent per history row and recipient), after quiet hours.
"""

from __future__ import annotations

from handlers.core.context import Context
from handlers.core.events import payload
from handlers.core.formats import short
from handlers.core.i18n import Translator
from handlers.problems.lifecycle import ACTION_TEXT, Action
from handlers.schedule.times import after_quiet_hours
from storage.models import Problem, ProblemEvent, Role
from storage.repositories.outbox import OutboxRepository, Planned
from storage.repositories.problems import ProblemRepository
from storage.repositories.recipients import Recipient, RecipientRepository
from storage.vocabulary import COORDINATION_KIND

TO_APPROVERS = {Action.request_closure, Action.request_extension}
TO_OWNER = {Action.accept, Action.send_back, Action.approve, Action.reopen, Action.extend,
            Action.decline_extension}


async def _recipients(ctx: Context, problem: Problem, action: Action) -> list[Recipient]:
    """Who hears of ``action`` (not the member who took it)."""
    assert ctx.member is not None
    find = RecipientRepository(ctx.session).find
    if action in TO_APPROVERS:
        own = action is Action.request_closure and \
            await ProblemRepository(ctx.session).owner_role(problem) is Role.secretary
        found = await find(ctx.platforms, secretaries_of=problem.org_id,
                           committee_of=problem.org_id if own else None, office=own,
                           exclude=ctx.member.id)
        return [r for r in found if r.member_id != problem.owner_id] if own else found
    members = [problem.owner_id] if action in TO_OWNER and problem.owner_id is not None else []
    if action is Action.reject:
        members.append(problem.reporter_id)
    return await find(ctx.platforms, members=members, exclude=ctx.member.id,
                      office=action is Action.accept and problem.kind == COORDINATION_KIND)


def _hint(t: Translator, action: Action, role: Role) -> str:
    """Where the recipient acts next: the list (approvers), their problems (the owner)."""
    if action in TO_APPROVERS or role is Role.office:
        return t("problem.notify_hint_board")
    return "" if action is Action.reject else t("problem.notify_hint_progress")


async def notify(ctx: Context, problem: Problem, event: ProblemEvent, action: Action) -> None:
    if ctx.member is None:
        return
    send_at = after_quiet_hours(ctx.now, ctx.config.tz, ctx.config.quiet_start,
                                ctx.config.quiet_end)
    planned = []
    for to in await _recipients(ctx, problem, action):
        text = ctx.t("problem.notify", problem=short(problem.description), actor=ctx.member.name,
                 action=ctx.t(ACTION_TEXT[action.value]), note=f"：{event.note}" if event.note else "",
                 hint=_hint(ctx.t, action, to.role))
        planned.append(Planned(f"problem:{event.id}:{to.member_id}", "problem", to.platform,
                               to.chat_id, payload(text), send_at, False, to.org_id, to.member_id))
    added = await OutboxRepository(ctx.session).enqueue(planned)
    ctx.enqueued = ctx.enqueued or added > 0
