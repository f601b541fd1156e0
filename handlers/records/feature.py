"""A member's own records: /mine."""

from handlers.core.features import Command, Feature
from handlers.core.policy import PERSONAL
from handlers.records import mine

FEATURE = Feature(
    name="records",
    rank=70,
    commands=(Command("mine", mine.begin, PERSONAL, help="help.mine", deep_link=True),),
    dialogs=(mine.MINE, mine.MINE_ACTION, mine.DELETE),
)
