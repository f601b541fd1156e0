"""The file store: local folder and S3 (a real S3-compatible server on loopback), the type of a
file from its content, the limits, file names, and the background download retry with its
claims and backoff, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import unicodedata
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.runtime.app import App
from handlers.core.i18n import DEFAULT_TEXTS as t  # TODO(#14 integration): the reader's translator
from storage.db import create_engine, session_factory
from storage.files.detect import detect_type
from storage.files.downloads import (
    ClaimedDownload,
    DownloadRepository,
    DownloadService,
    FetchFailed,
    PendingDownload,
    RetryPolicy,
)
from storage.files.errors import (
    FileEmpty,
    FileMissing,
    FileRefused,
    FileTooLarge,
    FileTypeNotAllowed,
)
from storage.files.limits import MEGABYTE, FileLimits
from storage.files.local import LocalStore
from storage.files.names import FILE_NAME_MAX_CHARS, sanitize_file_name
from storage.files.s3 import S3Store
from storage.files.settings import FileSettings, build_store
from storage.files.store import FileStore
from storage.models import Attachment, AttachmentOwner, Base, DownloadStatus, StoredFileRecord
from tests import file_samples as samples
from tests.conftest import Branch
from tests.s3_support import object_keys, s3_endpoint, s3_store  # noqa: F401  (a fixture)

LIMITS = FileLimits.default(20)
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["local", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[FileStore]:
    """Each test of a store runs on both: a local folder and a bucket of the S3 server."""
    if request.param == "local":
        yield LocalStore(tmp_path / "files")
        return
    remote = await s3_store(request.getfixturevalue("s3_endpoint"))
    yield remote
    await remote.close()


async def kept_keys(store: FileStore) -> list[str]:
    """Every object in the store, found by looking at the folder or the bucket itself."""
    if isinstance(store, S3Store):
        return await object_keys(store)
    assert isinstance(store, LocalStore)
    if not store.root.exists():
        return []
    return sorted(p.relative_to(store.root).as_posix() for p in store.root.rglob("*")
                  if p.is_file() and ".spool" not in p.parts)


def spool_leftovers(store: FileStore) -> list[Path]:
    spool = store.root / ".spool" if isinstance(store, LocalStore) else None
    return list(spool.iterdir()) if spool is not None and spool.exists() else []


async def chunks_of(data: bytes, size: int, read: list[int] | None = None) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        if read is not None:
            read.append(start)
        yield data[start:start + size]


# --- the stores -------------------------------------------------------------------------------

async def test_a_file_is_kept_under_its_sha256_and_read_back(store: FileStore) -> None:
    content = samples.png(1)
    stored = await store.put(content, limits=LIMITS)
    sha = hashlib.sha256(content).hexdigest()
    assert (stored.sha256, stored.size, stored.mime, stored.extension, stored.new) == (
        sha, len(content), "image/png", "png", True)
    assert stored.key == f"{sha[:2]}/{sha[2:4]}/{sha}"
    assert await store.exists(stored.key)
    assert await store.read(stored.key) == content
    assert await kept_keys(store) == [stored.key]
    if isinstance(store, LocalStore):  # a real file, there to open
        assert (store.root / stored.key).read_bytes() == content


async def test_identical_content_is_kept_once(store: FileStore) -> None:
    content = samples.word_document()
    first = await store.put(content, limits=LIMITS)
    again = await store.put(chunks_of(content, 1000), limits=LIMITS)
    other = await store.put(samples.png(2), limits=LIMITS)
    assert first.new and not again.new and other.new
    assert again.key == first.key and again.mime == first.mime
    assert await kept_keys(store) == sorted([first.key, other.key])


async def test_a_stream_in_small_chunks_is_kept_whole(store: FileStore) -> None:
    content = samples.image("BMP", size=(700, 700))  # about 1.4 MB, over several S3 reads
    stored = await store.put(chunks_of(content, 7001), limits=LIMITS)
    assert stored.size == len(content) > MEGABYTE and stored.mime == "image/bmp"
    assert [len(c) for c in [chunk async for chunk in store.open(stored.key)]][0] <= MEGABYTE
    assert await store.read(stored.key) == content


async def test_too_large_is_refused_without_reading_the_rest(store: FileStore) -> None:
    limits = FileLimits.default(max_mb=1)
    content = samples.image("BMP", size=(1000, 1000))  # 3 MB
    read: list[int] = []
    with pytest.raises(FileTooLarge) as refused:
        await store.put(chunks_of(content, 64 * 1024, read), limits=limits)
    assert refused.value.limit == MEGABYTE and refused.value.size == MEGABYTE + 64 * 1024
    assert len(read) == MEGABYTE // (64 * 1024) + 1  # stopped at the chunk that passed the limit
    assert await kept_keys(store) == [] and spool_leftovers(store) == []


async def test_exactly_the_limit_is_kept(store: FileStore) -> None:
    content = samples.PDF.ljust(MEGABYTE, b" ")
    stored = await store.put(content, limits=FileLimits.default(max_mb=1))
    assert stored.size == MEGABYTE and stored.mime == "application/pdf"


@pytest.mark.parametrize("content, mime", [
    (samples.zip_of({"a.txt": b"hello"}), "application/zip"),
    (samples.WINDOWS_PROGRAM, "application/x-msdownload"),
    (samples.ELF_PROGRAM, "application/x-executable"),
    (bytes(range(256)) * 4, None),
    (samples.compound_file("Something Else"), None),
])
async def test_types_outside_the_allowlist_are_refused(store: FileStore, content: bytes,
                                                       mime: str | None) -> None:
    with pytest.raises(FileTypeNotAllowed) as refused:
        await store.put(content, limits=LIMITS)
    assert refused.value.mime == mime
    assert await kept_keys(store) == [] and spool_leftovers(store) == []


async def test_empty_is_refused(store: FileStore) -> None:
    with pytest.raises(FileEmpty):
        await store.put(b"", limits=LIMITS)
    with pytest.raises(FileEmpty):
        await store.put(chunks_of(b"", 10), limits=LIMITS)
    assert await kept_keys(store) == []


async def test_a_source_that_breaks_midway_leaves_nothing(store: FileStore) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield samples.png(3)[:20]
        raise ConnectionResetError("peer went away")

    with pytest.raises(ConnectionResetError):
        await store.put(broken(), limits=LIMITS)
    assert await kept_keys(store) == [] and spool_leftovers(store) == []


async def test_missing_keys_and_keys_that_are_not_addresses(store: FileStore) -> None:
    absent = "ab/cd/abcd" + "0" * 60
    assert not await store.exists(absent)
    with pytest.raises(FileMissing):
        await store.read(absent)
    for bad in ("../../etc/passwd", "ab/cd/" + "0" * 64, "AB/CD/ABCD" + "0" * 60, absent + "/x"):
        with pytest.raises(ValueError):
            await store.exists(bad)
    stored = await store.put(samples.png(4), limits=LIMITS)
    await store.delete(stored.key)
    assert not await store.exists(stored.key) and await kept_keys(store) == []


async def test_s3_store_on_a_bucket_that_does_not_exist(s3_endpoint: str) -> None:  # noqa: F811
    store = S3Store(endpoint=s3_endpoint, bucket="no-such-bucket-here", region="us-east-1",
                    access_key="k", secret="s")
    try:
        with pytest.raises(Exception) as error:
            await store.put(samples.png(5), limits=LIMITS)
        assert not isinstance(error.value, FileRefused)  # a store fault, not the member's file
    finally:
        await store.close()


# --- type from content ------------------------------------------------------------------------

@pytest.mark.parametrize("content, mime", [
    (samples.image("JPEG"), "image/jpeg"),
    (samples.png(), "image/png"),
    (samples.image("GIF"), "image/gif"),
    (samples.image("WEBP"), "image/webp"),
    (samples.image("TIFF"), "image/tiff"),
    (samples.HEIC, "image/heic"),
    (samples.PDF, "application/pdf"),
    (samples.word_document(),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (samples.workbook(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (samples.presentation(),
     "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    (samples.open_document_text(), "application/vnd.oasis.opendocument.text"),
    (samples.ofd(), "application/ofd"),
    (samples.compound_file("WordDocument"), "application/msword"),
    (samples.compound_file("Workbook"), "application/vnd.ms-excel"),
    (samples.compound_file("PowerPoint Document"), "application/vnd.ms-powerpoint"),
    ("整改情况：已完成。\n".encode(), "text/plain"),
    ("整改情况：已完成。\r\n".encode("gbk"), "text/plain"),
    ("整改情况".encode("utf-16"), "text/plain"),
    ("\ufeff序号,姓名\n1,李娜\n".encode(), "text/plain"),
    (b"plain \x1b[31m escape", None),
    (b"\x00\x01\x02 binary", None),
])
def test_type_comes_from_the_content(tmp_path: Path, content: bytes, mime: str | None) -> None:
    path = tmp_path / "upload.pdf"  # the name says PDF: it plays no part
    path.write_bytes(content)
    assert detect_type(path) == mime


async def test_a_png_named_pdf_is_kept_as_a_png(tmp_path: Path) -> None:
    stored = await LocalStore(tmp_path).put(samples.png(6), limits=LIMITS)
    assert stored.mime == "image/png" and stored.extension == "png"


# --- settings, names, texts -------------------------------------------------------------------

def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BRANCHBOT_FILES_DIR", str(tmp_path / "kept"))
    monkeypatch.setenv("BRANCHBOT_FILES_MAX_MB", "5")
    settings = FileSettings(_env_file=None)  # type: ignore[call-arg]
    assert settings.limits.max_bytes == 5 * MEGABYTE
    store = build_store(settings)
    assert isinstance(store, LocalStore) and store.root == tmp_path / "kept"
    assert FileSettings(_env_file=None).store == "local"  # type: ignore[call-arg]

    monkeypatch.setenv("BRANCHBOT_FILES_STORE", "s3")
    with pytest.raises(ValidationError, match="BRANCHBOT_FILES_S3_BUCKET"):
        FileSettings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("BRANCHBOT_FILES_S3_BUCKET", "branchbot-files")
    monkeypatch.setenv("BRANCHBOT_FILES_S3_ACCESS_KEY", "key")
    monkeypatch.setenv("BRANCHBOT_FILES_S3_SECRET", "s3cr3t-value")
    monkeypatch.setenv("BRANCHBOT_FILES_S3_ENDPOINT", "http://127.0.0.1:9000")
    s3_settings = FileSettings(_env_file=None)  # type: ignore[call-arg]
    assert "s3cr3t-value" not in repr(s3_settings)
    s3_store = build_store(s3_settings)
    assert isinstance(s3_store, S3Store) and s3_store.bucket == "branchbot-files"
    monkeypatch.setenv("BRANCHBOT_FILES_MAX_MB", "0")
    with pytest.raises(ValidationError):
        FileSettings(_env_file=None)  # type: ignore[call-arg]


@pytest.mark.parametrize("name, clean", [
    ("整改照片.jpg", "整改照片.jpg"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\李娜\\Desktop\\会议记录.docx", "会议记录.docx"),
    ("a\x00b\tc\n.pdf", "ab c.pdf"),
    ("\u202egpj.exe", "gpj.exe"),
    ("  .bashrc", "bashrc"),
    ("报告<1>:终稿?.docx", "报告_1__终稿_.docx"),
    ("CON.txt", "_CON.txt"),
    ("文件.", "文件"),
    ("...", None),
    ("\x00\x01", None),
    ("", None),
    (None, None),
])
def test_file_names_are_sanitized(name: str | None, clean: str | None) -> None:
    assert sanitize_file_name(name) == clean


def test_long_names_keep_their_extension() -> None:
    clean = sanitize_file_name("问题整改" * 100 + ".xlsx")
    assert clean is not None and len(clean) == FILE_NAME_MAX_CHARS and clean.endswith(".xlsx")


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_any_name_comes_out_safe(name: str) -> None:
    clean = sanitize_file_name(name)
    if clean is None:
        return
    assert 0 < len(clean) <= FILE_NAME_MAX_CHARS
    assert not set(clean) & set('/\\<>:"|?*') and not clean.startswith(".")
    # no control, formatting, surrogate or private character, no whitespace but plain spaces;
    # characters newer than this Python's Unicode tables (CJK extensions) are kept
    assert not [c for c in clean if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co")
                or (c.isspace() and c != " ")]
    assert sanitize_file_name(clean) == clean


@pytest.mark.parametrize("refusal", [FileEmpty(), FileTooLarge(21 * MEGABYTE, 20 * MEGABYTE),
                                     FileTypeNotAllowed("application/zip"),
                                     FileTypeNotAllowed(None)])
def test_every_refusal_has_its_chinese_text(refusal: FileRefused) -> None:
    text = t(f"file.{refusal.code}", **refusal.params())
    assert "{" not in text and any("\u4e00" <= c <= "\u9fff" for c in text)
    if isinstance(refusal, FileTooLarge):
        assert "20 MB" in text


# --- the schema -------------------------------------------------------------------------------

async def test_migrated_schema_matches_the_models(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata))
    finally:
        await engine.dispose()
    assert differences == []


async def test_stored_means_a_file_is_linked(app: App, branch: Branch) -> None:
    sessions = session_factory(app.engine)
    async with sessions() as session, session.begin():
        attachment_id = await DownloadRepository(session).record(pending(branch, "f-1"))
    with pytest.raises(IntegrityError):
        async with sessions() as session, session.begin():
            await session.execute(update(Attachment).where(Attachment.id == attachment_id)
                                  .values(status=DownloadStatus.stored))


# --- downloads --------------------------------------------------------------------------------

def pending(branch: Branch, file_id: str, name: str | None = "整改照片.jpg",
            at: datetime = T0, platform: str = "telegram") -> PendingDownload:
    return PendingDownload(owner_kind=AttachmentOwner.problem_evidence, owner_id=7,
                           member_id=branch.secretary.id, platform=platform,
                           platform_file_id=file_id, original_name=name, received_at=at)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Platform:
    """The platform side of a download: files by id, and ids that fail for a while."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.failures: dict[str, int] = {}
        self.gone: set[str] = set()
        self.calls: list[str] = []

    async def fetch(self, claimed: ClaimedDownload) -> bytes:
        self.calls.append(claimed.platform_file_id)
        if claimed.platform_file_id in self.gone:
            raise FetchFailed("40007 invalid media_id", permanent=True)
        if self.failures.get(claimed.platform_file_id, 0) > 0:
            self.failures[claimed.platform_file_id] -= 1
            raise ConnectionError("connection reset by the platform")
        return self.files[claimed.platform_file_id]


