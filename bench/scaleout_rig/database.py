"""A fresh PostgreSQL database per run, and the fault of connections killed under the bot."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
from sqlalchemy.engine import make_url

DEFAULT_SERVER = os.environ.get("BRANCHBOT_TEST_POSTGRES_URL",
                                "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def _plain(url: str) -> str:
    """The URL as asyncpg takes it (no ``+asyncpg`` driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass(frozen=True)
class Database:
    url: str  # for the bot (SQLAlchemy, asyncpg driver)

    @property
    def plain_url(self) -> str:
        return _plain(self.url)


@contextlib.asynccontextmanager
async def fresh_database(server_url: str = DEFAULT_SERVER) -> AsyncIterator[Database]:
    """A new, empty database on the server of ``server_url``, dropped afterwards."""
    name = f"bb_scaleout_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(_plain(server_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield Database(make_url(server_url).set(database=name).render_as_string(
                hide_password=False))
        finally:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


_TERMINATE = """
    SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
"""


class ConnectionKiller:
    """Every ``every`` seconds, ``pg_terminate_backend`` of every other connection to the
    database, as a restarted server, a failover or a network fault would end them."""

    def __init__(self, database: Database, every: float = 4.0) -> None:
        self.database, self.every = database, every
        self.rounds = 0
        self.terminated = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        connection = await asyncpg.connect(self.database.plain_url)
        self._task = asyncio.create_task(self._run(connection), name="connection-killer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self, connection: asyncpg.Connection) -> None:
        try:
            while True:
                await asyncio.sleep(self.every)
                self.terminated += int(await connection.fetchval(_TERMINATE) or 0)
                self.rounds += 1
        finally:
            await connection.close()
