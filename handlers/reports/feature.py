"""Summaries and report files: /summary (paged), /report."""

from handlers.core.buttons import ReportPage
from handlers.core.features import Command, Feature, Press
from handlers.core.policy import LEADERS, Policy, Where
from handlers.reports import commands

PRIVATE = Policy(elsewhere="report.private_only")

FEATURE = Feature(
    name="reports",
    rank=90,
    commands=(
        Command("summary", commands.summary_command, PRIVATE, help="help.summary"),
        Command("report", commands.report_command, PRIVATE, help="help.report"),
    ),
    presses=(Press(ReportPage, commands.on_button,
                   Policy(where=Where.anywhere, roles=LEADERS, refused="report.not_allowed")),),
)
