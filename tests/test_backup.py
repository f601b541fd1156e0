"""Backup and restore on SQLite and PostgreSQL, with the local store and the S3 store: restored
into a fresh database and a fresh store, every table and every file comes back identical; a
damaged or foreign backup and a database in use are refused before anything is written."""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import AsyncIterator
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from bot.cli.files import refusal
from bot.runtime.app import App
from handlers.core.i18n import DEFAULT_TEXTS
from storage.backup import BackupError, Refused, backup, read_manifest, restore
from storage.db import create_engine, session_factory
from storage.files.downloads import (
    ClaimedDownload,
    DownloadRepository,
    DownloadService,
    PendingDownload,
)
from storage.files.limits import FileLimits
from storage.files.local import LocalStore
from storage.files.store import FileStore
from storage.migrate import head_revision, is_up_to_date
from storage.models import (
    AttachmentOwner,
    AuditLog,
    Meeting,
    Organization,
    OrgKind,
    OutboxMessage,
    Problem,
    ProblemEvidence,
    StoredFileRecord,
    StudyRecord,
)
from tests import file_samples as samples
from tests.conftest import Branch
from tests.databases import PostgresFactory
from tests.s3_support import object_keys, s3_endpoint, s3_store  # noqa: F401  (a fixture)

AT = datetime(2026, 11, 20, 8, 30, tzinfo=timezone.utc)