async def record(sessions: async_sessionmaker[AsyncSession], *items: PendingDownload) -> list[int]:
    async with sessions() as session, session.begin():
        repository = DownloadRepository(session)
        return [await repository.record(item) for item in items]


async def attachment(sessions: async_sessionmaker[AsyncSession], attachment_id: int) -> Attachment:
    async with sessions() as session:
        row = await session.get(Attachment, attachment_id)
        assert row is not None
        return row


def service(app: App, store: FileStore, clock: Callable[[], datetime],
            limits: FileLimits = LIMITS, policy: RetryPolicy | None = None) -> DownloadService:
    return DownloadService(session_factory(app.engine), store, limits, policy or RetryPolicy(), clock)


async def test_downloads_are_kept_once_per_content(app: App, branch: Branch,
                                                   store: FileStore) -> None:
    sessions, clock = session_factory(app.engine), Clock()
    photo = samples.png(10)
    platform = Platform({"a": photo, "b": photo, "c": samples.PDF})
    ids = await record(sessions, pending(branch, "a", name="../照片 1.pdf"), pending(branch, "b"),
                       pending(branch, "c", name=None))
    outcomes = await service(app, store, clock).run_due("telegram", platform.fetch)
    assert [(o.attachment_id, o.status) for o in outcomes] == [
        (i, DownloadStatus.stored) for i in ids]
    first = await attachment(sessions, ids[0])
    assert (first.original_name, first.stored_at, first.attempts, first.last_error) == (
        "照片 1.pdf", T0, 1, None)  # named .pdf, kept as what it is
    async with sessions() as session:
        files = list(await session.scalars(select(StoredFileRecord).order_by(StoredFileRecord.id)))
        pairs = await DownloadRepository(session).of_owner(AttachmentOwner.problem_evidence, 7)
    assert [(f.sha256, f.mime, f.size) for f in files] == [
        (hashlib.sha256(photo).hexdigest(), "image/png", len(photo)),
        (hashlib.sha256(samples.PDF).hexdigest(), "application/pdf", len(samples.PDF))]
    assert [(a.id, s.id if s else None) for a, s in pairs] == [
        (ids[0], files[0].id), (ids[1], files[0].id), (ids[2], files[1].id)]
    assert await kept_keys(store) == sorted(f.store_key for f in files)
    assert await service(app, store, clock).run_due("telegram", platform.fetch) == []


