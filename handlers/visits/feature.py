"""Research and visits (调查研究 / 走访): /visit."""

from handlers.core.features import Command, Feature
from handlers.core.policy import PERSONAL
from handlers.visits import dialog

FEATURE = Feature(
    name="visits",
    rank=20,
    commands=(Command("visit", dialog.begin, PERSONAL, help="help.visit", deep_link=True),),
    dialogs=(dialog.VISIT, dialog.VISIT_PROBLEM),
    records=(dialog.VISIT_RECORD,),
)