@pytest.fixture
async def fresh_url(db_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """A new, empty database of the same kind as ``db_url``."""
    if make_url(db_url).get_backend_name() == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
        return
    factory = PostgresFactory()
    yield await factory.new(migrated=False)
    await factory.close()


@pytest.fixture(params=["local", "s3"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def new_store(kind: str, request: pytest.FixtureRequest, folder: Path) -> FileStore:
    if kind == "local":
        return LocalStore(folder)
    return await s3_store(request.getfixturevalue("s3_endpoint"))


async def populate(app: App, branch: Branch, store: FileStore) -> list[bytes]:
    """Records of several kinds, and files kept through the download service."""
    sessions = session_factory(app.engine)
    async with sessions() as session, session.begin():
        member = branch.secretary.id
        session.add(StudyRecord(member_id=member, org_id=branch.org.id, form="自学",
                                study_date=date(2026, 11, 19), minutes=90, content="《习近平著作选读》",
                                reflection="心得：学以致用"))
        problem = Problem(reporter_id=member, org_id=branch.org.id, description="台账不全",
                          source="自查", kind="作风", owner_name="王书记", deadline=date(2026, 12, 31),
                          measures="补齐台账")
        meeting = Meeting(org_id=branch.org.id, kind="支部党员大会", day=date(2026, 11, 18),
                          starts="14:30", ends="16:30", topic="主题教育动员", created_by_id=member)
        session.add_all([problem, meeting])
        await session.flush()
        evidence = ProblemEvidence(problem_id=problem.id, platform="telegram", file_id="tg-1",
                                   file_name="整改照片.jpg", uploaded_by_id=member, at=AT)
        session.add(evidence)
        session.add(OutboxMessage(key="shuxue:1:2026-11-23", kind="shuxue", platform="telegram",
                                  chat_id="-100", payload={"text": "述学提醒", "buttons": [["开始"]]}))
        session.add(AuditLog(actor_id=member, action="edit", entity="study", entity_id=1,
                             before={"minutes": 60}, after={"minutes": 90}))
        await session.flush()
        contents = [samples.png(1), samples.word_document(), samples.PDF, samples.png(1)]
        repository = DownloadRepository(session)
        for number, _ in enumerate(contents):
            owner = ((AttachmentOwner.problem_evidence, evidence.id) if number % 2 == 0
                     else (AttachmentOwner.meeting_record, meeting.id))
            await repository.record(PendingDownload(
                owner_kind=owner[0], owner_id=owner[1], member_id=member, platform="telegram",
                platform_file_id=f"tg-{number}", original_name=f"附件{number}.jpg", received_at=AT))

    async def fetch(claimed: ClaimedDownload) -> bytes:
        return contents[int(claimed.platform_file_id.removeprefix("tg-"))]

    downloads = DownloadService(sessions, store, FileLimits.default(), clock=lambda: AT)
    assert len(await downloads.run_due("telegram", fetch)) == len(contents)
    return contents


async def tables_of(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (the Alembic version included), in a stable order."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
            return {name: sorted((tuple(row) for row in await connection.execute(
                        text(f'SELECT * FROM "{name}"'))), key=repr)
                    for name in sorted(names)}
    finally:
        await engine.dispose()


async def files_of(store: FileStore, keys: list[str]) -> dict[str, bytes]:
    return {key: await store.read(key) for key in keys}


async def stored_keys(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            return sorted(await session.scalars(select(StoredFileRecord.store_key)))
    finally:
        await engine.dispose()


async def test_backup_then_restore_gives_every_table_and_file_back(
        request: pytest.FixtureRequest, db_url: str, fresh_url: str, app: App, branch: Branch,
        store_kind: str, tmp_path: Path) -> None:
    store = await new_store(store_kind, request, tmp_path / "store")
    target = await new_store(store_kind, request, tmp_path / "restored-store")
    try:
        contents = await populate(app, branch, store)
        keys = await stored_keys(db_url)
        assert len(keys) == 3  # the same photo twice is kept once

        manifest = await backup(db_url, store, tmp_path / "backup")
        assert manifest.missing == [] and manifest.revision == head_revision()
        assert sorted(entry.key for entry in manifest.files) == keys
        for entry in manifest.files:  # the backup's own copies, checked against the manifest
            copy = (tmp_path / "backup" / entry.path).read_bytes()
            assert hashlib.sha256(copy).hexdigest() == entry.sha256 == entry.key.rsplit("/")[-1]
        database = tmp_path / "backup" / manifest.database.path
        assert hashlib.sha256(database.read_bytes()).hexdigest() == manifest.database.sha256
        assert read_manifest(tmp_path / "backup") == manifest

        restored = await restore(tmp_path / "backup", fresh_url, target)
        assert restored == manifest
        source_tables, restored_tables = await tables_of(db_url), await tables_of(fresh_url)
        assert set(source_tables) >= {"attachments", "stored_files", "problems", "alembic_version"}
        assert restored_tables == source_tables
        assert [len(restored_tables[name]) for name in ("attachments", "stored_files", "problems",
                                                        "outbox", "daily_tallies")] == [4, 3, 1, 1, 1]
        assert await files_of(target, keys) == await files_of(store, keys)
        assert set((await files_of(target, keys)).values()) == set(contents)
        if isinstance(target, LocalStore):
            assert sorted(p.relative_to(target.root).as_posix()
                          for p in target.root.rglob("*") if p.is_file()) == keys
        else:
            assert await object_keys(target) == keys  # type: ignore[arg-type]

        engine = create_engine(fresh_url)  # the restored database works and carries on
        try:
            assert await is_up_to_date(engine)
            async with session_factory(engine)() as session, session.begin():
                added = Organization(name="机关第三党支部", kind=OrgKind.branch)
                session.add(added)
                await session.flush()
                highest = max(row[0] for row in source_tables["organizations"])
                assert added.id == highest + 1
        finally:
            await engine.dispose()
    finally:
        await store.close()
        await target.close()


async def test_restore_only_into_a_fresh_database(db_url: str, app: App, branch: Branch,
                                                  tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    await populate(app, branch, store)
    await backup(db_url, store, tmp_path / "backup")
    before = await tables_of(db_url)
    with pytest.raises(BackupError, match="fresh database"):
        await restore(tmp_path / "backup", db_url, LocalStore(tmp_path / "other"))
    assert await tables_of(db_url) == before
    with pytest.raises(BackupError, match="not empty"):
        await backup(db_url, store, tmp_path / "backup")
    with pytest.raises(BackupError, match="manifest.json"):
        await restore(tmp_path / "store", db_url, store)
    foreign = ("postgresql+asyncpg://postgres@127.0.0.1:5432/nothing"
               if db_url.startswith("sqlite") else f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(BackupError, match="backup is of a"):
        await restore(tmp_path / "backup", foreign, store)


@pytest.mark.parametrize("damage", ["file", "database", "manifest path", "manifest key"])
async def test_a_damaged_backup_is_refused_before_anything_is_written(
        db_url: str, fresh_url: str, app: App, branch: Branch, tmp_path: Path,
        damage: str) -> None:
    store = LocalStore(tmp_path / "store")
    await populate(app, branch, store)
    folder = tmp_path / "backup"
    manifest = await backup(db_url, store, folder)
    if damage in ("file", "database"):
        entry = manifest.files[0] if damage == "file" else manifest.database
        path = folder / entry.path
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    else:
        raw = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if damage == "manifest path":
            raw["files"][0]["path"] = "../../outside"
        else:
            raw["files"][0]["key"] = "../../outside"
        (folder / "manifest.json").write_text(json.dumps(raw), encoding="utf-8")
    target = LocalStore(tmp_path / "restored-store")
    with pytest.raises(BackupError):
        await restore(folder, fresh_url, target)
    assert not target.root.exists()
    if fresh_url.startswith("sqlite"):
        assert not Path(make_url(fresh_url).database or "").exists()
    else:
        assert await tables_of(fresh_url) == {}


async def test_a_file_the_store_lost_is_named_and_the_rest_kept(
        db_url: str, fresh_url: str, app: App, branch: Branch, tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    await populate(app, branch, store)
    keys = await stored_keys(db_url)
    await store.delete(keys[0])
    damaged = store.path_of(keys[1])
    damaged.write_bytes(damaged.read_bytes() + b"!")
    manifest = await backup(db_url, store, tmp_path / "backup")
    assert sorted(manifest.missing) == keys[:2]  # absent, damaged
    assert [entry.key for entry in manifest.files] == keys[2:]
    target = LocalStore(tmp_path / "restored-store")
    await restore(tmp_path / "backup", fresh_url, target)
    assert [await target.exists(key) for key in keys] == [False, False, True]
    assert await tables_of(fresh_url) == await tables_of(db_url)


def test_the_pg_tools_get_the_password_in_their_environment_only() -> None:
    from storage.backup import _libpq_environment

    environment = _libpq_environment(make_url(
        "postgresql+asyncpg://bot:s%40cret@db.internal:6543/branchbot?ssl=require"))
    assert {key: environment[key] for key in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD",
                                               "PGDATABASE", "PGSSLMODE")} == {
        "PGHOST": "db.internal", "PGPORT": "6543", "PGUSER": "bot", "PGPASSWORD": "s@cret",
        "PGDATABASE": "branchbot", "PGSSLMODE": "require"}


def test_every_refusal_is_told_in_chinese_with_what_it_names() -> None:
    for refused in Refused:
        named = {field for _, field, _, _ in string.Formatter().parse(refused.value) if field}
        told = refusal(DEFAULT_TEXTS, BackupError(refused, **{field: f"《{field}》" for field in named}))
        assert re.search("[\u4e00-\u9fff]", told) and not re.search("[a-z]{4,} [a-z]{3,}", told), told
        assert all(f"《{field}》" in told for field in named), (refused, told)
