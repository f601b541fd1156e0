"""The campaign's own terms, as members choose them and as ledgers print them (stored as is), each
defined once: the queries (``storage.tallies``, ``storage.queries``) count by them and the
handlers offer them.
"""

import enum
from dataclasses import dataclass

from storage.models import ProblemStatus, Role

STUDY_FORMS: tuple[str, ...] = (
    "集中学习", "自学", "读书班", "第一议题", "中心组学习", "联组学习",
    "三会一课", "主题党日", "专题党课", "专家辅导", "线上学习",
)
# 集中学习: the forms where the branch studies together, so that one (branch, form, day) is one
# session however many members log it. 读书班 days are counted apart as well.
GROUP_FORMS: tuple[str, ...] = (
    "集中学习", "中心组学习", "联组学习", "读书班", "三会一课", "主题党日", "专题党课", "专家辅导",
)
READING_CLASS = "读书班"
HALF_DAY_MINUTES = 240  # a 读书班 day whose longest session is at most 4 hours is half a day (半天)
# The forms the papers count apart (000: "依托'三会一课'主题党日累计开展学习 146 次", "2 次中心组学习和
# 2 次联组学习").
ORG_LIFE_FORMS: tuple[str, ...] = ("三会一课", "主题党日")
CENTRE_GROUP_FORM = "中心组学习"
JOINT_FORM = "联组学习"
# 组织生活: each kind of meeting and its rules, defined once (``MEETING_TYPES``). Who is expected
# (应到): the whole branch, its committee (支委会: the secretaries and 支委) or one 党小组. Whether it
# credits the attendees' study hours: always, or (支委会, 党小组会) only when it had a study item
# (学习内容 / 第一议题). Guests are 列席: present, never part of 应到.


class Attendance(str, enum.Enum):
    """Who a meeting expects (应到)."""

    branch = "branch"  # every active member of the branch
    committee = "committee"  # the branch's secretaries and 支委
    party_group = "party_group"  # the members of one 党小组 (the roster's 党小组 column)


@dataclass(frozen=True)
class MeetingType:
    name: str
    form: str  # the 学习形式 its credits carry
    attendance: Attendance
    credits_always: bool  # False: credits hours only when it had a study item
    sanhui_yike: bool = False  # one of 三会一课 (支部党员大会, 支委会, 党小组会, 党课)
    lecture: bool = False  # a Party lecture: its 授课人 has lectured (书记讲党课, 双讲双听)


MEETING_TYPES: tuple[MeetingType, ...] = (
    MeetingType("支部党员大会", "三会一课", Attendance.branch, True, sanhui_yike=True),
    MeetingType("支委会", "三会一课", Attendance.committee, False, sanhui_yike=True),
    MeetingType("党小组会", "三会一课", Attendance.party_group, False, sanhui_yike=True),
    MeetingType("党课", "三会一课", Attendance.branch, True, sanhui_yike=True, lecture=True),
    MeetingType("主题党日", "主题党日", Attendance.branch, True),
    MeetingType("集中学习", "集中学习", Attendance.branch, True),
    MeetingType("读书班", "读书班", Attendance.branch, True),
    MeetingType("联组学习", "联组学习", Attendance.branch, True),
    MeetingType("专题党课", "专题党课", Attendance.branch, True, lecture=True),
)
MEETING_TYPE: dict[str, MeetingType] = {k.name: k for k in MEETING_TYPES}
MEETING_KINDS: tuple[str, ...] = tuple(MEETING_TYPE)
PARTY_GROUP_MEETING = next(k.name for k in MEETING_TYPES if k.attendance is Attendance.party_group)
THEME_DAY = "主题党日"
SANHUI_YIKE_KINDS: tuple[str, ...] = tuple(k.name for k in MEETING_TYPES if k.sanhui_yike)
ORG_LIFE_KINDS: tuple[str, ...] = SANHUI_YIKE_KINDS + (THEME_DAY,)  # "三会一课/主题党日"
LECTURE_KINDS: tuple[str, ...] = tuple(k.name for k in MEETING_TYPES if k.lecture)
CREDITS_ALWAYS_KINDS: tuple[str, ...] = tuple(k.name for k in MEETING_TYPES if k.credits_always)
CREDITS_WITH_STUDY_KINDS: tuple[str, ...] = tuple(
    k.name for k in MEETING_TYPES if not k.credits_always)

RESEARCH_VISIT = "调研"  # the visit kind that is a trip for a 调研课题 (课题调研)
VISIT_KINDS: tuple[str, ...] = (RESEARCH_VISIT, "走访", "“四百”大走访", "结对居村", "下基层", "联系企业")
PROBLEM_SOURCES: tuple[str, ...] = ("调研", "群众反映", "12345热线", "信访", "巡视巡察", "审计", "自查")
PROBLEM_KINDS: tuple[str, ...] = ("即知即改", "限期整改", "既重要又突出", "需上级协调")
COORDINATION_KIND = "需上级协调"  # the problem kind routed to the office
# The problem lifecycle's groups of states (``handlers.problems.lifecycle`` has the transitions).
OPEN: frozenset[ProblemStatus] = frozenset({ProblemStatus.rectifying,
                                            ProblemStatus.closure_requested})  # being worked on
ACCEPTED: frozenset[ProblemStatus] = OPEN | {ProblemStatus.closed}  # the denominator of 整改率
# 提请销项: closure asked for, awaiting the decision or granted
CLOSURE_ASKED: frozenset[ProblemStatus] = frozenset({ProblemStatus.closure_requested,
                                                    ProblemStatus.closed})

DEFAULT_BOOKS: tuple[str, ...] = (
    "《习近平著作选读》",
    "《习近平新时代中国特色社会主义思想专题摘编》",
    "《党的二十大报告辅导读本》",
    "《关于城市工作论述摘编》",
)
QUICK_HOURS: tuple[str, ...] = ("0.5", "1", "1.5", "2", "3", "4")
# The roles by the names a roster or the calendar gives them.
ROLE_NAMES: dict[str, Role] = {"党员": Role.member, "支委": Role.committee, "支部书记": Role.secretary,
                               "办公室": Role.office}

assert set(GROUP_FORMS) <= set(STUDY_FORMS) and READING_CLASS in GROUP_FORMS
assert {*ORG_LIFE_FORMS, CENTRE_GROUP_FORM, JOINT_FORM} <= set(GROUP_FORMS)
assert {k.form for k in MEETING_TYPES} <= set(STUDY_FORMS) and THEME_DAY in MEETING_TYPE
assert COORDINATION_KIND in PROBLEM_KINDS
