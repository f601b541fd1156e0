"""`branchbot run`: the bot on the configured platform."""

from __future__ import annotations

import click

from bot.adapters.telegram.run import WebhookWithoutSecret, run_telegram
from bot.adapters.wecom.run import missing_settings, run_wecom
from bot.cli.chat import console_chat
from bot.cli.common import CliError, load_settings, run_async, schema_out_of_date, texts
from bot.config import Settings
from bot.runtime.app import SchemaOutOfDate
from handlers.core.i18n import DEFAULT_TEXTS


@click.command(help=DEFAULT_TEXTS("cli.help_run"))
def run() -> None:
    t = texts()
    settings = load_settings()
    if settings.platform == "console":
        run_async(console_chat)(None)
        return
    if settings.platform == "wecom":
        _run_wecom(settings)
        return
    if not settings.telegram_token:
        raise CliError(t("cli.no_token"))
    try:
        run_telegram(settings)
    except SchemaOutOfDate as error:
        raise schema_out_of_date() from error
    except WebhookWithoutSecret as error:
        raise CliError(t("cli.webhook_no_secret")) from error


def _run_wecom(settings: Settings) -> None:
    t = texts()
    missing = missing_settings(settings)
    if missing:
        raise CliError(t("wecom.missing_settings", fields="、".join(missing)))
    try:
        run_wecom(settings)
    except SchemaOutOfDate as error:
        raise schema_out_of_date() from error