async def test_a_failed_download_is_tried_again_with_growing_pauses(app: App, branch: Branch,
                                                                    tmp_path: Path) -> None:
    sessions, clock = session_factory(app.engine), Clock()
    platform = Platform({"x": samples.png(11)})
    platform.failures["x"] = 3
    [attachment_id] = await record(sessions, pending(branch, "x"))
    downloads = service(app, LocalStore(tmp_path), clock)
    pauses = []
    for attempt in (1, 2, 3):
        [outcome] = await downloads.run_due("telegram", platform.fetch)
        row = await attachment(sessions, attachment_id)
        assert outcome.status == row.status == DownloadStatus.pending
        assert row.attempts == attempt and "ConnectionError" in (row.last_error or "")
        pauses.append(row.next_attempt_at - clock.now)
        clock.now = row.next_attempt_at - timedelta(seconds=1)
        assert await downloads.run_due("telegram", platform.fetch) == []  # not yet
        clock.now = row.next_attempt_at
    assert pauses == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    [outcome] = await downloads.run_due("telegram", platform.fetch)
    row = await attachment(sessions, attachment_id)
    assert outcome.status == row.status == DownloadStatus.stored and row.attempts == 4
    assert row.last_error is None and row.stored_file_id is not None
    assert platform.calls == ["x"] * 4


