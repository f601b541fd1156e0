"""The ``stored_files`` rows: one per content kept in the file store."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.files.store import StoredFile
from storage.models import StoredFileRecord


class FileCatalog:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, stored: StoredFile) -> int:
        """The row of ``stored``'s content: made now, or the one already there (same sha256),
        also when another worker makes it at the same moment."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        await self.session.execute(
            insert(StoredFileRecord).values(sha256=stored.sha256, size=stored.size, mime=stored.mime,
                                 store_key=stored.key)
            .on_conflict_do_nothing(index_elements=["sha256"]))
        file_id = await self.session.scalar(
            select(StoredFileRecord.id).where(StoredFileRecord.sha256 == stored.sha256))
        assert file_id is not None  # inserted or already there, in this transaction
        return file_id

    async def get(self, file_id: int) -> StoredFileRecord | None:
        return await self.session.get(StoredFileRecord, file_id)
