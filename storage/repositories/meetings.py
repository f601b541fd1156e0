"""Meetings (组织生活), their attendance, and the study credits derived from them.

A credit is a ``StudyRecord`` with ``meeting_id`` set. ``sync_credits`` makes the credits match
the meeting and its attendance (one per present attendee, of the meeting's form, date and
duration), so editing or deleting the meeting moves them with it. Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Meeting, MeetingAttendance, Member, StudyRecord
from storage.repositories.records import add_audit, snapshot
from storage.types import utcnow


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

    async def create(self, actor: Member, org_id: int, values: dict[str, Any]) -> Meeting:
        """The meeting, with every active member of the branch listed as present."""
        meeting = Meeting(org_id=org_id, created_by_id=actor.id, **values)
        self.session.add(meeting)
        await self.session.flush()
        members = await self.session.scalars(
            select(Member.id).where(Member.org_id == org_id, Member.active).order_by(Member.id))
        self.session.add_all(MeetingAttendance(meeting_id=meeting.id, member_id=m, present=True,
                                               guest=False) for m in members)
        await self.session.flush()
        add_audit(self.session, actor, "create", Meeting.entity, meeting.id, None, snapshot(meeting))
        return meeting

    async def get(self, meeting_id: int) -> Meeting | None:
        return await self.session.scalar(
            select(Meeting).where(Meeting.id == meeting_id, Meeting.deleted_at.is_(None)))

    async def update(self, meeting: Meeting, values: dict[str, Any], actor: Member) -> None:
        before = snapshot(meeting)
        for key, value in values.items():
            setattr(meeting, key, value)
        await self.session.flush()
        if (after := snapshot(meeting)) != before:
            add_audit(self.session, actor, "update", Meeting.entity, meeting.id, before, after)

    async def delete(self, meeting: Meeting, actor: Member) -> None:
        add_audit(self.session, actor, "delete", Meeting.entity, meeting.id, snapshot(meeting), None)
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
        add_audit(self.session, actor, "attendance", Meeting.entity, meeting.id, before,
                    {"member_id": member_id, "present": present, "reason": seat.absence_reason})
        await self.session.flush()

    async def add_guest(self, meeting: Meeting, member_id: int, actor: Member) -> bool:
        if await self._seat(meeting.id, member_id) is not None:
            return False
        self.session.add(MeetingAttendance(meeting_id=meeting.id, member_id=member_id,
                                           present=True, guest=True))
        add_audit(self.session, actor, "guest", Meeting.entity, meeting.id, None,
                  {"member_id": member_id})
        await self.session.flush()
        return True

    async def remove_guest(self, meeting: Meeting, member_id: int, actor: Member) -> None:
        await self.session.execute(delete(MeetingAttendance).where(
            MeetingAttendance.meeting_id == meeting.id, MeetingAttendance.member_id == member_id,
            MeetingAttendance.guest))
        add_audit(self.session, actor, "guest_removed", Meeting.entity, meeting.id,
                  {"member_id": member_id}, None)
        await self.session.flush()

    async def _seat(self, meeting_id: int, member_id: int) -> MeetingAttendance | None:
        return await self.session.scalar(select(MeetingAttendance).where(
            MeetingAttendance.meeting_id == meeting_id, MeetingAttendance.member_id == member_id))

    async def sync_credits(self, meeting: Meeting, form: str, minutes: int, actor: Member) -> Credits:
        """Make the meeting's credits match it: one per present attendee (none once deleted).

        A present attendee who already logged the same session by hand (same day, same form, not
        linked to any meeting) has that record linked instead of a second one created, so their
        totals never count the session twice.
        """
        done = Credits()
        present = {} if meeting.deleted_at is not None else {
            s.member_id: s.org_id for s in await self.seats(meeting.id) if s.present}
        want = {"form": form, "study_date": meeting.day, "minutes": minutes}
        for credit in await self.session.scalars(select(StudyRecord).where(
                StudyRecord.meeting_id == meeting.id, StudyRecord.deleted_at.is_(None))):
            if present.pop(credit.member_id, None) is None:
                add_audit(self.session, actor, "delete", StudyRecord.entity, credit.id, snapshot(credit), None)
                credit.deleted_at = utcnow()
                done.removed.append(credit.member_id)
            elif self._apply(credit, want, actor):
                done.changed.append(credit.member_id)
        for member_id, org_id in present.items():
            hand = await self.hand_logged(member_id, meeting.day, form)
            if hand is not None:
                self._apply(hand, {**want, "meeting_id": meeting.id}, actor)
                done.adopted.append(member_id)
                continue
            credit = StudyRecord(member_id=member_id, org_id=org_id, meeting_id=meeting.id,
                                 content=(meeting.topic or meeting.kind)[:200], **want)
            self.session.add(credit)
            await self.session.flush()
            add_audit(self.session, actor, "create", StudyRecord.entity, credit.id, None, snapshot(credit))
            done.created.append(member_id)
        await self.session.flush()
        return done

    def _apply(self, record: StudyRecord, values: dict[str, Any], actor: Member) -> bool:
        before = snapshot(record)
        for key, value in values.items():
            setattr(record, key, value)
        after = {**before, **{k: v.isoformat() if isinstance(v, date) else v
                              for k, v in values.items()}}
        if after == before:
            return False
        add_audit(self.session, actor, "update", StudyRecord.entity, record.id, before, after)
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
        return await self.session.scalar(select(StudyRecord).where(
            StudyRecord.member_id == member_id, StudyRecord.study_date == day,
            StudyRecord.form == form, StudyRecord.meeting_id.is_not(None),
            StudyRecord.deleted_at.is_(None)).limit(1))

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
        """Meetings the member missed and has not made up yet, oldest first."""
        made = select(StudyRecord.makeup_for_id).where(
            StudyRecord.member_id == member_id, StudyRecord.makeup_for_id.is_not(None),
            StudyRecord.deleted_at.is_(None))
        return list(await self.session.scalars(
            select(Meeting).join(MeetingAttendance, MeetingAttendance.meeting_id == Meeting.id)
            .where(MeetingAttendance.member_id == member_id, MeetingAttendance.present.is_(False),
                   Meeting.deleted_at.is_(None), Meeting.id.not_in(made))
            .order_by(Meeting.day, Meeting.id)))

    async def absentees_since(self, day: date) -> list[tuple[Meeting, int]]:
        """(meeting, member id) of every absence from a meeting held on or after ``day`` that has
        not been made up."""
        made = select(StudyRecord.id).where(
            StudyRecord.makeup_for_id == Meeting.id,
            StudyRecord.member_id == MeetingAttendance.member_id, StudyRecord.deleted_at.is_(None))
        rows = await self.session.execute(
            select(Meeting, MeetingAttendance.member_id)
            .join(MeetingAttendance, MeetingAttendance.meeting_id == Meeting.id)
            .where(Meeting.day >= day, Meeting.deleted_at.is_(None),
                   MeetingAttendance.present.is_(False), ~made.exists()))
        return list(rows.tuples())
