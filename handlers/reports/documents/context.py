"""What a draft is written from: typed figures, filled by the integration from the database.

``StageSummaryContext`` is the office's (every branch) or one branch's 阶段性总结;
``MemberSummaryContext`` is a member's personal 学习总结. The prose (``stage_prose``,
``personal_prose``) writes only what these figures support, and the templates get every figure
under the names ``placeholders`` documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum


class DraftScope(str, Enum):
    office = "office"  # the campaign office: every branch
    branch = "branch"  # one branch, written by its secretary


@dataclass(frozen=True)
class Milestone:
    """A date of the campaign calendar (读书班结束, 课题结题, 第一轮走访全覆盖 …)."""

    day: date
    title: str


@dataclass(frozen=True)
class StudyFigures:
    """(一) 理论学习."""

    hours: float = 0.0  # 学习时长, all forms
    hours_by_form: Mapping[str, float] = field(default_factory=dict)  # 学习形式 → hours
    sessions_by_form: Mapping[str, int] = field(default_factory=dict)  # group sessions: form → 次数
    attendances: int = 0  # 参与人次 of the group sessions
    reading_days: float = 0.0  # 读书班 days held, a half day counting 0.5
    reading_target_days: float | None = None  # the calendar's target (7 in seed 000)
    reading_due: date | None = None  # when the 读书班 must be finished
    shuxue_answers: int = 0
    shuxue_streak: int = 0  # periods in a row, up to the period's end, with an answer
    shuxue_every_weeks: int = 1  # 1: weekly; 2: the "1+3" every two weeks
    lectures: int = 0  # 专题党课 / 书记讲党课 held
    lecturers: tuple[str, ...] = ()  # secretaries who have lectured (双讲双听)
    secretaries: int = 0  # secretaries who should lecture (the coverage's denominator)

    @property
    def group_sessions(self) -> int:
        return sum(self.sessions_by_form.values())


@dataclass(frozen=True)
class ResearchFigures:
    """(二) 调查研究."""

    topics: int = 0  # 调研课题
    topic_owners: int = 0  # members owning a topic
    trips: int = 0  # 课题调研次数: visits of kind 调研 linked to a topic
    visits: int = 0  # 调研走访次数, every kind
    solved: int = 0  # 帮助企业群众解决问题
    paired_villages: int = 0  # 结对居村
    covered_villages: int = 0  # of them, visited at least once in the current round
    round_name: str = ""  # "第一轮"
    round_due: date | None = None  # the round's date for full coverage
    commitments: int = 0  # members with a public commitment (一名党员一个承诺)
    commitments_kept: int = 0


@dataclass(frozen=True)
class ProblemFigures:
    """(三) 检视整改: the problem list at the period's end, in the one status model."""

    listed: int = 0  # on the list (not rejected)
    found_in_period: int = 0
    pending: int = 0  # 待确认
    rectifying: int = 0  # 整改中 (reopened ones included)
    awaiting_closure: int = 0  # 申请销号 now: waiting for the decision
    closure_requested: int = 0  # 提请销项: closure asked, decided or not (申请销号 and 已销号)
    closed: int = 0  # 已销号
    closed_in_period: int = 0
    measures: int = 0  # 整改措施 条数
    overdue: int = 0  # accepted, not closed, past the deadline
    reopened: int = 0  # closed once, then 回潮

    @property
    def accepted(self) -> int:
        return self.rectifying + self.awaiting_closure + self.closed

    @property
    def rate(self) -> float | None:
        """整改率 = 已销号 ÷ 已确认; no accepted problem, no rate."""
        return self.closed / self.accepted if self.accepted else None


@dataclass(frozen=True)
class IncompleteMeeting:
    """A meeting whose record lacks some of the 四必有."""

    branch: str
    day: date
    kind: str
    missing: tuple[str, ...]  # 时间, 议题, 程序, 记录


@dataclass(frozen=True)
class MakeupDue:
    """An absentee who has not yet made up a meeting (补课补学)."""

    name: str
    branch: str
    day: date  # the meeting's
    kind: str


