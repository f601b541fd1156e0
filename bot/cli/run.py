"""`branchbot run`: the bot on the configured platform."""

from __future__ import annotations

import click

from bot.adapters.dingtalk.api import CredentialsRefused
from bot.adapters.dingtalk.run import missing_settings as dingtalk_missing
from bot.adapters.dingtalk.run import run_dingtalk
from bot.adapters.feishu.run import missing_settings as feishu_missing
from bot.adapters.feishu.run import run_feishu
from bot.adapters.feishu.ws import FeishuConnectError
from bot.adapters.telegram.run import WebhookWithoutSecret, run_telegram
from bot.adapters.wecom.run import missing_settings, run_wecom
from bot.cli.chat import console_chat
from bot.cli.common import CliError, load_settings, run_async, schema_out_of_date, texts
from bot.config import Settings, SettingsError
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
    if settings.platform in ("dingtalk", "feishu"):
        _run_dingtalk_or_feishu(settings)
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


def _run_dingtalk_or_feishu(settings: Settings) -> None:
    """One line for the operator when a key is missing or bad, or the platform refuses it."""
    t = texts()
    dingtalk = settings.platform == "dingtalk"
    missing = (dingtalk_missing if dingtalk else feishu_missing)(settings)
    if missing:
        key = "dingtalk.missing_settings" if dingtalk else "feishu.missing_settings"
        raise CliError(t(key, fields="、".join(missing)))
    try:
        (run_dingtalk if dingtalk else run_feishu)(settings)
    except SettingsError as error:
        raise CliError(t("cli.bad_setting", field=error.name, reason=error.reason)) from error
    except (CredentialsRefused, FeishuConnectError) as error:
        raise CliError(t("cli.credentials_refused", reason=str(error))) from error
    except SchemaOutOfDate as error:
        raise schema_out_of_date() from error
