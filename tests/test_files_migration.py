"""Migration 0012 on SQLite and PostgreSQL: evidence files and meeting record photos recorded
before the bot kept files get a pending download each, which the background retry then fetches
(a WeCom media id long expired is given up, and the record says so)."""

from __future__ import annotations

import hashlib
from typing import Any

from alembic import command
from sqlalchemy import select, text

from bot.runtime.app import build_app
from handlers.core.file_source import FileGone
from storage.db import session_factory
from storage.files.store import key_for
from storage.migrate import alembic_config, upgrade
from storage.models import Attachment, AttachmentOwner, DownloadStatus
from tests import file_samples as samples
from tests.conftest import make_settings

ROWS = [
    "INSERT INTO organizations (id, name, kind, required_books, created_at) "
    "VALUES (1, '机关第一党支部', 'branch', '[]', CURRENT_TIMESTAMP)",
    "INSERT INTO members (id, org_id, name, role, active, created_at) "
    "VALUES (1, 1, '王书记', 'secretary', true, CURRENT_TIMESTAMP)",
    "INSERT INTO identities (member_id, platform, platform_user_id, created_at) "
    "VALUES (1, 'wecom', 'wangshuji', CURRENT_TIMESTAMP)",
    "INSERT INTO meetings (id, org_id, kind, day, created_by_id, created_at, updated_at, "
    "record_file_id) VALUES (1, 1, '支委会', '2026-11-02', 1, CURRENT_TIMESTAMP, "
    "CURRENT_TIMESTAMP, 'old-media')",
    "INSERT INTO meetings (id, org_id, kind, day, created_by_id, created_at, updated_at) "
    "VALUES (2, 1, '支委会', '2026-11-09', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "INSERT INTO problems (id, reporter_id, org_id, description, source, kind, owner_name, "
    "deadline, measures, status, created_at, updated_at) VALUES (1, 1, 1, '停车难', '走访', "
    "'本单位', '王书记', '2026-12-31', '协调', 'rectifying', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    "INSERT INTO problem_events (id, problem_id, actor_id, action, at) "
    "VALUES (1, 1, 1, 'update', CURRENT_TIMESTAMP)",
    "INSERT INTO problem_evidence (id, problem_id, event_id, platform, file_id, file_name, "
    "uploaded_by_id, at) VALUES (1, 1, 1, 'telegram', 'tg-photo', '现场.jpg', 1, CURRENT_TIMESTAMP)",
]


class Platform:
    def __init__(self, platform: str, files: dict[str, bytes]) -> None:
        self.platform, self.files = platform, files

    async def fetch(self, file_id: str) -> bytes:
        if file_id not in self.files:
            raise FileGone("40007 invalid media_id")
        return self.files[file_id]


async def test_earlier_files_are_fetched_after_the_upgrade(empty_db_url: str) -> None:
    app = build_app(make_settings(empty_db_url))
    try:
        async with app.engine.begin() as connection:
            def to_0009(sync: Any) -> None:
                config = alembic_config(empty_db_url)
                config.attributes["connection"] = sync
                command.upgrade(config, "0009")
            await connection.run_sync(to_0009)
            for row in ROWS:
                await connection.execute(text(row))
        await upgrade(app.engine)
        await upgrade(app.engine)  # once only
        sessions = session_factory(app.engine)
        async with sessions() as session:
            rows = list(await session.scalars(select(Attachment).order_by(Attachment.id)))
        assert [(a.owner_kind, a.owner_id, a.platform, a.platform_file_id, a.original_name,
                 a.status) for a in rows] == [
            (AttachmentOwner.problem_evidence, 1, "telegram", "tg-photo", "现场.jpg",
             DownloadStatus.pending),
            (AttachmentOwner.meeting_record, 1, "wecom", "old-media", None,
             DownloadStatus.pending)]

        photo = samples.png(3)
        app.files.register(Platform("telegram", {"tg-photo": photo}))
        app.files.register(Platform("wecom", {}))  # three days are long past
        outcomes = await app.files.retry_due()
        assert sorted((o.attachment_id, o.status) for o in outcomes) == [
            (rows[0].id, DownloadStatus.stored), (rows[1].id, DownloadStatus.failed)]
        async with sessions() as session:
            after = list(await session.scalars(select(Attachment).order_by(Attachment.id)))
        assert after[1].last_error == "40007 invalid media_id"
        assert await app.files.store.read(key_for(hashlib.sha256(photo).hexdigest())) == photo
    finally:
        await app.close()
