"""The audit log: who did what to which record or request, with it before and after.
``actor_id`` None: the operator at the command line, or someone not yet a member (a person asking
to join). A row is written at once, as a plain statement (``storage.prepared``): every record
saved writes one, and the ORM's unit of work would cost more than the record's own save."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditLog
from storage.prepared import Prepared
from storage.types import utcnow

_AUDIT = Prepared(insert(AuditLog.__table__))


async def audit(session: AsyncSession, *, actor_id: int | None, action: str, entity: str,
                entity_id: int | None, after: dict[str, Any] | None = None,
                before: dict[str, Any] | None = None) -> None:
    await _AUDIT.run(session, {"actor_id": actor_id, "action": action, "entity": entity,
                               "entity_id": entity_id, "before": before, "after": after,
                               "at": utcnow()})
