"""/mine: a member's recent records, numbered; a number opens one to change (修改) or delete
(删除, confirmed, audited). The list's numbers are the buttons' numbers.

Whether a record may still be changed is asked when it is opened, and again when the change or
the deletion is saved (``handlers.records.saving``): what was decided meanwhile stands.
"""

from __future__ import annotations

from typing import Any

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.i18n import Text, Translator
from handlers.dialogs import engine
from handlers.dialogs.engine import Choice, Dialog, Step, prepared
from handlers.records.saving import refusal_text
from storage.repositories.records import RecordRepository, Refusal

EDIT, DELETE_IT, BACK = "edit", "delete", "back"


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
    return "\n".join(lines + [t("mine.pick")])


async def _numbers(_ctx: Context, data: dict[str, Any]) -> list[Choice]:
    return [Choice(str(n), n - 1, selector=str(n)) for n in range(1, len(data["items"]) + 1)]


async def picked(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    """A record opened: what may be done with it, or why nothing may."""
    assert ctx.member is not None
    item = data["items"][data["pick"]]
    kind = ctx.registry.records.get(item["kind"])
    record, locked = (None, False) if kind is None else await RecordRepository(
        ctx.session).open_owned(kind.model, item["id"], ctx.member)
    if record is None or kind is None:
        return [Reply(ctx.t("record.gone"))]
    if locked:
        return [Reply(ctx.t(refusal_text(kind, Refusal.locked)))]
    return await engine.start(ctx, MINE_ACTION, {
        "kind": item["kind"], "id": item["id"], "text": ctx.t("mine.ask_action", text=item["text"])})


async def acted(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    assert ctx.member is not None
    if data["action"] == BACK:
        return await begin(ctx)
    kind = ctx.registry.records.get(data["kind"])
    record = None if kind is None else await RecordRepository(ctx.session).changeable(
        kind.model, data["id"], ctx.member)
    if kind is None or record is None or isinstance(record, Refusal):
        return [Reply(ctx.t(refusal_text(kind, record if isinstance(record, Refusal) else Refusal.gone)))]
    if data["action"] == EDIT:
        return await engine.start(ctx, kind.dialog, kind.load(record))
    return await engine.start(ctx, DELETE, {"kind": data["kind"], "id": data["id"],
                                              "text": data["text"]})


async def delete_confirmed(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    assert ctx.member is not None
    if not data["sure"]:
        return [Reply(ctx.t("mine.kept"))]
    repo = RecordRepository(ctx.session)
    kind = ctx.registry.records.get(data["kind"])
    record = Refusal.gone if kind is None else await repo.changeable(kind.model, data["id"], ctx.member)
    if isinstance(record, Refusal):
        return [Reply(ctx.t(refusal_text(kind, record)))]
    await repo.delete(record, ctx.member)
    return [Reply(ctx.t("mine.deleted"))]


MINE = Dialog(
    name="mine",
    title="mine.title",
    steps=(Step("pick", "mine.title", _listing, choices=_numbers, columns=5),),
    finish=picked,
    confirm=False,
)
MINE_ACTION = Dialog(
    name="mine_action",
    title="mine.title",
    steps=(Step("action", "mine.title", prepared,
                choices=(Choice(Text.of("mine.edit"), EDIT), Choice(Text.of("mine.delete"), DELETE_IT),
                         Choice(Text.of("dialog.back"), BACK))),),
    finish=acted,
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
