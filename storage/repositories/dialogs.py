"""Dialog state: one row per platform user, replaced at every step.

This is read and written on every message, so it uses plain SQL statements on the table rather
than the ORM's unit of work (about half the cost per event), its writes compiled once
(``storage.prepared``). A step's save compares and sets on
the nonce it read (``StaleState`` when another update moved the dialog meanwhile); a dialog's
first save is an upsert, so two starting at once on two workers do not collide.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DialogState as DialogRow
from storage.prepared import Prepared
from storage.types import utcnow

TABLE = DialogRow.__table__


class StaleState(Exception):
    """The dialog state changed since it was read: the update must be handled again on the new
    state (never saved over it)."""


def new_nonce() -> str:
    return secrets.token_hex(3)


@dataclass
class DialogState:
    """Where a user is: which dialog, which step, the answers so far, and the buttons' nonce."""

    platform: str
    user_id: str
    dialog: str
    step: str
    data: dict[str, Any]
    nonce: str
    expires_at: datetime
    offered: list[dict[str, Any]] | None = None  # the choices typing selects (handlers.core.selectors)


# Built once: these run on every message, and a statement built anew costs more than the query.
_USER = (TABLE.c.platform == bindparam("user_platform"), TABLE.c.platform_user_id == bindparam("user_id"))
_GET = select(TABLE.c.dialog, TABLE.c.step, TABLE.c.data, TABLE.c.nonce, TABLE.c.expires_at,
              TABLE.c.offered).where(*_USER)
_STEP = Prepared(update(TABLE).where(*_USER, TABLE.c.nonce == bindparam("expected_nonce")))
_UPSERT_COLUMNS = ("dialog", "step", "data", "nonce", "expires_at", "updated_at", "offered")


def _upsert(insert_: Any) -> Any:
    statement = insert_(TABLE)
    return statement.on_conflict_do_update(
        index_elements=["platform", "platform_user_id"],
        set_={name: statement.excluded[name] for name in _UPSERT_COLUMNS})


_UPSERT = Prepared({"postgresql": _upsert(postgresql.insert), "sqlite": _upsert(sqlite.insert)})
_CLAIM = Prepared(delete(TABLE).where(*_USER, TABLE.c.nonce == bindparam("claimed_nonce")))
_CLEAR = Prepared(delete(TABLE).where(*_USER))
_OFFER = Prepared(update(TABLE).where(*_USER).values(
    offered=bindparam("new_offered", type_=TABLE.c.offered.type)))


class DialogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, platform: str, user_id: str) -> DialogState | None:
        row = (await self.session.execute(_GET, _user(platform, user_id))).first()
        return None if row is None else DialogState(platform, user_id, *row)

    async def put(self, platform: str, user_id: str, *, dialog: str, step: str,
                  data: dict[str, Any], expires_at: datetime,
                  offered: list[dict[str, Any]] | None = None,
                  after: DialogState | None = None) -> DialogState:
        """Set the user's state to ``step`` of ``dialog`` with a fresh nonce (old buttons go stale)
        and the choices its message offers. With ``after`` (the state this step follows), only if
        the row still holds that state's nonce, else ``StaleState``; without, whatever was there
        is replaced (a dialog started anew)."""
        state = DialogState(platform, user_id, dialog, step, dict(data), new_nonce(), expires_at,
                            offered)
        values = {"dialog": dialog, "step": step, "data": state.data, "nonce": state.nonce,
                  "expires_at": expires_at, "updated_at": utcnow(), "offered": offered}
        if after is not None:
            if await _STEP.run(self.session, {**_user(platform, user_id),
                                              "expected_nonce": after.nonce, **values}) == 0:
                raise StaleState(f"{platform}:{user_id} moved on from {after.nonce}")
            return state
        await _UPSERT.run(self.session, {"platform": platform, "platform_user_id": user_id, **values})
        return state

    async def claim(self, state: DialogState) -> bool:
        """Delete ``state`` if nobody changed it since it was read; False if someone did.

        Finishing a dialog claims its state first, so a doubled 确认 (two presses, two workers)
        saves one record, not two.
        """
        return await _CLAIM.run(self.session, {**_user(state.platform, state.user_id),
                                               "claimed_nonce": state.nonce}) == 1

    async def offer(self, platform: str, user_id: str, offered: list[dict[str, Any]]) -> bool:
        """Replace the choices typing selects (the step and its nonce stay); False when the user
        has no state."""
        return await _OFFER.run(self.session, {**_user(platform, user_id), "new_offered": offered,
                                               "updated_at": utcnow()}) > 0

    async def clear(self, platform: str, user_id: str) -> bool:
        return await _CLEAR.run(self.session, _user(platform, user_id)) > 0


def _user(platform: str, user_id: str) -> dict[str, str]:
    return {"user_platform": platform, "user_id": user_id}
