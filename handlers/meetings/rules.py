"""The rules of a meeting record: its type (``storage.vocabulary.MEETING_TYPES``: whom it expects,
the study form it credits, whether it credits hours), its duration, 四必有, who records it."""

from __future__ import annotations

import re

from handlers.core.i18n import Translator
from handlers.core.parsing import InvalidInput, normalize
from handlers.core.policy import sees_every_branch
from storage.models import Meeting, Member, Role
from storage.vocabulary import MEETING_TYPE, MeetingType

ABSENCE_REASONS: tuple[str, ...] = ("公差", "病假", "事假", "产假", "其他原因")
QUICK_TIMES: tuple[str, ...] = ("09:00-11:00", "14:30-16:30", "15:00-17:00")
MAKEUP_DAYS = 7  # absentees make up within this many days of the meeting
MAKEUP_NUDGE_LEFT = 2  # …and hear once more this many days before that ends
RECORDERS = (Role.secretary, Role.committee, Role.office)

_CLOCK = re.compile(r"^(上午|早上|中午|下午|晚上)?(\d{1,2})(?:[:点时](\d{2}|半)?分?)?$")
_SEPARATOR = re.compile(r"-|~|至|到|—")


def type_of(kind: str) -> MeetingType:
    """The rules of a meeting kind (a kind no longer in the table reads as 集中学习)."""
    return MEETING_TYPE.get(kind) or MEETING_TYPE["集中学习"]


def form_of(kind: str) -> str:
    """The 学习形式 a meeting of ``kind`` credits its attendees with."""
    return type_of(kind).form


def credits_hours(kind: str, study_item: str | None) -> bool:
    """Whether a meeting credits its attendees' study hours: its type always does, or it had a
    study item (学习内容 / 第一议题). The same rule as ``storage.repositories.meetings.CREDITED``."""
    return type_of(kind).credits_always or bool(study_item)


def _clock(text: str, afternoon: bool) -> tuple[int, int, bool]:
    """"14:30", "2点半", "下午2点" → (hour, minute, afternoon); a bare hour after an afternoon
    start is in the afternoon too ("下午2点到4点")."""
    match = _CLOCK.match(text)
    if match is None:
        raise InvalidInput("meeting.bad_time")
    part, hour, minute = match.groups()
    afternoon = part in ("中午", "下午", "晚上") if part else afternoon
    hour = int(hour) + (12 if afternoon and int(hour) < 12 else 0)
    return hour, 30 if minute == "半" else int(minute or 0), afternoon


def parse_time_range(text: str) -> tuple[str, str]:
    """"14:30-16:30", "14：30至16：30", "下午2点半到4点" → ("14:30", "16:30"); the end after the start."""
    parts = [p for p in _SEPARATOR.split(normalize(text).replace(" ", "")) if p]
    if len(parts) != 2:
        raise InvalidInput("meeting.bad_time")
    h1, m1, afternoon = _clock(parts[0], False)
    h2, m2, _ = _clock(parts[1], afternoon)
    if not (h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60) or (h2, m2) <= (h1, m1):
        raise InvalidInput("meeting.bad_time")
    return f"{h1:02d}:{m1:02d}", f"{h2:02d}:{m2:02d}"


def span_minutes(starts: str, ends: str) -> int:
    (h1, m1), (h2, m2) = (map(int, starts.split(":")), map(int, ends.split(":")))
    return (h2 * 60 + m2) - (h1 * 60 + m1)


def duration(meeting: Meeting) -> int:
    """The meeting's minutes, from its start and end (0 without them)."""
    if not (meeting.starts and meeting.ends):
        return 0
    return span_minutes(meeting.starts, meeting.ends)


def missing_of(t: Translator, *, timed: bool, topic: bool, procedure: bool,
               record: bool) -> list[str]:
    """The 四必有 (a time, a topic, a procedure, a record) that are not there, as labels."""
    checks = (("meeting.must_time", timed), ("meeting.must_topic", topic),
              ("meeting.must_procedure", procedure), ("meeting.must_record", record))
    return [t(key) for key, present in checks if not present]


def missing_musts(t: Translator, meeting: Meeting) -> list[str]:
    """What the record lacks of the 四必有, as labels."""
    return missing_of(t, timed=bool(meeting.starts and meeting.ends), topic=bool(meeting.topic),
                      procedure=bool(meeting.procedure),
                      record=bool(meeting.record_text or meeting.record_file_id))


def musts_line(t: Translator, missing: list[str]) -> str:
    return t("meeting.musts_ok") if not missing else t("meeting.musts_missing",
                                                       missing="、".join(missing))


def musts_text(t: Translator, meeting: Meeting) -> str:
    return musts_line(t, missing_musts(t, meeting))


def can_record(member: Member | None) -> bool:
    return member is not None and member.role in RECORDERS


def can_record_for(member: Member, org_id: int) -> bool:
    """The branch's secretaries and committee members, and the office, record its meetings."""
    return sees_every_branch(member) or (member.role in RECORDERS and member.org_id == org_id)


def can_manage(member: Member, meeting: Meeting) -> bool:
    return can_record_for(member, meeting.org_id)
