"""The problem list (问题清单): /problem to report one, /progress for its owner, /problems for the
secretary and the office."""

from handlers.core.features import Command, Feature
from handlers.core.policy import LEADERS, PERSONAL, Policy
from handlers.problems import action_dialogs, board, progress, report
from storage.models import Role

# /problems: the secretaries and the office; the branch's 支委 too (they read the list, and decide
# the closure request of a problem their secretary owns).
BOARD_ROLES = LEADERS | {Role.committee}

FEATURE = Feature(
    name="problems",
    rank=30,
    commands=(
        Command("problem", report.begin, PERSONAL, help="help.problem", deep_link=True),
        Command("progress", board.progress_command, PERSONAL, help="help.progress", deep_link=True),
        Command("problems", board.command,
                Policy(elsewhere="problem.board_private", roles=BOARD_ROLES,
                       refused="problem.board_not_allowed"),
                help="help.problems"),
    ),
    dialogs=(report.PROBLEM, board.PROBLEM_BOARD, board.PROBLEM_LIST, board.PROBLEM_DETAIL,
             action_dialogs.PROBLEM_ACCEPT, action_dialogs.PROBLEM_REASON,
             action_dialogs.PROBLEM_EXTEND, action_dialogs.PROBLEM_REOPEN,
             action_dialogs.PROBLEM_APPROVE,
             progress.PROBLEM_UPDATE, progress.PROBLEM_ASK_EXTENSION, progress.PROBLEM_CLOSURE),
    records=(report.PROBLEM_RECORD,),
)
