"""Organization life (组织生活): /meeting records a session once, with its attendance."""

from handlers.core.features import Command, Feature
from handlers.core.policy import PERSONAL
from handlers.meetings import attendance, menu, record

FEATURE = Feature(
    name="meetings",
    rank=80,
    commands=(Command("meeting", menu.begin, PERSONAL, help="help.meeting", deep_link=True),),
    dialogs=(record.MEETING, record.MEETING_OVERLAP, menu.MEETING_MENU, menu.MEETING_CARD,
             menu.MEETING_DELETE, menu.MEETING_MINE, menu.MEETING_DISPUTE,
             attendance.MEETING_ATTENDANCE, attendance.MEETING_ABSENCE, attendance.MEETING_GUEST),
)
