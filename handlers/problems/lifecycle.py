"""The problem lifecycle (问题清单 闭环管理), in one place: states, actions, who may act.

待确认 → 整改中 (accepted, with measures, owner, deadline) or 不属于问题 (rejected, with a reason);
整改中 → 申请销号 (the owner says it is done) → 已销号 (approved) or back to 整改中 (returned);
已销号 → 整改中 again when the problem comes back (回潮). Progress updates and deadline changes
keep the state. Separation of duties: nobody decides the closure request of a problem they own;
a secretary's own is decided by another secretary, a 支委 of the branch, or the office. The scheduler's nudges read ``is_overdue`` and ``UPDATE_EVERY`` from here; the
groups of states the queries count by (``OPEN``, ``ACCEPTED``) are in ``storage.vocabulary``.
"""

from __future__ import annotations

import enum
from datetime import date, timedelta

from handlers.core.policy import leads, sees_every_branch
from storage.models import Member, Problem, ProblemStatus, Role
from storage.vocabulary import OPEN

S = ProblemStatus
UPDATE_EVERY = timedelta(days=14)  # "问题清单至少每两周更新一次"


class Action(str, enum.Enum):
    """What someone does to a problem; stored as ``ProblemEvent.action``."""

    accept = "accept"  # 确认整改
    reject = "reject"  # 不属于问题
    update = "update"  # 报告进展
    request_extension = "request_extension"  # 申请延期
    extend = "extend"  # 批准延期 / 调整时限
    decline_extension = "decline_extension"  # 不同意延期
    request_closure = "request_closure"  # 申请销号
    approve = "approve"  # 批准销号
    send_back = "send_back"  # 退回整改
    reopen = "reopen"  # 回潮，重新整改


class Actor(str, enum.Enum):
    owner = "owner"  # the responsible person, or the branch secretary / office for them
    approver = "approver"  # the branch secretary or the office (see ``may`` for closures)


# state × action → the state after it. A pair that is not here is not allowed.
TRANSITIONS: dict[tuple[ProblemStatus, Action], ProblemStatus] = {
    (S.pending, Action.accept): S.rectifying,
    (S.pending, Action.reject): S.rejected,
    (S.rectifying, Action.update): S.rectifying,
    (S.rectifying, Action.request_extension): S.rectifying,
    (S.rectifying, Action.extend): S.rectifying,
    (S.rectifying, Action.decline_extension): S.rectifying,
    (S.rectifying, Action.request_closure): S.closure_requested,
    (S.closure_requested, Action.approve): S.closed,
    (S.closure_requested, Action.send_back): S.rectifying,
    (S.closed, Action.reopen): S.rectifying,
}

WHO: dict[Action, Actor] = {
    Action.update: Actor.owner,
    Action.request_extension: Actor.owner,
    Action.request_closure: Actor.owner,
    Action.accept: Actor.approver,
    Action.reject: Actor.approver,
    Action.extend: Actor.approver,
    Action.decline_extension: Actor.approver,
    Action.approve: Actor.approver,
    Action.send_back: Actor.approver,
    Action.reopen: Actor.approver,
}

# Catalogue keys: how a state reads, and how an action reads on its button and in the history.
STATUS_TEXT: dict[ProblemStatus, str] = {
    S.pending: "problem.status_pending",
    S.rectifying: "problem.status_rectifying",
    S.closure_requested: "problem.status_closure_requested",
    S.closed: "problem.status_closed",
    S.rejected: "problem.status_rejected",
}
ACTION_TEXT: dict[str, str] = {
    "report": "problem.act_report",
    "edit": "problem.act_edit",
    **{action.value: f"problem.act_{action.value}" for action in Action},
}


def target(status: ProblemStatus, action: Action) -> ProblemStatus | None:
    """The state ``action`` leads to from ``status``; None when it is not allowed there."""
    return TRANSITIONS.get((status, action))


def is_approver(member: Member, problem: Problem) -> bool:
    return leads(member, problem.org_id)


def can_see(member: Member, problem: Problem) -> bool:
    """The office sees everything, a branch sees its own problems, nobody else sees them."""
    return sees_every_branch(member) or member.org_id == problem.org_id


# Deciding a closure request (批准销号 / 退回整改): never by the problem's owner.
DECISIONS: frozenset[Action] = frozenset({Action.approve, Action.send_back})


def decides_closure(member: Member, problem: Problem, owner_role: Role | None) -> bool:
    """Whether ``member`` decides the problem's closure request: not its owner; the branch's
    secretaries and the office, and, when the owner is a secretary (``owner_role``), the
    branch's 支委 too."""
    if problem.owner_id == member.id:
        return False
    if is_approver(member, problem):
        return True
    return (owner_role is Role.secretary and member.role is Role.committee
            and member.org_id == problem.org_id)


def may(member: Member, problem: Problem, action: Action, owner_role: Role | None = None) -> bool:
    """Whether ``member`` is someone who may take ``action`` on ``problem`` (state aside);
    ``owner_role``: the role of the problem's owner (a secretary's own closure goes to others)."""
    if action in DECISIONS:
        return decides_closure(member, problem, owner_role)
    if is_approver(member, problem):
        return True
    return WHO[action] is Actor.owner and problem.owner_id == member.id


def actions_for(member: Member, problem: Problem, owner_role: Role | None = None) -> list[Action]:
    """The actions ``member`` may take on ``problem`` now, in the order buttons show them.
    (An approver is not offered 申请延期: they change the deadline themselves.)"""
    approver = is_approver(member, problem)
    return [action for action in Action
            if target(problem.status, action) is not None
            and may(member, problem, action, owner_role)
            and not (approver and action is Action.request_extension)]


def is_overdue(status: ProblemStatus, deadline: date, today: date) -> bool:
    return status in OPEN and deadline < today
