"""`branchbot archive` (资料归档), `branchbot backup` and `branchbot restore`."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.common import CliError, load_settings, run_async, texts
from bot.cli.reports import period_and_target
from bot.runtime.app import build_app, require_current_schema
from handlers.archive.builder import ArchiveRequest, Progress, build_archive
from handlers.core.i18n import DEFAULT_TEXTS, Translator
from storage.backup import BackupError, backup, restore
from storage.db import session_factory
from storage.files.settings import FileSettings, build_store


@click.command(help=DEFAULT_TEXTS("cli.help_archive"))
@click.option("--out", "out", type=click.Path(path_type=Path), required=True,
              help=DEFAULT_TEXTS("cli.opt_archive_out"))
@click.option("--branch", default=None, help=DEFAULT_TEXTS("cli.opt_branch"))
@click.option("--from", "start", default=None, help=DEFAULT_TEXTS("cli.opt_from"))
@click.option("--to", "end", default=None, help=DEFAULT_TEXTS("cli.opt_to"))
@run_async
async def archive(out: Path, branch: str | None, start: str | None, end: str | None) -> None:
    settings = load_settings()
    t = Translator.of(settings.language)
    if out.exists() and not out.is_file():
        raise CliError(t("cli.archive_out_not_file", path=out))
    app = build_app(settings)
    try:
        await require_current_schema(app.engine)
        sessions = session_factory(app.engine)
        async with sessions() as session:
            period, scope, _, _ = await period_and_target(session, settings.tz, branch, start, end)
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".part")
        request = ArchiveRequest(partial, period, settings.tz, t, scope.org_ids)
        async for step in build_archive(sessions, app.files.store, request):
            if isinstance(step, Progress):
                click.echo(t("archive.progress", done=step.done, total=step.total,
                             branch=step.branch), err=True)
            else:
                partial.replace(out)
                click.echo(t("cli.archive_done", path=out, branches=step.branches,
                             records=step.records, files=step.files,
                             mb=f"{step.size / 1024 / 1024:.1f}"))
    finally:
        await app.close()


def refusal(t: Translator, error: BackupError) -> str:
    """Why, in the operator's language."""
    return t(f"backup.{error.refused.name}", **error.details)


@click.command(help=DEFAULT_TEXTS("cli.help_backup"))
@click.option("--out", "out", type=click.Path(path_type=Path), required=True,
              help=DEFAULT_TEXTS("cli.opt_backup_out"))
@run_async
async def backup_command(out: Path) -> None:
    settings, t = load_settings(), texts()
    store = build_store(FileSettings())
    try:
        manifest = await backup(settings.database_url, store, out)
    except BackupError as error:
        raise CliError(t("cli.backup_failed", reason=refusal(t, error))) from error
    finally:
        await store.close()
    click.echo(t("cli.backup_done", path=out, files=len(manifest.files)))
    if manifest.missing:
        click.echo(t("cli.backup_missing", count=len(manifest.missing),
                     keys="、".join(manifest.missing[:5])), err=True)


@click.command(help=DEFAULT_TEXTS("cli.help_restore"))
@click.argument("source", type=click.Path(path_type=Path))
@run_async
async def restore_command(source: Path) -> None:
    settings, t = load_settings(), texts()
    store = build_store(FileSettings())
    try:
        manifest = await restore(source, settings.database_url, store)
    except BackupError as error:
        raise CliError(t("cli.restore_failed", reason=refusal(t, error))) from error
    finally:
        await store.close()
    click.echo(t("cli.restore_done", files=len(manifest.files),
                 at=manifest.created_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")))


backup_command.name = "backup"
restore_command.name = "restore"
