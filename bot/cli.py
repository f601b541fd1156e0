"""The `branchbot` command line: database, organization, roster, demo, console chat, run."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App, SchemaOutOfDate, build_app, require_current_schema
from bot.config import Settings
from handlers.i18n import t
from handlers.roster import RosterError, import_roster
from storage.db import session_factory
from storage.migrate import upgrade
from storage.models import OrgKind
from storage.repositories.members import MemberRepository
from storage.repositories.orgs import OrgRepository

T = TypeVar("T")


class CliError(click.ClickException):
    """A one-line error for the operator, never a traceback."""

    def format_message(self) -> str:
        return self.message


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        field = "BRANCHBOT_" + str(first["loc"][0]).upper() if first["loc"] else "BRANCHBOT_*"
        raise CliError(t("cli.bad_setting", field=field, reason=first["msg"])) from error


def run_async(func: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            asyncio.run(func(*args, **kwargs))
        except SchemaOutOfDate as error:
            raise CliError(str(error)) from error
    return wrapper


async def with_session(app: App, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction on a schema that is up to date."""
    try:
        await require_current_schema(app.engine)
        async with session_factory(app.engine)() as session, session.begin():
            return await work(session)
    finally:
        await app.close()


@click.group()
def main() -> None:
    """branchbot：党支部主题教育助手。"""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per Bot API call is only noise


@main.group()
def db() -> None:
    """数据库。"""


@db.command("upgrade")
@run_async
async def db_upgrade() -> None:
    """把数据库结构升级到最新版本（首次运行时创建）。"""
    app = build_app(load_settings())
    try:
        await upgrade(app.engine)
    finally:
        await app.close()
    click.echo(t("cli.db_upgraded"))


@main.group()
def org() -> None:
    """组织：支部与上级党组织。"""


@org.command("add-branch")
@click.argument("name")
@click.option("--parent", help="上级党组织（党总支/党委）名称；不存在时自动创建。")
@run_async
async def org_add_branch(name: str, parent: str | None) -> None:
    """添加支部，打印邀请码和邀请链接。"""
    settings = load_settings()
    name = name.strip()
    if not name or len(name) > 100:
        raise CliError(t("cli.bad_org_name"))

    async def work(session: AsyncSession) -> tuple[str, str | None]:
        orgs = OrgRepository(session)
        if await orgs.by_name(name) is not None:
            raise CliError(t("cli.org_exists", name=name))
        above = None
        if parent:
            above = await orgs.by_name(parent) or await orgs.add(parent, kind=OrgKind.general)
        branch = await orgs.add(name, kind=OrgKind.branch, parent=above)
        return branch.invite_code or "", parent

    code, parent_name = await with_session(build_app(settings), work)
    click.echo(t("cli.branch_added", name=name, parent=parent_name or "—", code=code,
                 link=invite_link(settings, code)))


def invite_link(settings: Settings, code: str) -> str:
    username = settings.telegram_bot_username or t("cli.bot_username_placeholder")
    return f"https://t.me/{username}?start={code}"


@org.command("list")
@run_async
async def org_list() -> None:
    """以树形列出组织和人数。"""
    rows = await with_session(build_app(load_settings()), lambda s: OrgRepository(s).tree())
    if not rows:
        click.echo(t("cli.no_orgs"))
    for row in rows:
        code = f"  邀请码 {row.org.invite_code}" if row.org.invite_code else ""
        click.echo(f"{'  ' * row.depth}{row.org.name}（{row.members}人）{code}")


@main.group()
def member() -> None:
    """党员名册。"""


@member.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@run_async
async def member_import(path: Path) -> None:
    """导入名册（.xlsx 或 .csv；列：姓名、支部、角色）。有错误时整份不导入。"""
    try:
        added = await with_session(build_app(load_settings()), lambda s: import_roster(s, path))
    except RosterError as error:
        raise CliError(t("cli.roster_refused", problems=str(error))) from error
    click.echo(t("cli.roster_imported", added=added))


@main.command()
@click.option("--no-chat", is_flag=True, help="只创建示例数据，不打开对话。")
@click.option("--as", "as_name", default=None, help="以哪位党员的身份对话（默认：李娜）。")
@click.option("--reset", is_flag=True, help="删除已有的示例数据库后重建（仅限 SQLite 文件）。")
@run_async
async def demo(no_chat: bool, as_name: str | None, reset: bool) -> None:
    """创建示例数据（一个局、三个支部、一个月的记录），然后在终端里对话。"""
    from bot.demo import DEMO_MEMBER, branch_invites, create_demo, has_demo

    settings = load_settings()
    if reset:
        _remove_sqlite_file(settings.database_url)
    app = build_app(settings)
    await upgrade(app.engine)
    async with session_factory(app.engine)() as session, session.begin():
        from storage.types import utcnow

        if await has_demo(session):
            click.echo(t("cli.demo_exists"))
        else:
            await create_demo(session, utcnow().astimezone(settings.tz).date())
            click.echo(t("cli.demo_created", url=settings.database_url))
        for name, code in await branch_invites(session):
            click.echo(f"  {name}：邀请码 {code}")
    if no_chat:
        await app.close()
        return
    await _chat(app, as_name or DEMO_MEMBER)


def _remove_sqlite_file(url: str) -> None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise CliError(t("cli.reset_sqlite_only"))
    for suffix in ("", "-wal", "-shm"):
        Path(parsed.database + suffix).unlink(missing_ok=True)


@main.command()
@click.option("--as", "as_name", default=None, help="以名册中哪位党员的身份对话；不填则以未加入的新用户身份。")
@run_async
async def chat(as_name: str | None) -> None:
    """在终端里和机器人对话（也可从管道读入，每行一条消息）。"""
    app = build_app(load_settings())
    try:
        await require_current_schema(app.engine)
    except SchemaOutOfDate:
        await app.close()
        raise
    await _chat(app, as_name)


async def _chat(app: App, as_name: str | None) -> None:
    from bot.adapters.console import PLATFORM, ConsoleChat

    try:
        user_id, user_name = "newcomer", "新用户"
        if as_name:
            async with session_factory(app.engine)() as session, session.begin():
                found = await MemberRepository(session).by_name(as_name)
                if not found:
                    raise CliError(t("cli.no_such_member", name=as_name))
                person = found[0]
                user_id, user_name = f"member-{person.id}", person.name
                if await MemberRepository(session).by_identity(PLATFORM, user_id) is None:
                    await MemberRepository(session).bind(person, platform=PLATFORM, user_id=user_id,
                                                         display_name=person.name)
        await ConsoleChat(app.core, user_id=user_id, user_name=user_name).run(
            echo=not sys.stdin.isatty())
    finally:
        await app.close()


@main.command()
def run() -> None:
    """启动机器人（按 BRANCHBOT_PLATFORM：telegram 或 console）。"""
    settings = load_settings()
    if settings.platform == "console":
        chat.callback(as_name=None)  # type: ignore[misc]
        return
    from bot.adapters.telegram import run_telegram

    if not settings.telegram_token:
        raise CliError(t("cli.no_token"))
    try:
        run_telegram(settings)
    except SchemaOutOfDate as error:
        raise CliError(str(error)) from error


if __name__ == "__main__":
    main()
