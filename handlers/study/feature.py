"""Study (理论学习): /study."""

from handlers.core.features import Command, Feature
from handlers.core.policy import PERSONAL
from handlers.study import dialog
from handlers.study.overlap import STUDY_OVERLAP

FEATURE = Feature(
    name="study",
    rank=10,
    commands=(Command("study", dialog.begin, PERSONAL, help="help.study", deep_link=True),),
    dialogs=(dialog.STUDY, STUDY_OVERLAP),
    records=(dialog.STUDY_RECORD,),
)
