"""`branchbot problems`: the problem list as a file."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.common import CliError, load_settings, run_async, texts, with_session
from bot.runtime.app import build_app
from handlers.core.i18n import DEFAULT_TEXTS
from handlers.problems.export import export
from storage.db import Session
from storage.repositories.orgs import OrgRepository
from storage.repositories.problems import ProblemRepository
from storage.types import utcnow


@click.group(help=DEFAULT_TEXTS("cli.help_problems"))
def problems() -> None:
    """The ``problems`` command group (its help: ``help=``)."""


@problems.command("export", help=DEFAULT_TEXTS("cli.help_problems_export"))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help=DEFAULT_TEXTS("cli.opt_problems_out"))
@click.option("--branch", default=None, help=DEFAULT_TEXTS("cli.opt_problems_branch"))
@run_async
async def problems_export(out: Path, branch: str | None) -> None:
    t = texts()
    settings = load_settings()

    async def work(session: Session) -> tuple[bytes, int]:
        org_id = None
        if branch is not None:
            found = await OrgRepository(session).by_name(branch.strip())
            if found is None:
                raise CliError(t("cli.no_such_branch", name=branch))
            org_id = found.id
        count = len(await ProblemRepository(session).all_of(org_id))
        today = utcnow().astimezone(settings.tz).date()
        return await export(t, session, org_id, today, settings.tz), count

    content, count = await with_session(build_app(settings), work)
    out.write_bytes(content)
    click.echo(t("cli.problems_exported", path=out, count=count))