async def test_downloads_are_given_up_after_the_last_attempt_or_at_once_when_gone(
        app: App, branch: Branch, tmp_path: Path) -> None:
    sessions, clock = session_factory(app.engine), Clock()
    platform = Platform({"flaky": samples.png(12)})
    platform.failures["flaky"] = 100
    platform.gone.add("expired")
    ids = await record(sessions, pending(branch, "flaky"), pending(branch, "expired"))
    policy = RetryPolicy(first_delay=timedelta(seconds=10), max_delay=timedelta(seconds=40),
                         max_attempts=4)
    downloads = service(app, LocalStore(tmp_path), clock, policy=policy)
    seen = []
    while outcomes := await downloads.run_due("telegram", platform.fetch):
        seen += [(o.attachment_id, o.status) for o in outcomes]
        clock.now += timedelta(minutes=1)
    assert seen == [(ids[0], DownloadStatus.pending), (ids[1], DownloadStatus.failed),
                    (ids[0], DownloadStatus.pending), (ids[0], DownloadStatus.pending),
                    (ids[0], DownloadStatus.failed)]
    flaky, expired = [await attachment(sessions, i) for i in ids]
    assert (flaky.status, flaky.attempts) == (DownloadStatus.failed, 4)
    assert (expired.status, expired.attempts, expired.last_error) == (
        DownloadStatus.failed, 1, "40007 invalid media_id")
    assert [policy.delay(n).total_seconds() for n in range(1, 6)] == [10, 20, 40, 40, 40]


