"""The files of a record: recorded as it is saved, read back for sending and the archive."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.files.downloads import DownloadRepository, PendingDownload
from storage.files.limits import extension_for
from storage.models import Attachment, AttachmentOwner, DownloadStatus, StoredFileRecord
from storage.types import utcnow


@dataclass(frozen=True)
class KeptFile:
    """A file of a record as the core shows it: its name, its state, and where it is kept."""

    attachment_id: int
    owner_id: int
    name: str | None  # as sent (sanitized), None when the platform gave none (a photo)
    status: DownloadStatus
    sha256: str | None
    size: int | None
    mime: str | None
    key: str | None
    received_at: datetime
    member_id: int

    def file_name(self, fallback_stem: str) -> str:
        """A name for the file whose extension matches its content (a photo: ``<stem>.jpg``);
        one not kept yet keeps the name it was sent with."""
        name = self.name or fallback_stem
        if self.mime is None:
            return name
        extension = extension_for(self.mime)
        _, dot, current = name.rpartition(".")
        if dot and current.lower() in (extension, "jpeg" if extension == "jpg" else extension):
            return name
        return f"{name}.{extension}"


class AttachmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.downloads = DownloadRepository(session)

    async def attach(self, owner_kind: AttachmentOwner, owner_id: int, member_id: int,
                     platform: str, files: Iterable[dict[str, Any]]) -> list[int]:
        """Record the files of a record being saved: the dialog's entries (``file_id``, ``name``,
        ``platform``, ``at`` of receipt, ``stored`` when kept at receipt). Entries recorded
        before (``attachment``: a record edited) are left as they are."""
        ids = []
        for file in files:
            if file.get("attachment"):
                continue
            at = datetime.fromisoformat(file["at"]) if file.get("at") else utcnow()
            ids.append(await self.downloads.record(PendingDownload(
                owner_kind=owner_kind, owner_id=owner_id, member_id=member_id,
                platform=str(file.get("platform") or platform),
                platform_file_id=str(file["file_id"]), original_name=file.get("name"),
                received_at=at), stored_file_id=file.get("stored")))
        return ids

    async def keep_only(self, owner_kind: AttachmentOwner, owner_id: int,
                        attachment_ids: Iterable[int]) -> None:
        """Forget the files of a record its editor took out (the content stays in the store)."""
        await self.session.execute(delete(Attachment).where(
            Attachment.owner_kind == owner_kind, Attachment.owner_id == owner_id,
            Attachment.id.not_in(list(attachment_ids))).execution_options(
                synchronize_session=False))

    async def files_of(self, owner_kind: AttachmentOwner,
                       owner_ids: Iterable[int]) -> list[KeptFile]:
        """The files of these records, record by record, in the order they came."""
        rows = await self.downloads.of_owners(owner_kind, list(owner_ids))
        return [kept_file(attachment, stored) for attachment, stored in rows]


def kept_file(attachment: Attachment, stored: StoredFileRecord | None) -> KeptFile:
    return KeptFile(attachment.id, attachment.owner_id, attachment.original_name,
                    attachment.status, stored.sha256 if stored else None,
                    stored.size if stored else None, stored.mime if stored else None,
                    stored.store_key if stored else None, attachment.received_at,
                    attachment.member_id)
