"""What /progress lets an owner do with a problem in work: report progress (what was done, optionally a
percentage and photos or files), ask for a new deadline (the secretary decides), or ask for 销号."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.dialogs.engine import Dialog
from handlers.dialogs.fields import deadline_step, text_step
from handlers.problems.actions import perform
from handlers.problems.lifecycle import Action
from handlers.problems.steps import PROBLEM_ID, evidence_step, percent_step


def _finish_as(action: Action) -> Callable[[Context, dict[str, Any]], Awaitable[list[Reply]]]:
    """Take ``action`` with what the dialog collected (a note, and a percentage, a wished
    deadline or files where the dialog asks for them)."""

    async def finish(ctx: Context, data: dict[str, Any]) -> list[Reply]:
        deadline = data.get("deadline")
        return [Reply(await perform(ctx, data[PROBLEM_ID], action, note=data["note"],
                                    percent=data.get("percent"), files=data.get("files"),
                                    new_deadline=date.fromisoformat(deadline) if deadline else None))]

    return finish


PROBLEM_UPDATE = Dialog(
    name="problem_update",
    title="problem.update_title",
    steps=(
        text_step("note", "problem.progress_note", "problem.ask_progress_note", max_len=1000),
        percent_step("percent"),
        evidence_step("files"),
    ),
    finish=_finish_as(Action.update),
)
PROBLEM_ASK_EXTENSION = Dialog(
    name="problem_ask_extension",
    title="problem.ask_extension_title",
    steps=(
        deadline_step("deadline", "problem.new_deadline", "problem.ask_new_deadline"),
        text_step("note", "problem.reason", "problem.ask_extension_reason", max_len=500),
    ),
    finish=_finish_as(Action.request_extension),
)
PROBLEM_CLOSURE = Dialog(
    name="problem_closure",
    title="problem.closure_title",
    steps=(
        text_step("note", "problem.closure_note", "problem.ask_closure_note", max_len=1000),
        evidence_step("files"),
    ),
    finish=_finish_as(Action.request_closure),
)
