"""A record's files sent again from the file store (never by the platform's id), so a secretary
on any platform, or a member who moved to another one, gets the photos and documents of a
problem or a meeting."""

from __future__ import annotations

from handlers.core.context import Context
from handlers.core.events import OutDocument, Reply
from storage.files.attachments import AttachmentRepository
from storage.files.errors import FileMissing
from storage.models import AttachmentOwner, DownloadStatus

MAX_SENT = 10  # files sent for one press; the archive has them all
MAX_SENT_BYTES = 60 * 1024 * 1024


async def count(ctx: Context, owner_kind: AttachmentOwner, owner_ids: list[int]) -> int:
    return len(await AttachmentRepository(ctx.session).files_of(owner_kind, owner_ids))


async def send_files(ctx: Context, owner_kind: AttachmentOwner, owner_ids: list[int],
                     stem: str) -> list[Reply]:
    """The kept files of these records as documents (named as sent, or ``<stem><n>.<ext>``),
    then a line for those not kept yet, given up, or beyond what one press sends."""
    files = await AttachmentRepository(ctx.session).files_of(owner_kind, owner_ids)
    if not files:
        return [Reply(ctx.t("file.none"))]
    replies: list[Reply] = []
    waiting = sum(f.status is DownloadStatus.pending for f in files)
    lost = sum(f.status is DownloadStatus.failed for f in files)
    kept = [f for f in files if f.status is DownloadStatus.stored and f.key]
    sent_bytes, left = 0, 0
    for n, file in enumerate(kept, start=1):
        if ctx.files is None or len(replies) >= MAX_SENT or sent_bytes + (file.size or 0) > MAX_SENT_BYTES:
            left += 1
            continue
        try:
            content = await ctx.files.store.read(file.key or "")
        except FileMissing:
            lost += 1
            continue
        sent_bytes += len(content)
        replies.append(Reply(document=OutDocument(file.file_name(f"{stem}{n}"), content)))
    notes = []
    if waiting:
        notes.append(ctx.t("file.still_fetching", count=waiting))
    if lost:
        notes.append(ctx.t("file.lost", count=lost))
    if left:
        notes.append(ctx.t("file.more_in_archive", count=left))
    if notes:
        replies.append(Reply("\n".join(notes)))
    return replies
