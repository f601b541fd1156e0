"""What the secretary or the office fill in to act on a problem: accept (measures, owner,
deadline), reject / return / decline with a reason, grant a new deadline, reopen (回潮), and
confirm 批准销号."""

from __future__ import annotations

from datetime import date
from typing import Any

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.i18n import Text, Translator
from handlers.dialogs.engine import Choice, Dialog, Step
from handlers.dialogs.fields import deadline_step, name_step, text_step
from handlers.problems.actions import perform
from handlers.problems.lifecycle import Action
from handlers.problems.steps import PROBLEM_ID, suggested_deadline_step
from storage.repositories.members import MemberRepository

REASON_PROMPT = {Action.reject.value: "problem.ask_reject_reason",
                 Action.send_back.value: "problem.ask_send_back_reason",
                 Action.decline_extension.value: "problem.ask_decline_reason"}


async def _keep_measures(ctx: Context, data: dict[str, Any]) -> list[Choice]:
    return [Choice(ctx.t("problem.keep_measures"), data["measures_now"])]


async def _owners(ctx: Context, data: dict[str, Any]) -> list[Choice]:
    members = await MemberRepository(ctx.session).active_in(data["org_id"])
    names = [data["owner_now"]] + [m.name for m in members if m.name != data["owner_now"]]
    return [Choice(name, name) for name in names]


async def accept_finish(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    """Accept with the measures, owner and deadline; the owner is linked to the roster by name."""
    members = await MemberRepository(ctx.session).active_in(data["org_id"])
    named = [m for m in members if m.name == data["owner"]]
    deadline = date.fromisoformat(data["deadline"])
    changes = {"measures": data["measures"], "owner_name": data["owner"], "deadline": deadline,
               "owner_id": named[0].id if len(named) == 1 else None}
    return [Reply(await perform(ctx, data[PROBLEM_ID], Action.accept, changes=changes,
                                new_deadline=deadline))]


async def reason_finish(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    return [Reply(await perform(ctx, data[PROBLEM_ID], Action(data["action"]), note=data["reason"]))]


async def _requested_reason(ctx: Context, data: dict[str, Any]) -> list[Choice]:
    if not data.get("request_note"):
        return []
    return [Choice(ctx.t("problem.use_request_reason"), data["request_note"])]


async def deadline_finish(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    """Extend, or reopen: a new deadline, and the reason kept with it."""
    deadline = date.fromisoformat(data["deadline"])
    return [Reply(await perform(ctx, data[PROBLEM_ID], Action(data["action"]), note=data["reason"],
                                new_deadline=deadline, changes={"deadline": deadline}))]


async def approve_finish(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    """批准销号 once the decider confirmed it (``perform`` checks again who may, and the state)."""
    if not data["sure"]:
        return [Reply(ctx.t("problem.approve_kept"))]
    return [Reply(await perform(ctx, data[PROBLEM_ID], Action.approve))]


def _reason_prompt(data: dict[str, Any], t: Translator) -> str:
    return t(REASON_PROMPT[data["action"]])


PROBLEM_ACCEPT = Dialog(
    name="problem_accept",
    title="problem.accept_title",
    steps=(
        text_step("measures", "problem.measures", "problem.ask_accept_measures", max_len=1000,
                  choices=_keep_measures),
        name_step("owner", "problem.owner", "problem.ask_accept_owner", choices=_owners),
        suggested_deadline_step("deadline", "problem.deadline", "problem.ask_accept_deadline",
                                lambda data: ("problem.keep_deadline", data["deadline_now"])),
    ),
    finish=accept_finish,
)
PROBLEM_REASON = Dialog(
    name="problem_reason",
    title="problem.reason",
    steps=(text_step("reason", "problem.reason", _reason_prompt, max_len=500),),
    finish=reason_finish,
    confirm=False,
)
PROBLEM_EXTEND = Dialog(
    name="problem_extend",
    title="problem.extend_title",
    steps=(
        suggested_deadline_step(
            "deadline", "problem.new_deadline", "problem.ask_extend_deadline",
            lambda data: ("problem.requested_deadline", data["requested"])
            if data.get("requested") else None),
        text_step("reason", "problem.reason", "problem.ask_extend_reason", max_len=500,
                  choices=_requested_reason),
    ),
    finish=deadline_finish,
    confirm=False,
)
PROBLEM_REOPEN = Dialog(
    name="problem_reopen",
    title="problem.reopen_title",
    steps=(
        text_step("reason", "problem.reason", "problem.ask_reopen_reason", max_len=500),
        deadline_step("deadline", "problem.new_deadline", "problem.ask_reopen_deadline"),
    ),
    finish=deadline_finish,
    confirm=False,
)
PROBLEM_APPROVE = Dialog(
    name="problem_approve",
    title="problem.approve_title",
    steps=(Step("sure", "problem.approve_title",
                lambda d, t: t("problem.ask_approve", problem=d["short"]),
                choices=(Choice(Text.of("problem.approve_yes"), True),
                         Choice(Text.of("problem.approve_no"), False))),),
    finish=approve_finish,
    confirm=False,
)
