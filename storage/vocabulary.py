"""The campaign's own terms, as members choose them and as ledgers print them (stored as is)."""

STUDY_FORMS: tuple[str, ...] = (
    "集中学习", "自学", "读书班", "第一议题", "中心组学习", "联组学习",
    "三会一课", "主题党日", "专题党课", "专家辅导", "线上学习",
)
VISIT_KINDS: tuple[str, ...] = ("调研", "走访", "“四百”大走访", "结对居村", "下基层", "联系企业")
PROBLEM_SOURCES: tuple[str, ...] = ("调研", "群众反映", "12345热线", "信访", "巡视巡察", "审计", "自查")
PROBLEM_KINDS: tuple[str, ...] = ("即知即改", "限期整改", "既重要又突出", "需上级协调")
DEFAULT_BOOKS: tuple[str, ...] = (
    "《习近平著作选读》",
    "《习近平新时代中国特色社会主义思想专题摘编》",
    "《党的二十大报告辅导读本》",
    "《关于城市工作论述摘编》",
)
QUICK_HOURS: tuple[str, ...] = ("0.5", "1", "1.5", "2", "3", "4")
