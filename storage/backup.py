"""Backup and restore: the database and the file store, into a folder and back.

A backup folder holds

    manifest.json          written last: its presence means the backup is whole
    database.sqlite3       SQLite's online backup of the database, or
    database.pgdump        pg_dump's custom format of the PostgreSQL database
    files/ab/cd/<sha256>   every file the database lists in stored_files, in the store's layout

and the manifest gives the sha256 of the database file and of every file. The file list is read
from the same snapshot the database copy is made from (the SQLite copy itself; on PostgreSQL the
snapshot pg_dump is given), so the two agree even while the bot runs. A listed file the store
does not have, or holds damaged, is named in the manifest's ``missing`` instead of stopping the
backup. ``restore`` checks every hash first, then fills a fresh database and a store.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import create_engine
from storage.files.errors import FileMissing
from storage.files.limits import NO_LIMITS
from storage.files.store import CHUNK_BYTES, FileStore, check_key
from storage.models import StoredFileRecord
from storage.types import utcnow

MANIFEST = "manifest.json"
FORMAT = 1
FILES = "files"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
Dialect = Literal["sqlite", "postgresql"]


class Refused(enum.Enum):
    """Why a backup or restore cannot be done. The CLI tells each in the operator's language
    (``backup.<name>`` in the catalogue), with the error's ``details``; the English below is for
    logs."""

    out_not_empty = "{path} is not empty"
    other_database = "the backup is of a {backup} database, not {database}"
    damaged = "{path} in the backup is damaged or missing"
    not_fresh = "{path} exists: restore only into a fresh database"
    tables_exist = "the database has tables: restore only into a fresh database"
    wrong_content = "{path} does not hold the file {stored}"
    no_manifest = "{path} holds no manifest.json: not a backup, or an unfinished one"
    unreadable_manifest = "manifest.json cannot be read: {detail}"
    other_format = "backup format {found} is not {expected}"
    foreign_path = "manifest.json names {named!r} where {belongs!r} belongs"
    unsupported_database = "cannot back up a {name} database"
    in_memory = "an in-memory SQLite database has nothing to back up or restore to"
    no_database_file = "{path} does not exist"
    tool_missing = "{tool} is not installed (the PostgreSQL client tools)"
    tool_failed = "{tool} failed: {detail}"


class BackupError(Exception):
    """A backup or restore that cannot be done: ``refused`` says why, ``details`` what it names."""

    def __init__(self, refused: Refused, **details: object) -> None:
        super().__init__(refused.value.format(**details))
        self.refused, self.details = refused, details


class ManifestEntry(BaseModel):
    path: str  # inside the backup folder
    sha256: str
    size: int


class KeptFile(ManifestEntry):
    key: str


class Manifest(BaseModel):
    format: int
    created_at: datetime
    dialect: Dialect
    revision: str | None  # the database's Alembic revision
    database: ManifestEntry
    files: list[KeptFile]
    missing: list[str]  # keys listed in the database but absent or damaged in the store


async def backup(database_url: str, store: FileStore, out: Path) -> Manifest:
    """Back the database at ``database_url`` and the files it lists up into ``out`` (a new or
    empty folder)."""
    if out.exists() and any(out.iterdir()):
        raise BackupError(Refused.out_not_empty, path=out)
    dialect = _dialect(database_url)
    out.mkdir(parents=True, exist_ok=True)
    database = out / DATABASE_FILES[dialect]
    if dialect == "sqlite":
        await asyncio.to_thread(_sqlite_copy, _sqlite_path(database_url), database)
        revision, listed = await _read_copy_listing(f"sqlite+aiosqlite:///{database}")
    else:
        revision, listed = await _pg_dump(database_url, database)
    kept: list[KeptFile] = []
    missing: list[str] = []
    for key, sha256 in listed:
        entry = await _copy_out(store, key, sha256, out)
        if entry is None:
            missing.append(key)
        else:
            kept.append(entry)
    manifest = Manifest(format=FORMAT, created_at=utcnow(), dialect=dialect, revision=revision,
                        database=await _entry(out, database), files=kept, missing=missing)
    temporary = out / f"{MANIFEST}.part"
    temporary.write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
    os.replace(temporary, out / MANIFEST)
    return manifest


async def restore(source: Path, database_url: str, store: FileStore) -> Manifest:
    """Fill the fresh (empty) database at ``database_url`` and ``store`` from the backup in
    ``source``. Every hash is checked before anything is written."""
    manifest = read_manifest(source)
    dialect = _dialect(database_url)
    if dialect != manifest.dialect:
        raise BackupError(Refused.other_database, backup=manifest.dialect, database=dialect)
    for entry in [manifest.database, *manifest.files]:
        found = await _entry(source, source / entry.path)
        if (found.sha256, found.size) != (entry.sha256, entry.size):
            raise BackupError(Refused.damaged, path=entry.path)
    database = source / manifest.database.path
    if dialect == "sqlite":
        target = _sqlite_path(database_url)
        if target.exists() and target.stat().st_size > 0:
            raise BackupError(Refused.not_fresh, path=target)
        await asyncio.to_thread(_sqlite_copy, database, target)
    else:
        await _pg_restore(database_url, database)
    for entry in manifest.files:
        stored = await store.put(_read_chunks(source / entry.path), limits=NO_LIMITS)
        if stored.key != entry.key:
            raise BackupError(Refused.wrong_content, path=entry.path, stored=entry.key)
    return manifest


def read_manifest(source: Path) -> Manifest:
    path = source / MANIFEST
    if not path.is_file():
        raise BackupError(Refused.no_manifest, path=source)
    try:
        manifest = Manifest.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as error:
        raise BackupError(Refused.unreadable_manifest, detail=error) from None
    if manifest.format != FORMAT:
        raise BackupError(Refused.other_format, found=manifest.format, expected=FORMAT)
    expected = [(manifest.database.path, DATABASE_FILES[manifest.dialect])]
    try:
        expected += [(entry.path, _backup_path(entry.key)) for entry in manifest.files]
    except ValueError as error:
        raise BackupError(Refused.unreadable_manifest, detail=error) from None
    for named, belongs in expected:  # nothing in a manifest names a path outside the backup
        if named != belongs:
            raise BackupError(Refused.foreign_path, named=named, belongs=belongs)
    return manifest


def _backup_path(key: str) -> str:
    return f"{FILES}/{check_key(key)}"


def _dialect(database_url: str) -> Dialect:
    name = make_url(database_url).get_backend_name()
    if name not in DATABASE_FILES:
        raise BackupError(Refused.unsupported_database, name=name)
    return "sqlite" if name == "sqlite" else "postgresql"


def _sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError(Refused.in_memory)
    return Path(database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy while others go on writing."""
    if not source.is_file():
        raise BackupError(Refused.no_database_file, path=source)
    with closing(sqlite3.connect(source)) as origin, closing(sqlite3.connect(target)) as copy:
        origin.backup(copy)


