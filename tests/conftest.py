"""Fixtures shared by the suite: databases (SQLite and PostgreSQL), the app, a sample branch."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.config import Settings
from bot.runtime.app import App, build_app
from storage.db import session_factory
from storage.models import AccountKind, Member, Organization, OrgKind, Role
from storage.repositories.accounts import AccountRepository
from storage.repositories.members import MemberRepository
from storage.repositories.orgs import OrgRepository
from tests.botapi import FakeBotApi
from tests.databases import PostgresFactory, SqliteFactory, postgres_reachable
from tests.wecomapi import FakeWeCom

_factories: dict[str, SqliteFactory | PostgresFactory] = {}
_pg_problem: list[str | None] = []


async def _factory(kind: str, tmp_root: Path) -> SqliteFactory | PostgresFactory:
    if kind == "postgresql":
        if not _pg_problem:
            _pg_problem.append(await postgres_reachable())
        if _pg_problem[0] is not None:
            message = f"PostgreSQL not reachable ({_pg_problem[0]})"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(message + " and CI=true requires it", pytrace=False)
            pytest.skip(message)
    if kind not in _factories:
        _factories[kind] = PostgresFactory() if kind == "postgresql" else SqliteFactory(tmp_root)
    return _factories[kind]


@pytest.fixture(scope="session")
def _sqlite_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sqlite")


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, _sqlite_root: Path) -> AsyncIterator[str]:
    """A fresh, migrated database of each kind."""
    factory = await _factory(request.param, _sqlite_root)
    url = await factory.new()
    yield url
    await factory.drop(url)


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_db_url(request: pytest.FixtureRequest, _sqlite_root: Path) -> AsyncIterator[str]:
    """A fresh database of each kind with no schema at all."""
    factory = await _factory(request.param, _sqlite_root)
    url = await factory.new(migrated=False)
    yield url
    await factory.drop(url)


@pytest.fixture(scope="session", autouse=True)
def _drop_databases() -> object:
    yield
    import asyncio

    for factory in _factories.values():
        asyncio.run(factory.close())


@pytest.fixture(autouse=True)
def _files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own file store (the bot's default is ./files)."""
    folder = tmp_path / "file_store"
    monkeypatch.setenv("BRANCHBOT_FILES_DIR", str(folder))
    return folder


def make_settings(db_url: str, **overrides: object) -> Settings:
    return Settings(_env_file=None, database_url=db_url, **overrides)  # type: ignore[call-arg]


@pytest.fixture
async def app(db_url: str) -> AsyncIterator[App]:
    bot_app = build_app(make_settings(db_url, platform="console"))
    yield bot_app
    await bot_app.close()


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """The loopback Telegram Bot API server."""
    async with FakeBotApi() as server:
        yield server


@pytest.fixture
async def fake() -> AsyncIterator[FakeWeCom]:
    """The loopback WeCom: its server API, and its side of the callbacks."""
    async with FakeWeCom() as server:
        yield server


@pytest.fixture
async def polling(db_url: str, api: FakeBotApi, branch: "Branch") -> AsyncIterator[Application]:
    """branchbot's Telegram adapter, long-polling ``api``, on ``db_url`` with ``branch`` set up."""
    from tests.telegram_support import polling_bot

    async for application in polling_bot(db_url, api):
        yield application


# The platform accounts the roster carries for the ``branch`` fixture's people (as
# ``branchbot member import`` reads them): the Telegram and WeCom tests' users join with these.
LINA_TELEGRAM_ID = "1001"
LINA_WECOM = "lina"  # WeCom userids are case-insensitive: the user "LiNa"
SECRETARY_TELEGRAM_USERNAME = "wang_shuji"
SECRETARY_WECOM = "wangshuji"


@dataclass
class Branch:
    org: Organization
    other: Organization
    secretary: Member
    roster_only: Member  # on the roster, not joined yet


@pytest.fixture
async def branch(app: App) -> Branch:
    """机关第一党支部 with a secretary, plus a second branch; nobody has joined on a platform yet.
    The roster carries 李娜's Telegram id and WeCom userid, the secretary's Telegram username
    and WeCom userid (no phone numbers)."""
    async with session_factory(app.engine)() as session, session.begin():
        orgs, members = OrgRepository(session), MemberRepository(session)
        bureau = await orgs.add("测试局党委", kind=OrgKind.bureau)
        org = await orgs.add("机关第一党支部", kind=OrgKind.branch, parent=bureau,
                             books=["《习近平著作选读》", "《党的二十大报告辅导读本》"])
        other = await orgs.add("机关第二党支部", kind=OrgKind.branch, parent=bureau)
        secretary = await members.add(org, "王书记", Role.secretary)
        roster_only = await members.add(org, "李娜", Role.member)
        registry = AccountRepository(session)
        await registry.set(roster_only.id, AccountKind.telegram, LINA_TELEGRAM_ID)
        await registry.set(roster_only.id, AccountKind.wecom, LINA_WECOM)
        await registry.set(secretary.id, AccountKind.telegram_username, SECRETARY_TELEGRAM_USERNAME)
        await registry.set(secretary.id, AccountKind.wecom, SECRETARY_WECOM)
    return Branch(org, other, secretary, roster_only)