async def test_a_refused_file_fails_at_once_and_says_why(app: App, branch: Branch,
                                                         tmp_path: Path) -> None:
    sessions, clock = session_factory(app.engine), Clock()
    platform = Platform({"big": samples.PDF.ljust(2 * MEGABYTE, b" "),
                         "exe": samples.WINDOWS_PROGRAM})
    ids = await record(sessions, pending(branch, "big", name="报告.pdf"),
                       pending(branch, "exe", name="整改照片.jpg"))
    store = LocalStore(tmp_path)
    outcomes = await service(app, store, clock, limits=FileLimits.default(1)).run_due(
        "telegram", platform.fetch)
    assert [(o.status, type(o.refused)) for o in outcomes] == [
        (DownloadStatus.failed, FileTooLarge), (DownloadStatus.failed, FileTypeNotAllowed)]
    assert [(await attachment(sessions, i)).last_error for i in ids] == [
        "too_large", "type_not_allowed"]
    assert await kept_keys(store) == []


async def test_a_claim_is_a_lease_that_runs_out(app: App, branch: Branch) -> None:
    sessions = session_factory(app.engine)
    [attachment_id] = await record(sessions, pending(branch, "lease"))
    lease = timedelta(minutes=5)
    async with sessions() as session, session.begin():
        [claimed] = await DownloadRepository(session).claim_due("telegram", T0, lease)
    assert (claimed.id, claimed.attempts, claimed.platform_file_id) == (attachment_id, 1, "lease")
    # the worker dies here, without marking anything
    async with sessions() as session, session.begin():
        repository = DownloadRepository(session)
        assert await repository.claim_due("telegram", T0 + lease - timedelta(seconds=1), lease) == []
        [again] = await repository.claim_due("telegram", T0 + lease, lease)
    assert (again.id, again.attempts) == (attachment_id, 2)


