"""PostgreSQL advisory locks by name: one member's updates one at a time across processes.

Keys are 64-bit hashes of a name. A member's lock is a transaction lock on the one-bigint key
space; ``bot.runtime.leadership`` uses the two-int key space (PostgreSQL keeps the two apart), so
a member's name can never collide with a leader's. On SQLite there is one process and one
connection (``storage.db``), so there is nothing to lock across.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

_MEMBER = text("SELECT pg_advisory_xact_lock(:key)").bindparams(bindparam("key"))


def name_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (the same in every process)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big",
                          signed=True)


def is_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def lock_member(session: AsyncSession, platform: str, user_id: str) -> None:
    """Wait for, then hold until the transaction ends, the lock of this platform user: their
    updates are handled one at a time, whichever process took them."""
    if is_postgresql(session):
        await session.execute(_MEMBER, {"key": name_key(f"member:{platform}:{user_id}")})
