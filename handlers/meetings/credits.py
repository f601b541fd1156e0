"""Keeping a meeting's credits in step with it."""

from __future__ import annotations

from handlers.core.context import Context
from handlers.meetings.rules import credits_hours, duration, form_of
from storage.models import Meeting
from storage.repositories.meetings import Credits, MeetingRepository


async def refresh(ctx: Context, meeting: Meeting) -> Credits:
    """Sync the credits to the meeting as it now is (attendance, form, date, duration, and
    whether it credits hours at all)."""
    assert ctx.member is not None
    return await MeetingRepository(ctx.session).sync_credits(
        meeting, form_of(meeting.kind), duration(meeting), ctx.member,
        credited=credits_hours(meeting.kind, meeting.study_item))
