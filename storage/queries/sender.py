"""Who sent an event: the member their platform identity is bound to, and their dialog state.

Both are read for every event, so they come in one statement: a one-row driver (the platform
user) outer-joined to the identity, its active member with the branch, and the dialog state, so a
user who is no member (yet) still gets their state, and a member without a dialog their member.

The statement is a plain one (``storage.prepared``), not an ORM query: loading the member and its
branch through the ORM cost more than the rest of a dialog step. The member and branch it reads
are made the session's own persistent objects, as a query would have made them (changes to them
are flushed, a later query in the session gets the same objects), with every column loaded.
"""

from __future__ import annotations

from sqlalchemy import String, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import Identity, Member, Organization
from storage.models import DialogState as DialogRow
from storage.prepared import PreparedQuery, columns_of, loaded
from storage.repositories.dialogs import DialogState

_STATE = (DialogRow.dialog, DialogRow.step, DialogRow.data, DialogRow.nonce, DialogRow.expires_at,
          DialogRow.offered)
_MEMBER_COLUMNS, _ORG_COLUMNS = columns_of(Member), columns_of(Organization)

_WHO = select(bindparam("platform", type_=String()).label("platform"),
              bindparam("user_id", type_=String()).label("user_id")).subquery("who")
_SENDER = PreparedQuery(
    select(*_MEMBER_COLUMNS, *_ORG_COLUMNS, *_STATE)
    .select_from(_WHO)
    .outerjoin(Identity, and_(Identity.platform == _WHO.c.platform,
                              Identity.platform_user_id == _WHO.c.user_id))
    .outerjoin(Member.__table__, and_(Member.id == Identity.member_id, Member.active))
    .outerjoin(Organization.__table__, Organization.id == Member.org_id)
    .outerjoin(DialogRow, and_(DialogRow.platform == _WHO.c.platform,
                               DialogRow.platform_user_id == _WHO.c.user_id)),
    ("platform", "user_id"))
_ORG_AT = len(_MEMBER_COLUMNS)
_STATE_AT = _ORG_AT + len(_ORG_COLUMNS)


async def sender(session: AsyncSession, platform: str,
                 user_id: str) -> tuple[Member | None, DialogState | None]:
    """The active member bound to this platform user (None: no member), with their branch
    loaded, and their dialog state (None: none)."""
    row = await _SENDER.first(session, {"platform": platform, "user_id": user_id})
    assert row is not None  # the driver row is always there
    member: Member | None = None
    if row[0] is not None:
        org = loaded(session, Organization, row[_ORG_AT:_STATE_AT])
        member = loaded(session, Member, row[:_ORG_AT])
        if "org" not in member.__dict__:
            set_committed_value(member, "org", org)
    state = row[_STATE_AT:]
    return member, None if state[0] is None else DialogState(platform, user_id, *state)
