"""Dialog state: one row per platform user, replaced at every step."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DialogState


def new_nonce() -> str:
    return secrets.token_hex(3)


class DialogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, platform: str, user_id: str) -> DialogState | None:
        return await self.session.scalar(
            select(DialogState).where(
                DialogState.platform == platform, DialogState.platform_user_id == user_id
            )
        )

    async def put(
        self,
        platform: str,
        user_id: str,
        *,
        dialog: str,
        step: str,
        data: dict[str, Any],
        expires_at: datetime,
        existing: DialogState | None = None,
    ) -> DialogState:
        """Set the user's state to ``step`` of ``dialog`` with a fresh nonce (old buttons go stale)."""
        state = existing or await self.get(platform, user_id)
        if state is None:
            state = DialogState(platform=platform, platform_user_id=user_id)
            self.session.add(state)
        state.dialog, state.step, state.data = dialog, step, dict(data)
        state.nonce, state.expires_at = new_nonce(), expires_at
        await self.session.flush()
        return state

    async def claim(self, state: DialogState) -> bool:
        """Delete ``state`` if nobody changed it since it was read; False if someone did.

        Finishing a dialog claims its state first, so a doubled 确认 (two presses, two workers)
        saves one record, not two.
        """
        result = await self.session.execute(
            delete(DialogState)
            .where(DialogState.id == state.id, DialogState.nonce == state.nonce)
            .execution_options(synchronize_session=False)
        )
        claimed = result.rowcount == 1  # type: ignore[attr-defined]
        if claimed:
            self.session.expunge(state)
        return claimed

    async def clear(self, platform: str, user_id: str) -> bool:
        result = await self.session.execute(
            delete(DialogState).where(
                DialogState.platform == platform, DialogState.platform_user_id == user_id
            )
        )
        return result.rowcount > 0  # type: ignore[attr-defined]
