"""Taking an action on a problem: who may, from which state, and the history row it leaves.

Every path that changes a problem goes through ``perform``, which checks the member, the state
(``handlers.problem_lifecycle``) and then changes the row conditionally, so a stale screen or a
second secretary pressing at the same moment is refused instead of acting twice.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from handlers.core.context import Context
from handlers.problems.lifecycle import (
    ACTION_TEXT,
    DECISIONS,
    STATUS_TEXT,
    Action,
    can_see,
    may,
    target,
)
from handlers.problems.notify import notify
from storage.models import Problem, Role
from storage.repositories.problems import ProblemRepository

DONE_TEXT: dict[Action, str] = {action: f"problem.done_{action.value}" for action in Action}


def refusal(ctx: Context, problem: Problem | None, action: Action,
            owner_role: Role | None = None) -> str | None:
    """Why ``ctx.member`` may not take ``action`` on ``problem`` now; None if they may
    (``owner_role``: the role of the problem's owner, for who decides its closure)."""
    member = ctx.member
    if problem is None or member is None or not can_see(member, problem):
        return ctx.t("problem.not_found")
    if not may(member, problem, action, owner_role):
        if action in DECISIONS and problem.owner_id == member.id:
            return ctx.t("problem.own_closure", action=ctx.t(ACTION_TEXT[action.value]))
        return ctx.t("problem.not_allowed", action=ctx.t(ACTION_TEXT[action.value]))
    if target(problem.status, action) is None:
        return ctx.t("problem.transition_refused", action=ctx.t(ACTION_TEXT[action.value]),
                 status=ctx.t(STATUS_TEXT[problem.status]))
    return None


async def load(ctx: Context, problem_id: int, action: Action) -> tuple[Problem | None, str | None]:
    """The problem, if ``action`` on it is allowed now; else None and the reason."""
    repo = ProblemRepository(ctx.session)
    problem = await repo.get(problem_id)
    refused = refusal(ctx, problem, action, await repo.owner_role(problem) if problem else None)
    if refused is None and action is Action.decline_extension:
        assert problem is not None
        if await repo.pending_extension(problem.id) is None:
            refused = ctx.t("problem.no_extension_request")
    return (None, refused) if refused else (problem, None)


async def perform(ctx: Context, problem_id: int, action: Action, *, note: str | None = None,
                  percent: int | None = None, new_deadline: date | None = None,
                  changes: dict[str, Any] | None = None,
                  files: list[dict[str, Any]] | None = None) -> str:
    """Take ``action`` and say what happened (or why not) in one line for the member."""
    problem, refused = await load(ctx, problem_id, action)
    if problem is None or ctx.member is None:
        return refused or ctx.t("problem.not_found")
    repo = ProblemRepository(ctx.session)
    to = target(problem.status, action)
    assert to is not None
    event = await repo.apply(problem, action=action.value, actor=ctx.member, expected=problem.status,
                             to=to, note=note, percent=percent, new_deadline=new_deadline,
                             changes=changes)
    if event is None:
        return ctx.t("problem.changed_meanwhile")
    if files:
        await repo.add_evidence(event, files, platform=ctx.event.platform, by=ctx.member)
    await notify(ctx, problem, event, action)
    return ctx.t(DONE_TEXT[action])
