"""Join requests: someone asking to join a branch, waiting for the secretary or the office.

Deciding is a conditional update (pending → decided), so two approvers, or a doubled tap,
decide a request once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.inserts import insert_new
from storage.models import Identity, JoinRequest, JoinStatus, Member, Role

TABLE = JoinRequest.__table__


class JoinRequestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, request_id: int) -> JoinRequest | None:
        return await self.session.get(JoinRequest, request_id)

    async def open_for(self, platform: str, user_id: str) -> JoinRequest | None:
        """The platform account's pending request, if it has one."""
        return await self.session.scalar(select(JoinRequest).where(
            JoinRequest.platform == platform, JoinRequest.platform_user_id == user_id,
            JoinRequest.status == JoinStatus.pending))

    async def add(self, *, org_id: int, member_id: int | None, name: str, platform: str,
                  user_id: str, display_name: str | None, username: str | None) -> JoinRequest | None:
        """A new pending request; None when the account has one pending already (it may have
        been made a moment ago by the same person on another worker)."""
        new_id = await insert_new(self.session, TABLE, org_id=org_id, member_id=member_id,
                                  name=name, platform=platform, platform_user_id=user_id,
                                  display_name=display_name, username=username,
                                  status=JoinStatus.pending)
        return None if new_id is None else await self.get(new_id)

    async def pending(self, org_ids: tuple[int, ...] | None = None) -> list[JoinRequest]:
        """Pending requests, oldest first: of these branches, or (None) of every one."""
        query = select(JoinRequest).where(JoinRequest.status == JoinStatus.pending)
        if org_ids is not None:
            query = query.where(JoinRequest.org_id.in_(org_ids))
        return list(await self.session.scalars(query.order_by(JoinRequest.id)))

    async def others_for_row(self, member_id: int, platform: str, except_id: int) -> list[JoinRequest]:
        """Other pending requests for the same roster row on the same platform."""
        return list(await self.session.scalars(select(JoinRequest).where(
            JoinRequest.member_id == member_id, JoinRequest.platform == platform,
            JoinRequest.status == JoinStatus.pending, JoinRequest.id != except_id)
            .order_by(JoinRequest.id)))

    async def decide(self, request_id: int, status: JoinStatus, *, by_id: int | None,
                     at: datetime) -> bool:
        """Move a pending request to ``status``; False if it was no longer pending."""
        result = await self.session.execute(
            update(JoinRequest)
            .where(JoinRequest.id == request_id, JoinRequest.status == JoinStatus.pending)
            .values(status=status, decided_by_id=by_id, decided_at=at)
            .execution_options(synchronize_session=False))
        decided = result.rowcount == 1  # type: ignore[attr-defined]
        if decided:
            request = await self.session.get(JoinRequest, request_id)
            if request is not None:
                await self.session.refresh(request)
        return decided

    async def settle(self, request_id: int, status: JoinStatus) -> None:
        """Correct a request decided a moment ago in this transaction (approved, but the row was
        bound meanwhile: superseded)."""
        await self.session.execute(update(JoinRequest).where(JoinRequest.id == request_id)
                                   .values(status=status).execution_options(synchronize_session=False))


@dataclass(frozen=True)
class Approver:
    """Someone who decides join requests, on one of their platforms."""

    member_id: int
    org_id: int
    platform: str
    chat_id: str  # their private chat with the bot there


async def approvers(session: AsyncSession, org_id: int, *, office_only: bool) -> list[Approver]:
    """Who hears of a request to join branch ``org_id``, on every platform they have: its active
    secretaries (unless ``office_only``), else (none of them reachable) the office."""
    def reach(*who: Any) -> Select[Any]:
        return (select(Member.id, Member.org_id, Identity.platform, Identity.platform_user_id)
                .join(Identity, Identity.member_id == Member.id)
                .where(Member.active, *who).order_by(Member.id, Identity.platform))

    rows: list[Any] = []
    if not office_only:
        rows = list(await session.execute(reach(Member.role == Role.secretary, Member.org_id == org_id)))
    if not rows:
        rows = list(await session.execute(reach(Member.role == Role.office)))
    return [Approver(*row) for row in rows]
