"""Saving a confirmed record dialog: a new record, or the edit of one the member owns."""

from __future__ import annotations

from typing import Any

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.i18n import Translator
from handlers.dialogs.engine import RECORD_ID
from handlers.records.kinds import RecordKind
from storage.repositories.records import Record, RecordRepository


async def save_record(ctx: Context, kind: RecordKind, data: dict[str, Any],
                      values: dict[str, Any]) -> tuple[Record | None, bool]:
    """Insert, or update the record named by ``data[RECORD_ID]``.

    Returns (record, created). The record is None when the edited one is no longer the member's
    to edit (deleted meanwhile, or never theirs): the caller says so instead of saving.
    """
    assert ctx.member is not None
    repo = RecordRepository(ctx.session)
    record_id = data.get(RECORD_ID)
    if record_id is None:
        return await repo.create(kind.model, ctx.member, values), True
    record = await repo.get_owned(kind.model, int(record_id), ctx.member)
    if record is None:
        return None, False
    await repo.update(record, values, ctx.member)
    return record, False


def saved_reply(t: Translator, record: Record | None, created: bool, saved_key: str) -> list[Reply]:
    """What the member reads after 确认: saved, changed, or no longer theirs to change."""
    if record is None:
        return [Reply(t("record.gone"))]
    return [Reply(t(saved_key if created else "record.updated"))]
