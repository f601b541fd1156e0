"""Downloads of the files members send, retried in the background until kept or given up.

At receipt the adapter records the platform's file id (``record``); a worker then claims what is
due (``claim_due``: each row to one claimer, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, SQLite's
single writer elsewhere), fetches it with the platform's own call given in (Telegram getFile,
WeCom media/get), keeps it in the file store and marks it stored, or marks the failure and when
to try again. A claim is a lease: a worker that dies mid-download leaves the row due again when
the lease runs out. Nothing is lost because a download failed once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.files.catalog import FileCatalog
from storage.files.errors import FileRefused
from storage.files.limits import FileLimits
from storage.files.names import sanitize_file_name
from storage.files.store import Content, FileStore, StoredFile
from storage.models import Attachment, AttachmentOwner, DownloadStatus, StoredFileRecord
from storage.types import utcnow

log = logging.getLogger(__name__)

_COLUMN_MAX = {"platform": 16, "platform_file_id": 256}
_ERROR_MAX_CHARS = 300


@dataclass(frozen=True)
class RetryPolicy:
    """Pauses double from ``first_delay`` up to ``max_delay``; after ``max_attempts`` the
    download is given up. The defaults try 16 times over about 40 hours, within the 3 days a
    WeCom media id lives."""

    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=6)
    max_attempts: int = 16
    lease: timedelta = timedelta(minutes=5)  # longest a claimed download may take

    def delay(self, attempts: int) -> timedelta:
        return min(self.max_delay, self.first_delay * 2 ** max(0, attempts - 1))


@dataclass(frozen=True)
class PendingDownload:
    """A file as the platform announced it, to be downloaded."""

    owner_kind: AttachmentOwner
    owner_id: int
    member_id: int  # the sender
    platform: str
    platform_file_id: str
    original_name: str | None
    received_at: datetime


@dataclass(frozen=True)
class ClaimedDownload:
    id: int
    platform: str
    platform_file_id: str
    original_name: str | None
    attempts: int  # this one included


class FetchFailed(Exception):
    """The platform did not give the file. ``permanent``: it never will (the id expired or is
    unknown), so trying again is pointless."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


Fetch = Callable[[ClaimedDownload], Awaitable[Content]]


@dataclass(frozen=True)
class DownloadOutcome:
    attachment_id: int
    status: DownloadStatus
    stored: StoredFile | None = None
    refused: FileRefused | None = None  # for telling the sender why the file was not kept
    error: str | None = None


class DownloadRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, pending: PendingDownload, stored_file_id: int | None = None) -> int:
        """A file as announced; ``stored_file_id`` when it was kept at receipt already."""
        for column, limit in _COLUMN_MAX.items():
            if len(getattr(pending, column)) > limit:
                raise ValueError(f"{column} longer than {limit} characters")
        attachment = Attachment(
            owner_kind=pending.owner_kind, owner_id=pending.owner_id, member_id=pending.member_id,
            platform=pending.platform, platform_file_id=pending.platform_file_id,
            original_name=sanitize_file_name(pending.original_name),
            received_at=pending.received_at, attempts=0, next_attempt_at=pending.received_at,
            status=DownloadStatus.pending if stored_file_id is None else DownloadStatus.stored,
            stored_file_id=stored_file_id,
            stored_at=None if stored_file_id is None else pending.received_at)
        self.session.add(attachment)
        await self.session.flush()
        return attachment.id

    async def claim_due(self, platform: str, now: datetime, lease: timedelta, limit: int = 20,
                        only_id: int | None = None) -> list[ClaimedDownload]:
        """Take up to ``limit`` due downloads of ``platform`` (or just ``only_id``, if due),
        counting an attempt and leasing them until ``now + lease``."""
        due = (Attachment.status == DownloadStatus.pending, Attachment.platform == platform,
               Attachment.next_attempt_at <= now)
        candidates = select(Attachment.id).where(*due)
        if only_id is not None:
            candidates = candidates.where(Attachment.id == only_id)
        # A materialized CTE is taken once. As an IN (subquery), PostgreSQL may scan it again
        # for each row and, skipping what it has just locked itself, claim past the limit.
        chosen = (candidates.order_by(Attachment.next_attempt_at, Attachment.id).limit(limit)
                  .with_for_update(skip_locked=True)
                  .cte("chosen_downloads").prefix_with("MATERIALIZED"))
        rows = await self.session.execute(
            update(Attachment).where(Attachment.id == chosen.c.id, *due)
            .values(next_attempt_at=now + lease, attempts=Attachment.attempts + 1)
            .returning(Attachment.id, Attachment.platform, Attachment.platform_file_id,
                       Attachment.original_name, Attachment.attempts)
            .execution_options(synchronize_session=False))
        return sorted((ClaimedDownload(*row) for row in rows), key=lambda claimed: claimed.id)

    async def mark_stored(self, attachment_id: int, stored_file_id: int, now: datetime) -> None:
        await self.session.execute(
            update(Attachment)
            .where(Attachment.id == attachment_id, Attachment.status == DownloadStatus.pending)
            .values(status=DownloadStatus.stored, stored_file_id=stored_file_id, stored_at=now,
                    last_error=None)
            .execution_options(synchronize_session=False))

    async def mark_failed(self, claimed: ClaimedDownload, error: str, now: datetime,
                          policy: RetryPolicy, *, permanent: bool = False) -> DownloadStatus:
        """Record the failure: due again after the policy's pause, or given up."""
        give_up = permanent or claimed.attempts >= policy.max_attempts
        status = DownloadStatus.failed if give_up else DownloadStatus.pending
        await self.session.execute(
            update(Attachment)
            .where(Attachment.id == claimed.id, Attachment.status == DownloadStatus.pending)
            .values(status=status, last_error=error[:_ERROR_MAX_CHARS],
                    next_attempt_at=now + policy.delay(claimed.attempts))
            .execution_options(synchronize_session=False))
        return status

    async def of_owner(self, owner_kind: AttachmentOwner, owner_id: int
                       ) -> list[tuple[Attachment, StoredFileRecord | None]]:
        """The files sent for one record, in the order they came, with what is kept of each."""
        return await self.of_owners(owner_kind, [owner_id])

    async def of_owners(self, owner_kind: AttachmentOwner, owner_ids: list[int]
                        ) -> list[tuple[Attachment, StoredFileRecord | None]]:
        """``of_owner`` for several records at once, record by record."""
        if not owner_ids:
            return []
        rows = await self.session.execute(
            select(Attachment, StoredFileRecord)
            .outerjoin(StoredFileRecord, StoredFileRecord.id == Attachment.stored_file_id)
            .where(Attachment.owner_kind == owner_kind, Attachment.owner_id.in_(owner_ids))
            .order_by(Attachment.owner_id, Attachment.received_at, Attachment.id))
        return [(attachment, stored) for attachment, stored in rows.tuples()]


class DownloadService:
    """Runs due downloads of one platform with that platform's ``fetch``."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], store: FileStore,
                 limits: FileLimits, policy: RetryPolicy = RetryPolicy(),
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions = sessions
        self.store = store
        self.limits = limits
        self.policy = policy
        self.clock = clock

    async def run_due(self, platform: str, fetch: Fetch, limit: int = 20) -> list[DownloadOutcome]:
        return [await self._attempt(claimed, fetch)
                for claimed in await self._claim(platform, limit, None)]

    async def download_now(self, platform: str, attachment_id: int, fetch: Fetch
                           ) -> DownloadOutcome | None:
        """Try one download at once (at receipt); None if it is not due (stored, failed, or
        another worker has it just now)."""
        claimed = await self._claim(platform, 1, attachment_id)
        return await self._attempt(claimed[0], fetch) if claimed else None

    async def _claim(self, platform: str, limit: int, only_id: int | None
                     ) -> list[ClaimedDownload]:
        async with self.sessions() as session, session.begin():
            return await DownloadRepository(session).claim_due(
                platform, self.clock(), self.policy.lease, limit, only_id)

    async def _attempt(self, claimed: ClaimedDownload, fetch: Fetch) -> DownloadOutcome:
        try:
            stored = await self.store.put(await fetch(claimed), limits=self.limits)
        except FileRefused as refused:
            return await self._failed(claimed, refused.code, permanent=True, refused=refused)
        except FetchFailed as failure:
            return await self._failed(claimed, str(failure), permanent=failure.permanent)
        except Exception as error:  # network, store, or a bug: recorded and tried again later
            log.warning("download %s (%s) failed", claimed.id, claimed.platform, exc_info=True)
            return await self._failed(claimed, f"{type(error).__name__}: {error}")
        async with self.sessions() as session, session.begin():
            file_id = await FileCatalog(session).add(stored)
            await DownloadRepository(session).mark_stored(claimed.id, file_id, self.clock())
        return DownloadOutcome(claimed.id, DownloadStatus.stored, stored=stored)

    async def _failed(self, claimed: ClaimedDownload, error: str, *, permanent: bool = False,
                      refused: FileRefused | None = None) -> DownloadOutcome:
        async with self.sessions() as session, session.begin():
            status = await DownloadRepository(session).mark_failed(
                claimed, error, self.clock(), self.policy, permanent=permanent)
        return DownloadOutcome(claimed.id, status, refused=refused, error=error)
