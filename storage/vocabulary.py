"""The campaign's own terms, as members choose them and as ledgers print them (stored as is), each
defined once: the queries (``storage.tallies``, ``storage.queries``) count by them and the
handlers offer them.
"""

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
# A meeting kind (组织生活) and the 学习形式 its attendees are credited with (三会一课 covers the
# branch assembly, the committee, the group meeting and the Party lecture).
MEETING_KIND_FORM: dict[str, str] = {
    "支部党员大会": "三会一课", "支委会": "三会一课", "党小组会": "三会一课", "党课": "三会一课",
    "主题党日": "主题党日", "集中学习": "集中学习", "读书班": "读书班", "联组学习": "联组学习",
    "专题党课": "专题党课",
}
MEETING_KINDS: tuple[str, ...] = tuple(MEETING_KIND_FORM)
DEFAULT_MEETING_FORM = "集中学习"  # the form of a meeting kind not in the table

VISIT_KINDS: tuple[str, ...] = ("调研", "走访", "“四百”大走访", "结对居村", "下基层", "联系企业")
PROBLEM_SOURCES: tuple[str, ...] = ("调研", "群众反映", "12345热线", "信访", "巡视巡察", "审计", "自查")
PROBLEM_KINDS: tuple[str, ...] = ("即知即改", "限期整改", "既重要又突出", "需上级协调")
COORDINATION_KIND = "需上级协调"  # the problem kind routed to the office
# The problem lifecycle's groups of states (``handlers.problems.lifecycle`` has the transitions).
OPEN: frozenset[ProblemStatus] = frozenset({ProblemStatus.rectifying,
                                            ProblemStatus.closure_requested})  # being worked on
ACCEPTED: frozenset[ProblemStatus] = OPEN | {ProblemStatus.closed}  # the denominator of 整改率

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
assert set(MEETING_KIND_FORM.values()) | {DEFAULT_MEETING_FORM} <= set(STUDY_FORMS)
assert COORDINATION_KIND in PROBLEM_KINDS
