"""`branchbot member`: the roster, and join requests decided by the operator."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.common import CliError, load_settings, run_async, texts, with_session
from bot.runtime.app import build_app
from handlers.core.buttons import MAX_ID
from handlers.core.i18n import DEFAULT_TEXTS
from handlers.membership import approval
from handlers.membership.roster import RosterError, import_roster
from storage.db import Session
from storage.repositories.join_requests import JoinRequestRepository
from storage.repositories.members import MemberRepository
from storage.types import utcnow


@click.group(help=DEFAULT_TEXTS("cli.help_member"))
def member() -> None:
    """The ``member`` command group (its help: ``help=``)."""


@member.command("import", help=DEFAULT_TEXTS("cli.help_member_import"))
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@run_async
async def member_import(path: Path) -> None:
    t = texts()
    try:
        added = await with_session(build_app(load_settings()), lambda s: import_roster(t, s, path))
    except RosterError as error:
        raise CliError(t("cli.roster_refused", problems=str(error))) from error
    click.echo(t("cli.roster_imported", added=added))


@member.command("pending", help=DEFAULT_TEXTS("cli.help_member_pending"))
@run_async
async def member_pending() -> None:
    t, app = texts(), build_app(load_settings())
    config = app.core.config

    async def listing(session: Session) -> list[str]:
        return [await approval.listing_line(t, session, request, config)
                for request in await JoinRequestRepository(session).pending()]

    lines = await with_session(app, listing)
    click.echo("\n".join(lines) if lines else t("cli.pending_none"))


@member.command("approve", help=DEFAULT_TEXTS("cli.help_member_approve"))
@click.argument("request_id", type=click.IntRange(1, MAX_ID))
@run_async
async def member_approve(request_id: int) -> None:
    await _decide(request_id, approve=True)


@member.command("reject", help=DEFAULT_TEXTS("cli.help_member_reject"))
@click.argument("request_id", type=click.IntRange(1, MAX_ID))
@run_async
async def member_reject(request_id: int) -> None:
    await _decide(request_id, approve=False)


@member.command("prefer", help=DEFAULT_TEXTS("cli.help_member_prefer"))
@click.argument("name")
@click.argument("platform")
@run_async
async def member_prefer(name: str, platform: str) -> None:
    """Where the member's pushes go when they are on several platforms (``auto``: the one
    they used last)."""
    t = texts()

    async def preferring(session: Session) -> str:
        found = await MemberRepository(session).by_name(name)
        if len(found) != 1:
            raise CliError(t("cli.no_such_member", name=name) if not found
                           else t("cli.prefer_ambiguous", name=name, count=len(found)))
        person = found[0]
        if platform == "auto":
            person.preferred_platform = None
            return t("cli.prefer_auto", name=person.name)
        if await MemberRepository(session).identity_on(person.id, platform) is None:
            raise CliError(t("cli.prefer_not_there", name=person.name, platform=platform))
        person.preferred_platform = platform
        return t("cli.prefer_set", name=person.name, platform=platform)

    click.echo(await with_session(build_app(load_settings()), preferring))


async def _decide(request_id: int, *, approve: bool) -> None:
    """The operator decides: the same once-only decision as the approvers' buttons."""
    t, app = texts(), build_app(load_settings())
    config = app.core.config

    async def deciding(session: Session) -> str | None:
        request = await JoinRequestRepository(session).get(request_id)
        if request is None:
            return None
        now = utcnow()
        decided = await approval.decide(t, session, request, approve=approve, by=None, now=now,
                                        send_at=approval.send_time(config, now))
        return decided.text

    text = await with_session(app, deciding)
    if text is None:
        raise CliError(t("cli.no_such_request", id=request_id))
    click.echo(text)
