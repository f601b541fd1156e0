"""What the bot pushed to a chat: the buttons of the newest push that has any (typed as #1, #2 …)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.db import Session
from storage.models import OutboxMessage, OutboxStatus

_LOOK_BACK = 20  # pushes without buttons in between (notes, reminders) that are passed over


async def newest_push_buttons(session: Session, platform: str,
                              chat_id: str) -> list[list[dict[str, Any]]] | None:
    """The button rows (as ``handlers.core.events.payload`` stores them) of the newest message
    sent to ``chat_id`` that has buttons; None when none of the last few had any."""
    payloads = await session.scalars(
        select(OutboxMessage.payload)
        .where(OutboxMessage.platform == platform, OutboxMessage.chat_id == chat_id,
               OutboxMessage.status == OutboxStatus.sent)
        .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc()).limit(_LOOK_BACK))
    return next((p["buttons"] for p in payloads if p.get("buttons")), None)
