"""`branchbot run`: the bot on the configured platform."""

from __future__ import annotations

import click

from bot.adapters.telegram.run import run_telegram
from bot.adapters.wecom.run import missing_settings, run_wecom
from bot.cli.chat import console_chat
from bot.cli.common import CliError, load_settings, run_async
from bot.config import Settings
from bot.runtime.app import SchemaOutOfDate
from handlers.core.i18n import t


@click.command()
def run() -> None:
    """启动机器人（按 BRANCHBOT_PLATFORM：telegram、wecom 或 console）。"""
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
        raise CliError(str(error)) from error


def _run_wecom(settings: Settings) -> None:
    missing = missing_settings(settings)
    if missing:
        raise CliError(t("wecom.missing_settings", fields="、".join(missing)))
    try:
        run_wecom(settings)
    except SchemaOutOfDate as error:
        raise CliError(str(error)) from error
