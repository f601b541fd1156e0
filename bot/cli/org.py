"""`branchbot org`: branches and the organizations above them."""

from __future__ import annotations

import click

from bot.cli.common import CliError, load_settings, run_async, texts, with_session
from bot.config import Settings
from bot.runtime.app import build_app
from handlers.core.i18n import DEFAULT_TEXTS
from storage.db import Session
from storage.models import OrgKind
from storage.repositories.orgs import OrgRepository


@click.group(help=DEFAULT_TEXTS("cli.help_org"))
def org() -> None:
    """The ``org`` command group (its help: ``help=``)."""


@org.command("add-branch", help=DEFAULT_TEXTS("cli.help_org_add_branch"))
@click.argument("name")
@click.option("--parent", help=DEFAULT_TEXTS("cli.opt_parent"))
@run_async
async def org_add_branch(name: str, parent: str | None) -> None:
    t = texts()
    settings = load_settings()
    name = name.strip()
    if not name or len(name) > 100:
        raise CliError(t("cli.bad_org_name"))

    async def work(session: Session) -> tuple[str, str | None]:
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
    t = texts()
    username = settings.telegram_bot_username or t("cli.bot_username_placeholder")
    return f"https://t.me/{username}?start={code}"


@org.command("list", help=DEFAULT_TEXTS("cli.help_org_list"))
@run_async
async def org_list() -> None:
    t = texts()
    rows = await with_session(build_app(load_settings()), lambda s: OrgRepository(s).tree())
    if not rows:
        click.echo(t("cli.no_orgs"))
    for row in rows:
        code = t("cli.org_code", code=row.org.invite_code) if row.org.invite_code else ""
        click.echo("  " * row.depth + t("cli.org_line", name=row.org.name, members=row.members,
                                         code=code))
