"""The audit log for what is not a member's record: joining (requests, decisions, bindings),
group chats bound. ``actor_id`` None: the operator at the command line, or someone not yet a
member (a person asking to join)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditLog


def audit(session: AsyncSession, *, actor_id: int | None, action: str, entity: str,
          entity_id: int | None, after: dict[str, Any] | None = None,
          before: dict[str, Any] | None = None) -> None:
    session.add(AuditLog(actor_id=actor_id, action=action, entity=entity, entity_id=entity_id,
                         before=before, after=after))
