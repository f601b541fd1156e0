"""/mine: a member's recent records, each to change (修改) or delete (删除, confirmed, audited)."""

from __future__ import annotations

from typing import Any

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.i18n import Text, Translator
from handlers.dialogs import engine
from handlers.dialogs.engine import Choice, Dialog, Step
from storage.repositories.records import RecordRepository


async def begin(ctx: Context, _args: str = "") -> list[Reply]:
    assert ctx.member is not None
    kinds = ctx.registry.records
    recent = await RecordRepository(ctx.session).recent(
        ctx.member, [kind.model for kind in kinds.values()])
    if not recent:
        return [Reply(ctx.t("mine.none"))]
    items = [{"kind": record.entity, "id": record.id, "text": kinds[record.entity].line(record, ctx.t)}
             for record in recent]
    return await engine.start(ctx, MINE, {"items": items})


def _listing(data: dict[str, Any], t: Translator) -> str:
    lines = [t("mine.header")]
    lines += [f"{i}. {item['text']}" for i, item in enumerate(data["items"], start=1)]
    return "\n".join(lines)


async def _actions(ctx: Context, data: dict[str, Any]) -> list[Choice]:
    choices: list[Choice] = []
    for i, _item in enumerate(data["items"]):
        choices.append(Choice(ctx.t("mine.edit", n=i + 1), ["edit", i]))
        choices.append(Choice(ctx.t("mine.delete", n=i + 1), ["delete", i]))
    return choices


async def chosen(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    assert ctx.member is not None
    action, index = data["action"]
    item = data["items"][index]
    kind = ctx.registry.records.get(item["kind"])
    record = None if kind is None else await RecordRepository(ctx.session).get_owned(
        kind.model, item["id"], ctx.member)
    if kind is None or record is None:
        return [Reply(ctx.t("record.gone"))]
    locked = kind.locked(record)
    if locked is not None:
        return [Reply(ctx.t(locked))]
    if action == "edit":
        return await engine.start(ctx, kind.dialog, kind.load(record))
    return await engine.start(ctx, DELETE, {"kind": item["kind"], "id": item["id"],
                                              "text": item["text"]})


async def delete_confirmed(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    assert ctx.member is not None
    if not data["sure"]:
        return [Reply(ctx.t("mine.kept"))]
    repo = RecordRepository(ctx.session)
    kind = ctx.registry.records.get(data["kind"])
    record = None if kind is None else await repo.get_owned(kind.model, data["id"], ctx.member)
    if record is None:
        return [Reply(ctx.t("record.gone"))]
    await repo.delete(record, ctx.member)
    return [Reply(ctx.t("mine.deleted"))]


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
    steps=(Step("sure", "mine.title", lambda data, t: t("mine.ask_delete", text=data["text"]),
                choices=(Choice(Text.of("mine.delete_yes"), True), Choice(Text.of("mine.delete_no"), False))),),
    finish=delete_confirmed,
    confirm=False,
)
