"""Saving a confirmed record dialog: a new record, or the edit of one the member owns.

An edit is checked again when it is saved (``RecordRepository.changeable``, in the saving
transaction): a record deleted, accepted by the secretary or taken over by a meeting's credit
since the member opened it is left as it is, and the member is told why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.i18n import Translator
from handlers.dialogs.engine import RECORD_ID
from handlers.records.kinds import RecordKind
from storage.repositories.records import Record, RecordRepository, Refusal


@dataclass(frozen=True)
class Saved:
    record: Record | None  # None: not saved (``refused`` says why)
    created: bool
    refused: str | None = None  # catalogue key


def refusal_text(kind: RecordKind | None, refused: Refusal) -> str:
    """The catalogue key telling a member why their record was left as it is."""
    if refused is Refusal.locked and kind is not None and kind.locked is not None:
        return kind.locked
    return "record.gone"


async def save_record(ctx: Context, kind: RecordKind, data: dict[str, Any],
                      values: dict[str, Any]) -> Saved:
    """Insert, or update the record named by ``data[RECORD_ID]`` if it is still the member's to
    change."""
    assert ctx.member is not None
    repo = RecordRepository(ctx.session)
    record_id = data.get(RECORD_ID)
    if record_id is None:
        return Saved(await repo.create(kind.model, ctx.member, values), True)
    record = await repo.changeable(kind.model, int(record_id), ctx.member)
    if isinstance(record, Refusal):
        return Saved(None, False, refusal_text(kind, record))
    await repo.update(record, values, ctx.member)
    return Saved(record, False)


def saved_reply(t: Translator, saved: Saved, saved_key: str) -> list[Reply]:
    """What the member reads after 确认: saved, changed, or why it was not."""
    if saved.record is None:
        return [Reply(t(saved.refused or "record.gone"))]
    return [Reply(t(saved_key if saved.created else "record.updated"))]
