"""Real test databases: SQLite files and PostgreSQL databases, each cloned from a migrated template.

PostgreSQL tests run when a server answers at BRANCHBOT_TEST_POSTGRES_URL (default: the loopback
server, database ``test``). Without one they are skipped on a laptop and fail under CI=true.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from storage.db import create_engine
from storage.migrate import upgrade

POSTGRES_URL = os.environ.get(
    "BRANCHBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def _dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def postgres_reachable() -> str | None:
    """None if the server answers, else why not."""
    try:
        connection = await asyncio.wait_for(asyncpg.connect(_dsn(POSTGRES_URL)), 5)
    except Exception as error:  # any failure means "not here"
        return f"{type(error).__name__}: {error}"
    await connection.close()
    return None


class SqliteFactory:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.template: Path | None = None

    async def new(self, migrated: bool = True) -> str:
        target = self.root / f"{uuid.uuid4().hex}.db"
        if migrated:
            if self.template is None:
                self.template = self.root / "template.db"
                await migrate(f"sqlite+aiosqlite:///{self.template}")
            shutil.copyfile(self.template, target)
        return f"sqlite+aiosqlite:///{target}"

    async def drop(self, url: str) -> None:
        Path(make_url(url).database or "").unlink(missing_ok=True)

    async def close(self) -> None:
        pass


class PostgresFactory:
    def __init__(self) -> None:
        self.template: str | None = None
        self.created: list[str] = []

    async def _admin(self, sql: str) -> None:
        connection = await asyncpg.connect(_dsn(POSTGRES_URL))
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def new(self, migrated: bool = True) -> str:
        name = f"bb_{uuid.uuid4().hex[:16]}"
        if migrated and self.template is None:
            self.template = f"bb_tpl_{uuid.uuid4().hex[:12]}"
            await self._admin(f'CREATE DATABASE "{self.template}"')
            self.created.append(self.template)
            await migrate(make_url(POSTGRES_URL).set(database=self.template).render_as_string(False))
        source = f' TEMPLATE "{self.template}"' if migrated else ""
        await self._admin(f'CREATE DATABASE "{name}"{source}')
        self.created.insert(0, name)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    async def drop(self, url: str) -> None:
        """Drop a test's database when the test is over (not all at the session's end, where
        hundreds of drops would be the last worker's tail)."""
        name = make_url(url).database
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.remove(name)

    async def close(self) -> None:
        for name in self.created:
            await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()