async def test_claims_are_per_platform_and_one_at_receipt(app: App, branch: Branch,
                                                         tmp_path: Path) -> None:
    sessions, clock = session_factory(app.engine), Clock()
    platform = Platform({"t1": samples.png(13), "t2": samples.png(14), "w1": samples.png(15)})
    t1, t2, w1 = await record(sessions, pending(branch, "t1"), pending(branch, "t2"),
                              pending(branch, "w1", platform="wecom"))
    downloads = service(app, LocalStore(tmp_path), clock)
    outcome = await downloads.download_now("telegram", t2, platform.fetch)
    assert outcome is not None and outcome.status == DownloadStatus.stored
    assert await downloads.download_now("telegram", t2, platform.fetch) is None  # already kept
    assert await downloads.download_now("telegram", w1, platform.fetch) is None  # not telegram's
    assert [o.attachment_id for o in await downloads.run_due("telegram", platform.fetch)] == [t1]
    assert [o.attachment_id for o in await downloads.run_due("wecom", platform.fetch)] == [w1]


async def test_platform_ids_too_long_for_the_column_are_refused_on_both(app: App,
                                                                        branch: Branch) -> None:
    sessions = session_factory(app.engine)
    with pytest.raises(ValueError, match="platform_file_id"):
        await record(sessions, pending(branch, "x" * 257))
    [kept] = await record(sessions, pending(branch, "x" * 256, name="名" * 500 + ".jpg"))
    row = await attachment(sessions, kept)
    assert len(row.platform_file_id) == 256 and row.original_name is not None
    assert len(row.original_name) == FILE_NAME_MAX_CHARS


async def test_concurrent_claimers_never_get_the_same_row(db_url: str, app: App,
                                                          branch: Branch) -> None:
    sessions = session_factory(app.engine)
    ids = await record(sessions, *[pending(branch, f"c{i}") for i in range(40)])
    engines = [create_engine(db_url) for _ in range(4)]
    lease = timedelta(minutes=5)
    try:
        if db_url.startswith("postgresql"):
            # one claimer holds its rows in an open transaction; the other is not held up by them
            # (SKIP LOCKED) and gets only the rest
            first, second = (session_factory(e)() for e in engines[:2])
            async with first, second:
                async with first.begin():
                    held = await DownloadRepository(first).claim_due("telegram", T0, lease, 15)
                    async with second.begin():
                        rest = await asyncio.wait_for(
                            DownloadRepository(second).claim_due("telegram", T0, lease, 40), 5)
            assert len(held) == 15 and len(rest) == 25
            assert not {c.id for c in held} & {c.id for c in rest}
            later = T0 + lease
        else:
            later = T0

        async def claimer(engine_sessions: async_sessionmaker[AsyncSession]) -> list[int]:
            taken: list[int] = []
            while True:
                async with engine_sessions() as session, session.begin():
                    batch = await DownloadRepository(session).claim_due("telegram", later, lease, 3)
                if not batch:
                    return taken
                taken += [c.id for c in batch]
                await asyncio.sleep(0)

        results = await asyncio.gather(*(claimer(session_factory(e)) for e in engines))
        everything = [i for taken in results for i in taken]
        assert sorted(everything) == sorted(ids)  # each row once, none left out
        assert sum(1 for taken in results if taken) >= 2  # they really did share the work
    finally:
        for engine in engines:
            await engine.dispose()
    async with sessions() as session:
        attempts = set(await session.scalars(select(Attachment.attempts)))
        count = await session.scalar(select(func.count()).select_from(Attachment))
    assert count == 40 and attempts == ({2} if db_url.startswith("postgresql") else {1})