async def _read_copy_listing(url: str) -> tuple[str | None, list[tuple[str, str]]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await _listing(connection)
    finally:
        await engine.dispose()


async def _listing(connection: AsyncConnection) -> tuple[str | None, list[tuple[str, str]]]:
    """The Alembic revision and the (key, sha256) of every stored file, as ``connection`` sees."""

    def tables(sync: Connection) -> set[str]:
        return set(inspect(sync).get_table_names())

    present = await connection.run_sync(tables)
    revision = (await connection.scalar(text("SELECT version_num FROM alembic_version"))
                if "alembic_version" in present else None)
    if StoredFileRecord.__tablename__ not in present:
        return revision, []
    rows = await connection.execute(
        select(StoredFileRecord.store_key, StoredFileRecord.sha256).order_by(StoredFileRecord.id))
    return revision, [(key, sha256) for key, sha256 in rows.tuples()]


async def _pg_dump(database_url: str, target: Path) -> tuple[str | None, list[tuple[str, str]]]:
    """pg_dump in the snapshot this connection exports, and the file list read in that snapshot."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="REPEATABLE READ")
            async with connection.begin():
                snapshot = await connection.scalar(text("SELECT pg_export_snapshot()"))
                await _run_pg_tool(database_url, "pg_dump", "--format=custom", "--no-password",
                                   f"--snapshot={snapshot}", f"--file={target}")
                return await _listing(connection)
    finally:
        await engine.dispose()


async def _pg_restore(database_url: str, dump: Path) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            tables = await connection.scalar(text(
                "SELECT count(*) FROM pg_catalog.pg_tables"
                " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"))
    finally:
        await engine.dispose()
    if tables:
        raise BackupError(Refused.tables_exist)
    url = make_url(database_url)
    await _run_pg_tool(database_url, "pg_restore", "--no-password", "--exit-on-error",
                       "--single-transaction", "--no-owner", "--no-privileges",
                       f"--dbname={url.database}", str(dump))


async def _run_pg_tool(database_url: str, tool: str, *arguments: str) -> None:
    """Run pg_dump or pg_restore against the database of ``database_url``; the password goes
    in the environment, not on a command line others can read."""
    try:
        process = await asyncio.create_subprocess_exec(
            tool, *arguments, env=_libpq_environment(make_url(database_url)),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    except FileNotFoundError:
        raise BackupError(Refused.tool_missing, tool=tool) from None
    _, errors = await process.communicate()
    if process.returncode != 0:
        raise BackupError(Refused.tool_failed, tool=tool,
                          detail=errors.decode(errors="replace").strip())


def _libpq_environment(url: URL) -> dict[str, str]:
    """The process environment (PGPASSFILE, PGSSLROOTCERT … still apply) with what the URL says
    on top; asyncpg's ``ssl=`` becomes libpq's ``sslmode``."""
    ssl = url.query.get("sslmode") or url.query.get("ssl")
    settings = {"PGHOST": url.host, "PGPORT": url.port, "PGUSER": url.username,
                "PGPASSWORD": url.password, "PGDATABASE": url.database, "PGSSLMODE": ssl}
    return {**os.environ, **{name: str(value) for name, value in settings.items() if value}}


async def _copy_out(store: FileStore, key: str, sha256: str, out: Path) -> KeptFile | None:
    """Copy one file out of the store, checking it on the way; None if absent or damaged."""
    relative = _backup_path(key)
    target = out / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    try:
        with target.open("wb") as file:
            async for chunk in store.open(key):
                digest.update(chunk)
                size += len(chunk)
                await asyncio.to_thread(file.write, chunk)
    except FileMissing:
        target.unlink(missing_ok=True)
        return None
    if digest.hexdigest() != sha256:
        target.unlink()
        return None
    return KeptFile(path=relative, sha256=sha256, size=size, key=key)


async def _entry(folder: Path, path: Path) -> ManifestEntry:
    digest, size = await asyncio.to_thread(_hash_file, path)
    return ManifestEntry(path=path.relative_to(folder).as_posix(), sha256=digest, size=size)


def _hash_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    if not path.is_file():
        return "", 0
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


async def _read_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        while chunk := await asyncio.to_thread(file.read, CHUNK_BYTES):
            yield chunk
