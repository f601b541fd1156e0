"""Meetings (组织生活), their attendance, and the study credits derived from them.

A meeting's seats are whom its type expects (应到: the branch, its committee or one 党小组,
``storage.vocabulary.MEETING_TYPES``), each present or absent with a reason, plus guests (列席),
who are present and never part of 应到. A credit is a ``StudyRecord`` with ``meeting_id`` set.
``sync_credits`` makes the credits match the meeting and its attendance (one per present
attendee, of the meeting's form, date and duration; none when the meeting credits no hours), so
editing or deleting the meeting moves them with it. Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Meeting, MeetingAttendance, Member, Role, StudyRecord
from storage.prepared import PreparedQuery, columns_of, loaded, one_of
from storage.repositories.records import add_audit, snapshot
from storage.types import utcnow
from storage.vocabulary import (
    CREDITS_ALWAYS_KINDS,
    CREDITS_WITH_STUDY_KINDS,
    Attendance,
)

# The meeting credits its attendees' study hours: its type always does, or it had a study item
# (the same rule as ``handlers.meetings.rules.credits_hours``, here as SQL for the queries).
CREDITED: ColumnElement[bool] = or_(
    one_of(Meeting.kind, CREDITS_ALWAYS_KINDS),
    and_(one_of(Meeting.kind, CREDITS_WITH_STUDY_KINDS), Meeting.study_item.is_not(None),
         Meeting.study_item != ""))
COMMITTEE = (Role.secretary, Role.committee)  # a 支委会's members

# Built once: every /study runs the first, every study record saved by hand the second.
_MADE_UP = select(StudyRecord.makeup_for_id).where(
    StudyRecord.member_id == bindparam("member_id"), StudyRecord.makeup_for_id.is_not(None),
    StudyRecord.deleted_at.is_(None))
_PENDING_MAKEUPS = PreparedQuery(
    select(*columns_of(Meeting)).join(MeetingAttendance, MeetingAttendance.meeting_id == Meeting.id)
    .where(MeetingAttendance.member_id == bindparam("member_id"), MeetingAttendance.present.is_(False),
           Meeting.deleted_at.is_(None), CREDITED, Meeting.id.not_in(_MADE_UP))
    .order_by(Meeting.day, Meeting.id), ("member_id",))
_CREDIT_ON = PreparedQuery(select(*columns_of(StudyRecord)).where(
    StudyRecord.member_id == bindparam("member_id"), StudyRecord.study_date == bindparam("day"),
    StudyRecord.form == bindparam("form"), StudyRecord.meeting_id.is_not(None),
    StudyRecord.deleted_at.is_(None)).limit(1), ("member_id", "day", "form"))


@dataclass
class Credits:
    """What one sync did, by member id."""

    created: list[int] = field(default_factory=list)
    adopted: list[int] = field(default_factory=list)  # a hand-logged record became the credit
    changed: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Seat:
    """One line of the attendance list."""

    member_id: int
    name: str
    org_id: int
    present: bool
    reason: str | None
    guest: bool


class MeetingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def expected(self, org_id: int, attendance: Attendance,
                       party_group: str | None = None) -> list[Member]:
        """Whom a meeting expects (应到), in roster order: the branch's active members,
        its secretaries and 支委, or the members of ``party_group``."""
        where = [Member.org_id == org_id, Member.active]
        if attendance is Attendance.committee:
            where.append(Member.role.in_(COMMITTEE))
        elif attendance is Attendance.party_group:
            where.append(Member.party_group == (party_group or ""))
        return list(await self.session.scalars(select(Member).where(*where).order_by(Member.id)))

    async def party_groups(self, org_id: int) -> list[str]:
        """The branch's 党小组 (the roster's column), in the order they first appear."""
        rows = await self.session.execute(
            select(Member.party_group, Member.id).where(
                Member.org_id == org_id, Member.active, Member.party_group.is_not(None),
                Member.party_group != "").order_by(Member.id))
        return list(dict.fromkeys(group for group, _ in rows.tuples()))

    async def create(self, actor: Member, org_id: int, values: dict[str, Any],
                     expected: list[int]) -> Meeting:
        """The meeting, with the members it expects (``expected``) listed as present."""
        meeting = Meeting(org_id=org_id, created_by_id=actor.id, **values)
        self.session.add(meeting)
        await self.session.flush()
        self.session.add_all(MeetingAttendance(meeting_id=meeting.id, member_id=m, present=True,
                                               guest=False) for m in expected)
        await self.session.flush()
        await add_audit(self.session, actor, "create", Meeting.entity, meeting.id, None, snapshot(meeting))
        return meeting

    async def reseat(self, meeting: Meeting, expected: list[int], actor: Member) -> bool:
        """Make the expected seats (应到) ``expected`` after the meeting's type or 党小组 changed:
        those still expected keep their presence, a guest now expected becomes expected, new ones
        are present, the others leave the list. Guests stay. Whether anything changed."""
        want = set(expected)
        seats = {a.member_id: a for a in await self.session.scalars(
            select(MeetingAttendance).where(MeetingAttendance.meeting_id == meeting.id))}
        gone = [m for m, a in seats.items() if not a.guest and m not in want]
        joined = [m for m in expected if m not in seats or seats[m].guest]
        if not gone and not joined:
            return False
        for member_id in gone:
            await self.session.delete(seats[member_id])
        for member_id in joined:
            if member_id in seats:
                seats[member_id].guest = False
            else:
                self.session.add(MeetingAttendance(meeting_id=meeting.id, member_id=member_id,
                                                   present=True, guest=False))
        await add_audit(self.session, actor, "reseat", Meeting.entity, meeting.id,
                        {"left": gone}, {"joined": joined})
        await self.session.flush()
        return True

    async def get(self, meeting_id: int) -> Meeting | None:
        return await self.session.scalar(
            select(Meeting).where(Meeting.id == meeting_id, Meeting.deleted_at.is_(None)))

    async def update(self, meeting: Meeting, values: dict[str, Any], actor: Member) -> None:
        before = snapshot(meeting)
        for key, value in values.items():
            setattr(meeting, key, value)
        await self.session.flush()
        if (after := snapshot(meeting)) != before:
            await add_audit(self.session, actor, "update", Meeting.entity, meeting.id, before, after)

    async def delete(self, meeting: Meeting, actor: Member) -> None:
        await add_audit(self.session, actor, "delete", Meeting.entity, meeting.id, snapshot(meeting), None)
        meeting.deleted_at = utcnow()
        await self.session.flush()

    async def recent(self, org_id: int | None, limit: int = 10) -> list[Meeting]:
        """The newest meetings of a branch (None: of every branch)."""
        query = select(Meeting).where(Meeting.deleted_at.is_(None))
        if org_id is not None:
            query = query.where(Meeting.org_id == org_id)
        return list(await self.session.scalars(
            query.order_by(Meeting.day.desc(), Meeting.id.desc()).limit(limit)))

    async def overlapping(self, org_id: int, day: date, starts: str, ends: str,
                          other_than: int | None) -> Meeting | None:
        """Another meeting of the branch that day whose time overlaps [starts, ends) (times are
        zero-padded HH:MM, so they compare as text)."""
        return await self.session.scalar(select(Meeting).where(
            Meeting.org_id == org_id, Meeting.day == day, Meeting.deleted_at.is_(None),
            Meeting.id != (other_than or 0), Meeting.starts < ends, Meeting.ends > starts)
            .order_by(Meeting.id).limit(1))

    async def seats(self, meeting_id: int) -> list[Seat]:
        rows = await self.session.execute(
            select(MeetingAttendance, Member.name, Member.org_id)
            .join(Member, Member.id == MeetingAttendance.member_id)
            .where(MeetingAttendance.meeting_id == meeting_id)
            .order_by(MeetingAttendance.guest, Member.id))
        return [Seat(a.member_id, name, org_id, a.present, a.absence_reason, a.guest)
                for a, name, org_id in rows.tuples()]

    async def set_presence(self, meeting: Meeting, member_id: int, present: bool,
                           reason: str | None, actor: Member) -> None:
        seat = await self._seat(meeting.id, member_id)
        if seat is None:
            return
        before = {"member_id": member_id, "present": seat.present, "reason": seat.absence_reason}
        seat.present, seat.absence_reason = present, None if present else reason
        await add_audit(self.session, actor, "attendance", Meeting.entity, meeting.id, before,
                    {"member_id": member_id, "present": present, "reason": seat.absence_reason})
        await self.session.flush()

    async def add_guest(self, meeting: Meeting, member_id: int, actor: Member) -> bool:
        if await self._seat(meeting.id, member_id) is not None:
            return False
        self.session.add(MeetingAttendance(meeting_id=meeting.id, member_id=member_id,
                                           present=True, guest=True))
        await add_audit(self.session, actor, "guest", Meeting.entity, meeting.id, None,
                        {"member_id": member_id})
        await self.session.flush()
        return True

    async def remove_guest(self, meeting: Meeting, member_id: int, actor: Member) -> None:
        await self.session.execute(delete(MeetingAttendance).where(
            MeetingAttendance.meeting_id == meeting.id, MeetingAttendance.member_id == member_id,
            MeetingAttendance.guest))
        await add_audit(self.session, actor, "guest_removed", Meeting.entity, meeting.id,
                        {"member_id": member_id}, None)
        await self.session.flush()

    async def _seat(self, meeting_id: int, member_id: int) -> MeetingAttendance | None:
        return await self.session.scalar(select(MeetingAttendance).where(
            MeetingAttendance.meeting_id == meeting_id, MeetingAttendance.member_id == member_id))

    async def sync_credits(self, meeting: Meeting, form: str, minutes: int, actor: Member, *,
                           credited: bool = True) -> Credits:
        """Make the meeting's credits match it: one per present attendee (none once deleted, none
        when it is not ``credited``: a 支委会 with no study item).

        A present attendee who already logged the same session by hand (same day, same form, not
        linked to any meeting) has that record linked instead of a second one created, so their
        totals never count the session twice.
        """
        done = Credits()
        present = {} if meeting.deleted_at is not None or not credited else {
            s.member_id: s.org_id for s in await self.seats(meeting.id) if s.present}
        want = {"form": form, "study_date": meeting.day, "minutes": minutes}
        content = (meeting.study_item or meeting.topic or meeting.kind)[:200]
        for credit in await self.session.scalars(select(StudyRecord).where(
                StudyRecord.meeting_id == meeting.id, StudyRecord.deleted_at.is_(None))):
            if present.pop(credit.member_id, None) is None:
                await add_audit(self.session, actor, "delete", StudyRecord.entity, credit.id, snapshot(credit), None)
                credit.deleted_at = utcnow()
                done.removed.append(credit.member_id)
            elif await self._apply(credit, want, actor):
                done.changed.append(credit.member_id)
        for member_id, org_id in present.items():
            hand = await self.hand_logged(member_id, meeting.day, form)
            if hand is not None:
                await self._apply(hand, {**want, "meeting_id": meeting.id}, actor)
                done.adopted.append(member_id)
                continue
            credit = StudyRecord(member_id=member_id, org_id=org_id, meeting_id=meeting.id,
                                 content=content, **want)
            self.session.add(credit)
            await self.session.flush()
            await add_audit(self.session, actor, "create", StudyRecord.entity, credit.id, None, snapshot(credit))
            done.created.append(member_id)
        await self.session.flush()
        return done

    async def _apply(self, record: StudyRecord, values: dict[str, Any], actor: Member) -> bool:
        before = snapshot(record)
        for key, value in values.items():
            setattr(record, key, value)
        after = {**before, **{k: v.isoformat() if isinstance(v, date) else v
                              for k, v in values.items()}}
        if after == before:
            return False
        await add_audit(self.session, actor, "update", StudyRecord.entity, record.id, before, after)
        return True

    async def adopted_by(self, meeting: Meeting) -> set[int]:
        """The members whose credit for ``meeting`` is a record they logged by hand (older than
        the meeting), linked in its place."""
        return set(await self.session.scalars(select(StudyRecord.member_id).where(
            StudyRecord.meeting_id == meeting.id, StudyRecord.deleted_at.is_(None),
            StudyRecord.created_at < meeting.created_at)))

    async def hand_logged(self, member_id: int, day: date, form: str) -> StudyRecord | None:
        """A study record the member logged themselves for that day and form (not a make-up)."""
        return await self.session.scalar(select(StudyRecord).where(
            StudyRecord.member_id == member_id, StudyRecord.study_date == day,
            StudyRecord.form == form, StudyRecord.meeting_id.is_(None),
            StudyRecord.makeup_for_id.is_(None), StudyRecord.deleted_at.is_(None)).limit(1))

    async def credit_on(self, member_id: int, day: date, form: str) -> StudyRecord | None:
        """The member's meeting credit for that day and form, if any."""
        row = await _CREDIT_ON.first(self.session, {"member_id": member_id, "day": day, "form": form})
        return None if row is None else loaded(self.session, StudyRecord, row)

    async def attended(self, member_id: int, limit: int = 10) -> list[tuple[Meeting, int]]:
        """The meetings the member is credited for, newest first, with the credited minutes."""
        rows = await self.session.execute(
            select(Meeting, StudyRecord.minutes).join(StudyRecord, StudyRecord.meeting_id == Meeting.id)
            .where(StudyRecord.member_id == member_id, StudyRecord.deleted_at.is_(None),
                   Meeting.deleted_at.is_(None))
            .order_by(Meeting.day.desc(), Meeting.id.desc()).limit(limit))
        return list(rows.tuples())

    async def made_up(self, meeting_id: int) -> set[int]:
        """Members who logged a make-up (补课补学) for the meeting."""
        return set(await self.session.scalars(select(StudyRecord.member_id).where(
            StudyRecord.makeup_for_id == meeting_id, StudyRecord.deleted_at.is_(None))))

    async def pending_makeups(self, member_id: int) -> list[Meeting]:
        """Meetings the member missed and has not made up yet, oldest first (only meetings that
        credit study hours: missing a 支委会 with no study item leaves nothing to make up)."""
        rows = await _PENDING_MAKEUPS.all(self.session, {"member_id": member_id})
        return [loaded(self.session, Meeting, row) for row in rows]

    async def absentees_since(self, day: date) -> list[tuple[Meeting, int]]:
        """(meeting, member id) of every absence from a meeting held on or after ``day`` that
        credits study hours and has not been made up."""
        made = select(StudyRecord.id).where(
            StudyRecord.makeup_for_id == Meeting.id,
            StudyRecord.member_id == MeetingAttendance.member_id, StudyRecord.deleted_at.is_(None))
        rows = await self.session.execute(
            select(Meeting, MeetingAttendance.member_id)
            .join(MeetingAttendance, MeetingAttendance.meeting_id == Meeting.id)
            .where(Meeting.day >= day, Meeting.deleted_at.is_(None), CREDITED,
                   MeetingAttendance.present.is_(False), ~made.exists()))
        return list(rows.tuples())
