"""The database schema: typed SQLAlchemy 2 models.

Records a member logs (study, visit, problem, commitment) are never deleted in place: deletion sets
``deleted_at`` and writes an audit row holding the record as it was.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.files.names import FILE_NAME_MAX_CHARS
from storage.measures import measure_count
from storage.types import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[str]: JSON}


class OrgKind(str, enum.Enum):
    bureau = "bureau"  # 局党组/党委
    general = "general"  # 党总支 / 基层党委
    branch = "branch"  # 党支部


class Role(str, enum.Enum):
    member = "member"  # 党员
    committee = "committee"  # 支委
    secretary = "secretary"  # 支部书记
    office = "office"  # 主题教育办公室


class ProblemStatus(str, enum.Enum):
    """The problem lifecycle (检视整改). The transitions live in one place, with the problem list."""

    pending = "pending"  # 待确认
    rectifying = "rectifying"  # 整改中
    closure_requested = "closure_requested"  # 申请销号
    closed = "closed"  # 已销号
    rejected = "rejected"  # 不属于问题


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[OrgKind] = mapped_column(Enum(OrgKind, native_enum=False, length=16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    invite_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    required_books: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Organization | None] = relationship(remote_side=[id])


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16), default=Role.member)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    party_group: Mapped[str | None] = mapped_column(String(50))  # 党小组, from the roster
    # Where pushes reach a member known on several platforms: the one they chose, else the one
    # they used last (storage.queries.reach).
    preferred_platform: Mapped[str | None] = mapped_column(String(16))
    last_platform: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    org: Mapped[Organization] = relationship()
    identities: Mapped[list[Identity]] = relationship(back_populates="member")


class Identity(Base):
    """A member's account on one platform (a Telegram user id, a WeCom userid…), bound by a roster
    account the platform authenticated or by an approved join request: only a bound identity has
    a role. One per member and platform (a member may have one on each platform)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),
                      UniqueConstraint("member_id", "platform", name="uq_identities_member_platform"))

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member] = relationship(back_populates="identities")


