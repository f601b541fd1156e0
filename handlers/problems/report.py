"""/problem: report a problem found (检视整改 / 问题清单). It starts as 待确认 for the secretary."""

from __future__ import annotations

from datetime import date
from typing import Any

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.formats import full_date, short
from handlers.core.i18n import Translator
from handlers.dialogs import engine
from handlers.dialogs.engine import RECORD_ID, Choice, Dialog
from handlers.dialogs.fields import deadline_step, name_step, pick_step, text_step
from handlers.records.kinds import RecordKind
from handlers.records.saving import save_record, saved_reply
from storage.models import Problem
from storage.vocabulary import PROBLEM_KINDS, PROBLEM_SOURCES

VISIT_ID = "visit_id"  # the visit the problem was found on, when it came from /visit


async def _me(ctx: Context, _data: dict[str, Any]) -> list[Choice]:
    name = ctx.member.name if ctx.member else ""
    return [Choice(ctx.t("problem.owner_me", name=name), name)]


def load(record: Problem) -> dict[str, Any]:
    return {"description": record.description, "source": record.source, "kind": record.kind,
            "owner": record.owner_name, "deadline": record.deadline.isoformat(),
            "measures": record.measures, VISIT_ID: record.visit_id, RECORD_ID: record.id}


async def begin(ctx: Context, _args: str = "") -> list[Reply]:
    return await engine.start(ctx, PROBLEM)


async def finish(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    assert ctx.member is not None
    owner = data["owner"]
    values = {"description": data["description"], "source": data["source"], "kind": data["kind"],
              "owner_name": owner, "owner_id": ctx.member.id if owner == ctx.member.name else None,
              "deadline": date.fromisoformat(data["deadline"]), "measures": data["measures"],
              "visit_id": data.get(VISIT_ID)}
    return saved_reply(ctx.t, await save_record(ctx, PROBLEM_RECORD, data, values), "problem.saved")


PROBLEM = Dialog(
    name="problem",
    title="problem.title",
    steps=(
        text_step("description", "problem.description", "problem.ask_description", max_len=1000),
        pick_step("source", "problem.source", "problem.ask_source", PROBLEM_SOURCES, columns=3),
        pick_step("kind", "problem.kind", "problem.ask_kind", PROBLEM_KINDS),
        name_step("owner", "problem.owner", "problem.ask_owner", choices=_me),
        deadline_step("deadline", "problem.deadline", "problem.ask_deadline"),
        text_step("measures", "problem.measures", "problem.ask_measures", max_len=1000),
    ),
    finish=finish,
)


def line(record: Problem, t: Translator) -> str:
    return t("mine.problem", description=short(record.description, 24),
             deadline=full_date(record.deadline))


# Accepted, a problem changes only through its lifecycle (``lifecycle``).
PROBLEM_RECORD = RecordKind(Problem, PROBLEM, load, line, locked="problem.locked")
