"""An insert that a unique constraint may refuse, without aborting the transaction: the same
``INSERT … ON CONFLICT DO NOTHING RETURNING id`` on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_new(session: AsyncSession, table: Table, **values: Any) -> int | None:
    """The id of the new row; None when a unique constraint already holds one like it."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    result = await session.execute(
        insert(table).values(**values).on_conflict_do_nothing().returning(table.c.id))
    return result.scalar()