class GroupChat(Base):
    """A branch's group chat (支部群), bound by its secretary."""

    __tablename__ = "group_chats"
    __table_args__ = (UniqueConstraint("platform", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(String(200))
    bound_by_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    bound_at: Mapped[datetime] = mapped_column(default=utcnow)
    webhook_url: Mapped[str | None] = mapped_column(String(300))  # a WeCom group robot (群机器人)


class _MemberRecord:
    """Columns every logged record shares, and how the audit log and the repositories name it."""

    entity: ClassVar[str]  # its name in the audit log (``audit_log.entity``)
    owner: ClassVar[str] = "member_id"  # the column naming whose record it is

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class Meeting(_MemberRecord, Base):
    """An organization-life session recorded once by the secretary (三会一课, 集中学习 …)."""

    __tablename__ = "meetings"
    entity = "meeting"
    owner = "created_by_id"
    __table_args__ = (Index("ix_meetings_org_day", "org_id", "day"),)

    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    kind: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    starts: Mapped[str | None] = mapped_column(String(5))  # local HH:MM
    ends: Mapped[str | None] = mapped_column(String(5))
    place: Mapped[str | None] = mapped_column(String(100))
    topic: Mapped[str | None] = mapped_column(String(200))
    host: Mapped[str | None] = mapped_column(String(50))
    recorder: Mapped[str | None] = mapped_column(String(50))
    lecturer: Mapped[str | None] = mapped_column(String(50))
    # the 授课人 when the name is one member of the branch (who has lectured: 双讲双听)
    lecturer_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    party_group: Mapped[str | None] = mapped_column(String(50))  # a 党小组会's 党小组
    study_item: Mapped[str | None] = mapped_column(String(200))  # 学习内容 / 第一议题
    procedure: Mapped[str | None] = mapped_column(Text)  # agenda / 程序
    record_text: Mapped[str | None] = mapped_column(Text)  # 记录
    record_file_id: Mapped[str | None] = mapped_column(String(256))  # a photo of the minutes, a file
    created_by_id: Mapped[int] = mapped_column(ForeignKey("members.id"))


class MeetingAttendance(Base):
    """Who was at a meeting, or away and why; guests from other branches are marked."""

    __tablename__ = "meeting_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    present: Mapped[bool] = mapped_column(Boolean, default=True)
    absence_reason: Mapped[str | None] = mapped_column(String(50))  # 公差, 病假, 事假 …
    guest: Mapped[bool] = mapped_column(Boolean, default=False)


class StudyRecord(_MemberRecord, Base):
    __tablename__ = "study_records"
    entity = "study"
    __table_args__ = (
        Index("ix_study_records_org_date", "org_id", "study_date"),
        # covers the reports' study aggregates (measured: a year's office roll-up 2.2 s → 0.5 s)
        Index("ix_study_records_cover", "org_id", "study_date", "form", "minutes", "member_id",
              sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL")),
        # "did this member log anything in the period": one probe per member for 参与率
        Index("ix_study_records_member_day", "member_id", "study_date", "org_id",
              sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL")),
    )

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    form: Mapped[str] = mapped_column(String(32))
    study_date: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(String(200))
    reflection: Mapped[str | None] = mapped_column(Text)
    # A credit for attending a meeting (kept in step with the meeting), or a make-up for missing one.
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"), index=True)
    makeup_for_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))


class Visit(_MemberRecord, Base):
    __tablename__ = "visits"
    entity = "visit"
    __table_args__ = (
        Index("ix_visits_org_date", "org_id", "visit_date"),
        Index("ix_visits_cover", "org_id", "visit_date", "member_id", "solved_count",
              sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL")),
        Index("ix_visits_member_day", "member_id", "visit_date", "org_id",
              sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL")),
    )

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    kind: Mapped[str] = mapped_column(String(32))
    visit_date: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(100))
    whom: Mapped[str] = mapped_column(String(100))
    heard: Mapped[str] = mapped_column(Text)
    solved_count: Mapped[int] = mapped_column(Integer, default=0)
    topic: Mapped[str | None] = mapped_column(String(100))
    # the branch's 调研课题 this trip is for (a visit of kind 调研); ``topic`` keeps its title
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("research_topics.id"), index=True)


class ResearchTopic(Base):
    """A 调研课题 of a branch and its owner (each leader owns one; 000: 34 topics), from the
    office's import; visits of kind 调研 name it (课题调研次数)."""

    __tablename__ = "research_topics"
    __table_args__ = (UniqueConstraint("org_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    owner_name: Mapped[str] = mapped_column(String(50))
    due: Mapped[date | None] = mapped_column(Date)  # 结题
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class DailyTally(Base):
    """Per branch and day, the study and visit figures the reports add up: derived from the
    records and recounted with every change to them (``storage.tallies``), so a year's roll-up
    reads one row a branch a day instead of every record."""

    __tablename__ = "daily_tallies"

    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    study_minutes: Mapped[int] = mapped_column(Integer, default=0)
    study_records: Mapped[int] = mapped_column(Integer, default=0)
    group_sessions: Mapped[int] = mapped_column(Integer, default=0)
    group_attendances: Mapped[int] = mapped_column(Integer, default=0)
    reading_days: Mapped[int] = mapped_column(Integer, default=0)
    reading_attendances: Mapped[int] = mapped_column(Integer, default=0)
    visits: Mapped[int] = mapped_column(Integer, default=0)
    solved: Mapped[int] = mapped_column(Integer, default=0)
    # the papers' sessions by form (``storage.queries.papers``): that day's 三会一课/主题党日
    # sessions (0–2), 中心组学习 and 联组学习 (0/1), and the longest 读书班 record (minutes)
    org_life_sessions: Mapped[int] = mapped_column(Integer, default=0)
    centre_sessions: Mapped[int] = mapped_column(Integer, default=0)
    joint_sessions: Mapped[int] = mapped_column(Integer, default=0)
    reading_longest: Mapped[int] = mapped_column(Integer, default=0)


class DailyTopic(Base):
    """Per branch and day, the visits under each 调研课题 (for counting distinct topics)."""

    __tablename__ = "daily_topics"

    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    topic: Mapped[str] = mapped_column(String(100), primary_key=True)
    visits: Mapped[int] = mapped_column(Integer, default=0)


class Problem(_MemberRecord, Base):
    __tablename__ = "problems"
    entity = "problem"
    owner = "reporter_id"
    __table_args__ = (
        Index("ix_problems_org_status", "org_id", "status"),
        # covers the reports' problem figures
        Index("ix_problems_cover", "org_id", "created_at", "status", "reporter_id", "id",
              sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL")),
    )

    reporter_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    description: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    owner_name: Mapped[str] = mapped_column(String(50))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    deadline: Mapped[date] = mapped_column(Date)
    measures: Mapped[str] = mapped_column(Text)
    # 整改措施条数 of ``measures``, set whenever they are (None: written around the ORM, counted then)
    measure_items: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[ProblemStatus] = mapped_column(
        Enum(ProblemStatus, native_enum=False, length=24), default=ProblemStatus.pending
    )
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))


@event.listens_for(Problem.measures, "set")
def _count_measures(problem: Problem, value: str | None, _old: Any, _initiator: Any) -> None:
    problem.measure_items = measure_count(value)


class ProblemEvent(Base):
    """Every change of a problem: who, when, what and why (its history; nothing edited in place)."""

    __tablename__ = "problem_events"
    __table_args__ = (Index("ix_problem_events_move", "to_status", "at", "problem_id"),)  # "closed when"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[ProblemStatus | None] = mapped_column(
        Enum(ProblemStatus, native_enum=False, length=24)
    )
    to_status: Mapped[ProblemStatus | None] = mapped_column(
        Enum(ProblemStatus, native_enum=False, length=24)
    )
    note: Mapped[str | None] = mapped_column(Text)
    percent: Mapped[int | None] = mapped_column(Integer)  # progress reported with an update
    new_deadline: Mapped[date | None] = mapped_column(Date)  # asked for or granted
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ProblemEvidence(Base):
    """A photo or document sent with a progress update or a closure request."""

    __tablename__ = "problem_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("problem_events.id"))
    platform: Mapped[str] = mapped_column(String(16))
    file_id: Mapped[str] = mapped_column(String(256))  # the platform's id, to send it again
    file_name: Mapped[str | None] = mapped_column(String(200))
    mime_type: Mapped[str | None] = mapped_column(String(100))
    local_path: Mapped[str | None] = mapped_column(String(500))  # a copy kept by the bot
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Commitment(_MemberRecord, Base):
    """一名党员一个承诺."""

    __tablename__ = "commitments"
    entity = "commitment"
    __table_args__ = (Index("ix_commitments_org", "org_id"),)

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    content: Mapped[str] = mapped_column(Text)
    kept: Mapped[bool] = mapped_column(Boolean, default=False)


class CommitmentReport(_MemberRecord, Base):
    """A report of keeping a commitment (践诺情况)."""

    __tablename__ = "commitment_reports"
    entity = "commitment_report"

    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    report_date: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    kept: Mapped[bool] = mapped_column(Boolean, default=False)


class ShuxueSchedule(Base):
    """A branch's 述学 rhythm: weekly, or every two weeks ("1+3"), and when to remind."""

    __tablename__ = "shuxue_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), unique=True)
    weekday: Mapped[int] = mapped_column(Integer, default=0)  # 0 = Monday
    time: Mapped[str] = mapped_column(String(5), default="09:00")  # local time HH:MM
    every_weeks: Mapped[int] = mapped_column(Integer, default=1)  # 1 weekly, 2 for "1+3"
    anchor: Mapped[date | None] = mapped_column(Date)  # a prompt date, for every_weeks = 2
    remind_after_days: Mapped[int] = mapped_column(Integer, default=1)
    remind_time: Mapped[str] = mapped_column(String(5), default="18:00")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class ShuxueAnswer(Base):
    """A member's 述学 for one period: 自学情况, 调研情况, 为民办实事情况."""

    __tablename__ = "shuxue_answers"
    __table_args__ = (UniqueConstraint("member_id", "period_start"),
                      Index("ix_shuxue_answers_org_period", "org_id", "period_start"))

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    period_start: Mapped[date] = mapped_column(Date)  # the day the prompt went out
    self_study: Mapped[str] = mapped_column(Text)
    research: Mapped[str] = mapped_column(Text)
    deeds: Mapped[str] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class Milestone(Base):
    """A date on the campaign calendar (读书班结束, 课题结题 …), loaded from the office's file."""

    __tablename__ = "milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    due: Mapped[date] = mapped_column(Date)
    branches: Mapped[list[str]] = mapped_column(default=list)  # empty: every branch
    roles: Mapped[list[str]] = mapped_column(default=list)  # empty: everyone
    remind_days: Mapped[list[int]] = mapped_column(JSON, default=list)  # days before; 0 = the day


class Campaign(Base):
    """The campaign's own dates, from the office's calendar file (at most one row): 全程 starts at
    ``start``; ``reading_class_days`` is the 读书班's target (000: "不少于 7 天")."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(100))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date)
    reading_class_days: Mapped[int | None] = mapped_column(Integer)


class Holiday(Base):
    """A day off the office's calendar adds to the statutory ones (``handlers.calendar.workdays``)."""

    __tablename__ = "holidays"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    name: Mapped[str] = mapped_column(String(50))


class Leave(Base):
    """A member away (请假/出差): no reminders until ``until`` (inclusive)."""

    __tablename__ = "leaves"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    start: Mapped[date] = mapped_column(Date)
    until: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Pairing(Base):
    """A cadre paired with a village or community (结对居村), to be visited every half month."""

    __tablename__ = "pairings"
    __table_args__ = (UniqueConstraint("member_id", "place"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    place: Mapped[str] = mapped_column(String(100))


class OutboxStatus(str, enum.Enum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # rejected for good (blocked, chat gone) or out of attempts


class OutboxMessage(Base):
    """Everything the bot sends on its own. ``key`` (what, to whom, which occurrence) is unique,
    so a message planned twice is stored once and sent once."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),
                      Index("ix_outbox_chat_sent", "platform", "chat_id", "sent_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    is_group: Mapped[bool] = mapped_column(Boolean, default=False)
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)  # text and buttons
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(OutboxStatus, native_enum=False, length=16), default=OutboxStatus.pending)
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    # When a deliverer took it for sending; cleared once it writes the outcome. Set, the message
    # may have reached the platform already (its sender killed before marking it sent).
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)


class DialogState(Base):
    """Where a user is in a guided dialog. Lives here, not in memory, so restarts lose nothing."""

    __tablename__ = "dialog_states"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(64))
    dialog: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    nonce: Mapped[str] = mapped_column(String(8))
    expires_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The buttons of the newest message the member was answered with, as typing selects them
    # (handlers.core.selectors): a second process and a restart see the same choices.
    offered: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)


class HandledEvent(Base):
    """Platform events already handled, so one delivered twice (after a crash) is handled once;
    and the inbox: an update a webhook acknowledged, stored with its payload before the answer
    and handled later by whichever worker (``handled_at`` NULL until then)."""

    __tablename__ = "handled_events"
    __table_args__ = (UniqueConstraint("platform", "event_id"),
                      Index("ix_handled_events_pending", "platform", "user_id", "id",
                            postgresql_where=text("handled_at IS NULL"),
                            sqlite_where=text("handled_at IS NULL")))

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[str | None] = mapped_column(String(64))  # whose update (the inbox's order)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    handled_at: Mapped[datetime | None] = mapped_column(default=None)


class AuditLog(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class StoredFileRecord(Base):
    """A file kept in the file store (``storage.files``), once per content."""

    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    mime: Mapped[str] = mapped_column(String(100))  # detected from the content
    store_key: Mapped[str] = mapped_column(String(200))  # ab/cd/<sha256>
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AttachmentOwner(str, enum.Enum):
    """What a file a member sent belongs to."""

    problem_evidence = "problem_evidence"  # a ProblemEvidence row (progress, closure request)
    meeting_record = "meeting_record"  # a Meeting's 记录 (minutes, photos)


class DownloadStatus(str, enum.Enum):
    pending = "pending"  # not downloaded yet, or to be tried again (attempts, last_error say why)
    stored = "stored"  # in the file store: stored_file_id
    failed = "failed"  # given up: refused by the limits, gone at the platform, out of attempts


class Attachment(Base):
    """A file a member sent, as the platform named it, and its download into the file store.

    Recorded at receipt with the platform's file id (which expires: WeCom's media after 3 days,
    Telegram's works only for the same bot), then downloaded, again and again with a growing
    pause until it is stored or given up (``storage.files.downloads``)."""

    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_owner", "owner_kind", "owner_id"),
        Index("ix_attachments_due", "status", "next_attempt_at"),
        CheckConstraint("status <> 'stored' OR stored_file_id IS NOT NULL", name="stored_has_file"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_kind: Mapped[AttachmentOwner] = mapped_column(
        Enum(AttachmentOwner, native_enum=False, length=32))
    owner_id: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)  # the sender
    platform: Mapped[str] = mapped_column(String(16))
    platform_file_id: Mapped[str] = mapped_column(String(256))
    original_name: Mapped[str | None] = mapped_column(String(FILE_NAME_MAX_CHARS))  # sanitized
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[DownloadStatus] = mapped_column(
        Enum(DownloadStatus, native_enum=False, length=16), default=DownloadStatus.pending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)  # due; a claim's lease end
    stored_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"), index=True)
    stored_at: Mapped[datetime | None] = mapped_column(default=None)


class AccountKind(str, enum.Enum):
    """A platform account a roster row may carry (``branchbot member import``), as the platform
    authenticates it; values are stored normalized (``handlers.membership.accounts``)."""

    wecom = "wecom"  # 企业微信 userid, lowercase
    telegram = "telegram"  # Telegram's numeric user id
    telegram_username = "telegram_username"  # @username, lowercase, without the @
    phone = "phone"  # a mobile number, +<country><number>
    dingtalk = "dingtalk"  # 钉钉 userid (the Stream's senderStaffId), as DingTalk sends it
    feishu = "feishu"  # 飞书 user_id (tenant-wide, the console's 用户ID), as Feishu sends it


class MemberAccount(Base):
    """A roster row's platform account: a join whose authenticated account matches binds to the
    row at once. An account belongs to one member at most."""

    __tablename__ = "member_accounts"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    kind: Mapped[AccountKind] = mapped_column(Enum(AccountKind, native_enum=False, length=24))
    value: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JoinStatus(str, enum.Enum):
    pending = "pending"  # waiting for the secretary (or the office)
    approved = "approved"
    rejected = "rejected"
    superseded = "superseded"  # no longer applies: the row or the identity was bound otherwise


class JoinRequest(Base):
    """Someone asking to join a branch, as a roster row (``member_id``) or, with a name not on the
    roster, as a new 党员 (``member_id`` None). The identity gets no role until it is approved."""

    __tablename__ = "join_requests"
    __table_args__ = (
        # one open request per platform account (SQLite and PostgreSQL alike: a partial index)
        Index("uq_join_requests_pending", "platform", "platform_user_id", unique=True,
              sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
        Index("ix_join_requests_org_status", "org_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    name: Mapped[str] = mapped_column(String(50))  # the name the person gave
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(100))  # the platform's, when asked
    username: Mapped[str | None] = mapped_column(String(64))  # the platform's, when asked
    status: Mapped[JoinStatus] = mapped_column(
        Enum(JoinStatus, native_enum=False, length=16), default=JoinStatus.pending)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))  # None: the CLI
