"""`branchbot run`: the bot on the configured platforms (BRANCHBOT_PLATFORMS, or
BRANCHBOT_PLATFORM), all in this one process; the console chat for ``console``."""

from __future__ import annotations

import click

from bot.cli.chat import console_chat
from bot.cli.common import CliError, load_settings, run_async, schema_out_of_date, texts
from bot.config import SettingsError
from bot.runtime.app import SchemaOutOfDate
from bot.runtime.multi import run_platforms
from bot.runtime.platforms import CredentialsRefused, platform
from handlers.core.i18n import DEFAULT_TEXTS


@click.command(help=DEFAULT_TEXTS("cli.help_run"))
def run() -> None:
    t = texts()
    settings = load_settings()
    if settings.platform_names == ("console",):
        run_async(console_chat)(None)
        return
    entries = [platform(name) for name in settings.platform_names]
    missing = [name for entry in entries for name in entry.missing(settings)]
    if missing:
        raise CliError(t("cli.missing_settings", fields="、".join(missing)))
    for entry in entries:
        if (refused := entry.refusal(settings)) is not None:
            raise CliError(t(refused))
    try:
        run_platforms(settings)
    except SchemaOutOfDate as error:
        raise schema_out_of_date() from error
    except SettingsError as error:  # a platform's setting it could not take
        raise CliError(t("cli.bad_setting", field=error.name, reason=error.reason)) from error
    except CredentialsRefused as error:
        raise CliError(t("cli.credentials_refused", reason=str(error))) from error
    except OSError as error:  # a port in use, an address that does not resolve
        raise CliError(t("cli.cannot_start", error=str(error) or type(error).__name__)) from error
