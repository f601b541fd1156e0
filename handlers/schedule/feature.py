"""What the bot sends on its own; a member pauses their reminders with /leave."""

from handlers.core.features import Command, Feature
from handlers.core.policy import Policy
from handlers.schedule.leave import leave_command

FEATURE = Feature(
    name="schedule",
    rank=60,
    commands=(Command("leave", leave_command, Policy(), help="help.leave"),),
)