@dataclass(frozen=True)
class OrgLifeFigures:
    """组织生活."""

    meetings_by_kind: Mapping[str, int] = field(default_factory=dict)  # 会议类型 → held
    complete: int = 0  # with every 四必有 item
    incomplete: tuple[IncompleteMeeting, ...] = ()
    absences: int = 0  # 缺席人次
    makeups_done: int = 0
    makeups_outstanding: tuple[MakeupDue, ...] = ()

    @property
    def meetings(self) -> int:
        return sum(self.meetings_by_kind.values())


@dataclass(frozen=True)
class BranchFigures:
    """One branch in the office's draft: the side-by-side table and the shortfalls by name."""

    name: str
    members: int
    reported: int  # members with a study or visit record in the period
    study_hours: float = 0.0
    visits: int = 0
    shuxue_periods: int = 0  # 述学 periods with an answer in the period
    problems_accepted: int = 0
    problems_closed: int = 0
    overdue: int = 0

    @property
    def participation(self) -> float | None:
        return self.reported / self.members if self.members else None

    @property
    def hours_per_member(self) -> float | None:
        return self.study_hours / self.members if self.members else None

    @property
    def rate(self) -> float | None:
        return self.problems_closed / self.problems_accepted if self.problems_accepted else None


@dataclass(frozen=True)
class StageSummaryContext:
    """The office's or a branch's 阶段性总结."""

    scope: DraftScope
    organisation: str  # "局" / "机关第一党支部": whom the paper speaks for
    period_start: date
    period_end: date
    written_on: date
    campaign_start: date | None = None  # the calendar's; the period starts there: "自…启动以来"
    organisations: int = 0  # 基层党组织 (branches) in scope
    organisations_active: int = 0  # of them, with any record in the period (动员起来的)
    members: int = 0
    reported: int = 0
    study: StudyFigures = field(default_factory=StudyFigures)
    research: ResearchFigures = field(default_factory=ResearchFigures)
    problems: ProblemFigures = field(default_factory=ProblemFigures)
    org_life: OrgLifeFigures = field(default_factory=OrgLifeFigures)
    branches: tuple[BranchFigures, ...] = ()  # the office's: every branch (order not needed)
    not_reported: tuple[str, ...] = ()  # a branch's: members with no record in the period
    milestones: tuple[Milestone, ...] = ()  # the calendar's, after ``written_on``

    @property
    def participation(self) -> float | None:
        return self.reported / self.members if self.members else None

    @property
    def since_start(self) -> bool:
        return self.campaign_start is not None and self.period_start <= self.campaign_start


@dataclass(frozen=True)
class MeetingRef:
    day: date
    kind: str


@dataclass(frozen=True)
class MemberSummaryContext:
    """A member's personal 学习总结: their own figures only."""

    name: str
    branch: str
    period_start: date
    period_end: date
    written_on: date
    campaign_start: date | None = None
    hours: float = 0.0
    hours_by_form: Mapping[str, float] = field(default_factory=dict)
    target_hours: float | None = None  # what the period's share of the yearly 32 h asks
    books: tuple[str, ...] = ()  # 学习内容 the member logged (required books first)
    meetings_attended: int = 0
    meetings_missed: tuple[MeetingRef, ...] = ()
    makeups_done: int = 0  # of the missed ones
    shuxue_answers: int = 0
    shuxue_periods: int = 0  # 述学 periods the member's branch held in the period
    visits: int = 0
    solved: int = 0
    topic: str = ""  # the member's 调研课题, if any
    trips: int = 0
    problems_found: int = 0
    problems_owned: int = 0  # problems the member is responsible for
    problems_owned_closed: int = 0
    problems_owned_overdue: int = 0
    commitment: str = ""
    commitment_kept: bool = False

    @property
    def makeups_outstanding(self) -> int:
        return max(len(self.meetings_missed) - self.makeups_done, 0)
