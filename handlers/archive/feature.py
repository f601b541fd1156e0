"""资料归档: /archive for the office (``branchbot archive`` on the command line)."""

from handlers.archive.command import archive_command
from handlers.core.features import Command, Feature
from handlers.core.policy import Policy
from storage.models import Role

FEATURE = Feature(
    name="archive",
    rank=95,
    commands=(Command("archive", archive_command,
                      Policy(elsewhere="report.private_only", roles=frozenset({Role.office}),
                             refused="archive.not_allowed"),
                      help="help.archive"),),
)
