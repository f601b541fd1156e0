"""The `branchbot` command line: one module per command group, put together here."""

from __future__ import annotations

import logging

import click

from bot.cli.calendar import calendar
from bot.cli.chat import chat, demo
from bot.cli.db import db
from bot.cli.files import archive, backup_command, restore_command
from bot.cli.group import group
from bot.cli.member import member
from bot.cli.org import org
from bot.cli.problems import problems
from bot.cli.reports import report, summary
from bot.cli.run import run
from bot.cli.sheets import pairing, shuxue, topic
from handlers.core.i18n import DEFAULT_TEXTS


@click.group(help=DEFAULT_TEXTS("cli.help_main"))
def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "alembic", "apscheduler"):  # a line per API call or job is only noise
        logging.getLogger(noisy).setLevel(logging.WARNING)


for command in (db, org, member, problems, calendar, demo, chat, run, group, summary, report,
                pairing, topic, shuxue, archive, backup_command, restore_command):
    main.add_command(command)
