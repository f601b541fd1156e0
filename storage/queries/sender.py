"""Who sent an event: the member their platform identity is bound to, and their dialog state.

Both are read for every event, so they come in one statement: a one-row driver (the platform
user) outer-joined to the identity, its active member with the branch, and the dialog state, so a
user who is no member (yet) still gets their state, and a member without a dialog their member.
"""

from __future__ import annotations

from sqlalchemy import String, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage.models import DialogState as DialogRow
from storage.models import Identity, Member
from storage.repositories.dialogs import DialogState

_WHO = select(bindparam("platform", type_=String()).label("platform"),
              bindparam("user_id", type_=String()).label("user_id")).subquery("who")
_SENDER = (select(Member, DialogRow.dialog, DialogRow.step, DialogRow.data, DialogRow.nonce,
                  DialogRow.expires_at, DialogRow.offered)
           .select_from(_WHO)
           .outerjoin(Identity, and_(Identity.platform == _WHO.c.platform,
                                     Identity.platform_user_id == _WHO.c.user_id))
           .outerjoin(Member, and_(Member.id == Identity.member_id, Member.active))
           .outerjoin(DialogRow, and_(DialogRow.platform == _WHO.c.platform,
                                      DialogRow.platform_user_id == _WHO.c.user_id))
           .options(joinedload(Member.org)))


async def sender(session: AsyncSession, platform: str,
                 user_id: str) -> tuple[Member | None, DialogState | None]:
    """The active member bound to this platform user (None: no member), and their dialog state
    (None: none)."""
    row = (await session.execute(_SENDER, {"platform": platform, "user_id": user_id})).one()
    member, *state = row
    return member, None if state[0] is None else DialogState(platform, user_id, *state)
