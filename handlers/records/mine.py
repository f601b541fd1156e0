"""/mine: a member's recent records, each to change (修改) or delete (删除, confirmed, audited)."""

from __future__ import annotations

from typing import Any

from handlers.core.context import Context
from handlers.dialogs import engine
from handlers.commitments import dialog as commitment
from handlers.problems import report as problem
from handlers.study import dialog as study
from handlers.visits import dialog as visit
from handlers.dialogs.engine import Choice, Dialog, Step
from handlers.dialogs.fields import show_date, show_minutes
from handlers.core.events import Reply
from handlers.core.i18n import t
from storage.models import Problem, ProblemStatus, StudyRecord
from storage.repositories.records import Record, RecordRepository

LOADERS = {"study": study.load, "visit": visit.load, "problem": problem.load,
           "commitment": commitment.load}
DIALOG_OF = {"study": study.STUDY, "visit": visit.VISIT, "problem": problem.PROBLEM,
             "commitment": commitment.COMMIT}


def describe(kind: str, record: Record) -> str:
    """One line a member recognises their record by."""
    data = LOADERS[kind](record)  # type: ignore[arg-type]
    if kind == "study":
        return t("mine.study", date=show_date(data["date"]), form=data["form"],
                 hours=show_minutes(data["minutes"]), content=data["content"])
    if kind == "visit":
        return t("mine.visit", date=show_date(data["date"]), kind=data["kind"], place=data["place"])
    if kind == "problem":
        return t("mine.problem", description=_short(data["description"]),
                 deadline=show_date(data["deadline"]))
    return t("mine.commitment", content=_short(data["content"]))


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


async def begin(ctx: Context, _args: str = "") -> list[Reply]:
    assert ctx.member is not None
    recent = await RecordRepository(ctx.session).recent(ctx.member)
    if not recent:
        return [Reply(t("mine.none"))]
    items = [{"kind": kind, "id": record.id, "text": describe(kind, record)} for kind, record in recent]
    return await engine.start(ctx, MINE, {"items": items})


def _listing(data: dict[str, Any]) -> str:
    lines = [t("mine.header")]
    lines += [f"{i}. {item['text']}" for i, item in enumerate(data["items"], start=1)]
    return "\n".join(lines)


async def _actions(_ctx: Context, data: dict[str, Any]) -> list[Choice]:
    choices: list[Choice] = []
    for i, _item in enumerate(data["items"]):
        choices.append(Choice(t("mine.edit", n=i + 1), ["edit", i]))
        choices.append(Choice(t("mine.delete", n=i + 1), ["delete", i]))
    return choices


async def chosen(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    assert ctx.member is not None
    action, index = data["action"]
    item = data["items"][index]
    record = await RecordRepository(ctx.session).get_owned(item["kind"], item["id"], ctx.member)
    if record is None:
        return [Reply(t("record.gone"))]
    if isinstance(record, Problem) and record.status is not ProblemStatus.pending:
        return [Reply(t("problem.locked"))]  # accepted: it changes only through its lifecycle
    if isinstance(record, StudyRecord) and record.meeting_id is not None:
        return [Reply(t("meeting.credit_locked"))]  # follows its meeting; disputed via /meeting
    if action == "edit":
        return await engine.start(ctx, DIALOG_OF[item["kind"]], LOADERS[item["kind"]](record))  # type: ignore[arg-type]
    return await engine.start(ctx, DELETE, {"kind": item["kind"], "id": item["id"],
                                              "text": item["text"]})


async def delete_confirmed(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    assert ctx.member is not None
    if not data["sure"]:
        return [Reply(t("mine.kept"))]
    repo = RecordRepository(ctx.session)
    record = await repo.get_owned(data["kind"], data["id"], ctx.member)
    if record is None:
        return [Reply(t("record.gone"))]
    await repo.delete(record, data["kind"], ctx.member)
    return [Reply(t("mine.deleted"))]


MINE = Dialog(
    name="mine",
    title="mine.title",
    steps=(Step("action", "mine.title", _listing, choices=_actions),),
    finish=chosen,
    confirm=False,
)
DELETE = Dialog(
    name="delete",
    title="mine.title",
    steps=(Step("sure", "mine.title", lambda data: t("mine.ask_delete", text=data["text"]),
                choices=(Choice(t("mine.delete_yes"), True), Choice(t("mine.delete_no"), False))),),
    finish=delete_confirmed,
    confirm=False,
)
