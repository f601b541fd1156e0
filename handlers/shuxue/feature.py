"""述学: /shuxue (and the prompt's button), the branch's rhythm (/schedule), 再提醒一次."""

from handlers.core.buttons import RemindAgain
from handlers.core.features import Command, Feature, Press
from handlers.core.policy import LEADERS, PERSONAL, Policy, Where
from handlers.shuxue import dialog, renudge, schedule_setting

FEATURE = Feature(
    name="shuxue",
    rank=50,
    commands=(
        Command("shuxue", dialog.begin, PERSONAL, help="help.shuxue", deep_link=True),
        Command("schedule", schedule_setting.begin, Policy(where=Where.anywhere),
                help="help.schedule", help_for=LEADERS, deep_link=True),
    ),
    presses=(Press(RemindAgain, renudge.nudge_again,
                   Policy(where=Where.anywhere, roles=LEADERS, refused="push.not_your_branch")),),
    dialogs=(dialog.SHUXUE, schedule_setting.SCHEDULE, schedule_setting.SCHEDULE_BRANCH),
)
