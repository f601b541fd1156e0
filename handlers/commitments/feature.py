"""Commitments (一名党员一个承诺): /commit."""

from handlers.commitments import dialog
from handlers.core.features import Command, Feature
from handlers.core.policy import PERSONAL

FEATURE = Feature(
    name="commitments",
    rank=40,
    commands=(Command("commit", dialog.begin, PERSONAL, help="help.commit", deep_link=True),),
    dialogs=(dialog.COMMIT, dialog.COMMIT_MENU, dialog.COMMIT_REPORT),
    records=(dialog.COMMITMENT_RECORD,),
)
