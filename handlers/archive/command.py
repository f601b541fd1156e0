"""/archive for the office: the 资料归档 of every branch (or one: ``/archive 支部名``) over the
campaign so far, made after the reply with a progress message edited branch by branch, then
sent as a file, or — larger than the platform takes — as a download link where the file store
can give one (S3), else with where it lies on the server."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from handlers.archive.builder import ArchiveRequest, ArchiveResult, build_archive
from handlers.core.context import Context
from handlers.core.events import OutDocument, Reply
from handlers.core.file_intake import FileIntake
from handlers.core.parsing import normalize
from handlers.reports.periods import campaign, campaign_span
from storage.db import Sessions
from storage.files.limits import NO_LIMITS
from storage.models import OrgKind
from storage.repositories.orgs import OrgRepository

DEFAULT_SEND_BYTES = 20 * 1024 * 1024  # a platform that does not say what it takes
LINK_SECONDS = 7 * 24 * 3600
FILE_NAME = "主题教育资料归档.zip"


async def archive_command(ctx: Context, args: str) -> list[Reply]:
    files = ctx.files
    if files is None:
        return [Reply(ctx.t("archive.no_store"))]
    name = normalize(args).strip()
    branch_ids = None
    if name:
        org = await OrgRepository(ctx.session).by_name(name)
        if org is None or org.kind is not OrgKind.branch:
            return [Reply(ctx.t("archive.no_branch", name=name))]
        branch_ids = (org.id,)
    period = campaign(await campaign_span(ctx.session), ctx.today)
    limit = files.send_limit(ctx.event.platform) or DEFAULT_SEND_BYTES
    heading = ctx.t("archive.generating", period=period.shown(ctx.t))

    def job(sessions: Sessions) -> AsyncIterator[Reply]:
        return _progress(sessions, files, heading, limit, period, ctx, branch_ids)

    ctx.followup = job
    return [Reply(heading)]


async def _progress(sessions: Sessions, files: FileIntake, heading: str, limit: int,
                    period: object, ctx: Context, branch_ids: tuple[int, ...] | None
                    ) -> AsyncIterator[Reply]:
    t = ctx.t
    with tempfile.TemporaryDirectory(prefix="archive-") as folder:
        request = ArchiveRequest(Path(folder) / FILE_NAME, period,  # type: ignore[arg-type]
                                 ctx.config.tz, t, branch_ids)
        result: ArchiveResult | None = None
        async for step in build_archive(sessions, files.store, request):
            if isinstance(step, ArchiveResult):
                result = step
                continue
            line = t("archive.progress", done=step.done, total=step.total, branch=step.branch)
            yield Reply(f"{heading}\n{line}", edit=True, progress=line)
        assert result is not None
        done = t("archive.done", branches=result.branches, records=result.records,
                 files=result.files, mb=f"{result.size / 1024 / 1024:.1f}")
        yield Reply(f"{heading}\n{done}", edit=True, progress=done)
        if result.size <= limit:
            yield Reply(done, document=OutDocument(FILE_NAME, result.path.read_bytes()))
            return
        kept = await files.store.put(_chunks(result.path), limits=NO_LIMITS)
        link = await files.store.link(kept.key, FILE_NAME, LINK_SECONDS)
        if link is not None:
            yield Reply(t("archive.too_large_link", mb=f"{result.size / 1024 / 1024:.1f}",
                          link=link, days=LINK_SECONDS // 86400))
        else:
            yield Reply(t("archive.too_large_local", mb=f"{result.size / 1024 / 1024:.1f}",
                          where=kept.key))


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(1024 * 1024):
            yield chunk
