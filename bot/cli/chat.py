"""`branchbot chat` and `branchbot demo`: the console adapter against the configured database."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from bot.adapters.console import PLATFORM
from bot.adapters.console.chat import ConsoleChat
from bot.adapters.console.sender import ConsoleSender
from bot.cli.common import CliError, load_settings, run_async, texts
from bot.demo.data import (
    DEMO_MEMBER,
    branch_invites,
    console_account,
    create_demo,
    has_demo,
)
from bot.runtime.app import App, SchemaOutOfDate, build_app, require_current_schema
from bot.runtime.delivery import UNLIMITED
from bot.runtime.pushes import Pushes
from handlers.core.i18n import DEFAULT_TEXTS
from storage.db import Session, session_factory, sqlite_file
from storage.migrate import upgrade
from storage.repositories.members import MemberRepository
from storage.types import utcnow


@click.command(help=DEFAULT_TEXTS("cli.help_demo"))
@click.option("--no-chat", is_flag=True, help=DEFAULT_TEXTS("cli.opt_demo_no_chat"))
@click.option("--as", "as_name", default=None, help=DEFAULT_TEXTS("cli.opt_demo_as"))
@click.option("--reset", is_flag=True, help=DEFAULT_TEXTS("cli.opt_demo_reset"))
@run_async
async def demo(no_chat: bool, as_name: str | None, reset: bool) -> None:
    t = texts()
    settings = load_settings()
    if reset:
        _remove_sqlite_file(settings.database_url)
    app = build_app(settings)
    await upgrade(app.engine)
    async with session_factory(app.engine)() as session, session.begin():
        if await has_demo(session):
            click.echo(t("cli.demo_exists"))
        else:
            await create_demo(session, utcnow().astimezone(settings.tz).date(),
                              store=app.files.store)
            click.echo(t("cli.demo_created", url=settings.database_url))
        for name, code in await branch_invites(session):
            click.echo(t("cli.invite_line", name=name, code=code))
    if no_chat:
        await app.close()
        return
    await _chat(app, as_name or DEMO_MEMBER)


def _remove_sqlite_file(url: str) -> None:
    t = texts()
    database = sqlite_file(url)
    if database is None:
        raise CliError(t("cli.reset_sqlite_only"))
    for suffix in ("", "-wal", "-shm"):
        Path(database + suffix).unlink(missing_ok=True)


@click.command(help=DEFAULT_TEXTS("cli.help_chat"))
@click.option("--as", "as_name", default=None, help=DEFAULT_TEXTS("cli.opt_chat_as"))
@run_async
async def chat(as_name: str | None) -> None:
    await console_chat(as_name)


async def console_chat(as_name: str | None) -> None:
    """Chat in this terminal on a schema that is up to date (`chat`, and `run` on the console)."""
    app = build_app(load_settings())
    try:
        await require_current_schema(app.engine)
    except SchemaOutOfDate:
        await app.close()
        raise
    await _chat(app, as_name)


async def _console_account(session: Session, name: str) -> tuple[str, str]:
    """The console account of the roster's ``name``: theirs, or (the operator at the terminal
    binding the row, as the demo data does) a new one."""
    members = MemberRepository(session)
    found = await members.by_name(name)
    if not found:
        raise CliError(texts()("cli.no_such_member", name=name))
    person = found[0]
    identity = await members.identity_on(person.id, PLATFORM)
    if identity is not None:
        return identity.platform_user_id, person.name
    await members.bind(person, platform=PLATFORM, user_id=console_account(person),
                       display_name=person.name)
    return console_account(person), person.name


async def _chat(app: App, as_name: str | None) -> None:
    logging.getLogger().setLevel(logging.WARNING)  # the terminal is the conversation: no chatter
    try:
        user_id, user_name = "newcomer", "新用户"
        if as_name:
            async with session_factory(app.engine)() as session, session.begin():
                user_id, user_name = await _console_account(session, as_name)
        console = ConsoleChat(app.core, user_id=user_id, user_name=user_name)
        pushes = Pushes(app, (ConsoleSender(console), UNLIMITED)) \
            if app.settings.pushes_enabled else None
        if pushes is not None:
            await pushes.start()
        try:
            await console.run(echo=not sys.stdin.isatty())
        finally:
            if pushes is not None:
                await pushes.stop()
    finally:
        await app.close()
