"""What a recorded meeting tells people privately, through the outbox (after quiet hours):
attendees their credit, absentees the make-up (both only for a meeting that credits study hours),
the branch's secretaries an incomplete record.

Keys name the meeting, the person and what changed (the credited minutes, the missing items), so
pressing 完成 again or saving an edit that changed nothing sends nothing twice.
"""

from __future__ import annotations

from datetime import timedelta

from handlers.core.context import Context
from handlers.core.events import Button, payload
from handlers.core.formats import month_day
from handlers.meetings.rules import MAKEUP_DAYS, credits_hours, duration, missing_musts
from handlers.meetings.views import headline
from handlers.schedule.times import after_quiet_hours
from storage.models import Meeting
from storage.repositories.meetings import MeetingRepository
from storage.repositories.outbox import OutboxRepository, Planned
from storage.repositories.recipients import RecipientRepository


async def _chats(ctx: Context, member_ids: list[int]) -> dict[int, tuple[str, str, int]]:
    """member id → (platform, private chat id there, org id)."""
    found = await RecipientRepository(ctx.session).find(ctx.platforms, members=member_ids)
    return {r.member_id: (r.platform, r.chat_id, r.org_id) for r in found}


async def announce(ctx: Context, meeting: Meeting) -> int:
    """Queue the credit notes, the make-up requests and the 四必有 flag; returns how many are new."""
    assert ctx.member is not None
    repo = MeetingRepository(ctx.session)
    seats = await repo.seats(meeting.id)
    secretaries = [r.member_id for r in await RecipientRepository(ctx.session).find(
        ctx.platforms, secretaries_of=meeting.org_id, exclude=ctx.member.id)]
    chats = await _chats(ctx, [s.member_id for s in seats] + secretaries)
    send_at = after_quiet_hours(ctx.now, ctx.config.tz, ctx.config.quiet_start, ctx.config.quiet_end)
    minutes = duration(meeting)
    what = headline(meeting)
    planned: list[Planned] = []

    def add(key: str, member_id: int, text: str, button: Button | None = None) -> None:
        if member_id in chats:
            platform, chat, org_id = chats[member_id]
            planned.append(Planned(key, "meeting", platform, chat,
                                   payload(text, ((button,),) if button else ()), send_at, False,
                                   org_id, member_id))

    merged = await repo.adopted_by(meeting)
    for seat in seats if credits_hours(meeting.kind, meeting.study_item) else ():
        if seat.present:
            note = "meeting.note_merged" if seat.member_id in merged else "meeting.note_credit"
            add(f"meeting_credit:{meeting.id}:{seat.member_id}:{minutes}", seat.member_id,
                ctx.t(note, meeting=what, hours=minutes / 60),
                Button(ctx.t("meeting.dispute_button"), start="meeting"))
        else:
            due = meeting.day + timedelta(days=MAKEUP_DAYS)
            add(f"makeup_ask:{meeting.id}:{seat.member_id}", seat.member_id,
                ctx.t("meeting.note_makeup", meeting=what, due=month_day(due)),
                Button(ctx.t("meeting.makeup_button"), start="study"))
    missing = missing_musts(ctx.t, meeting)
    if missing:
        for secretary in secretaries:
            add(f"meeting_musts:{meeting.id}:{secretary}:{'、'.join(missing)}", secretary,
                ctx.t("meeting.note_musts", meeting=what, missing="、".join(missing)))
    added = await OutboxRepository(ctx.session).enqueue(planned)
    ctx.enqueued = ctx.enqueued or added > 0
    return added


async def tell_removed(ctx: Context, meeting: Meeting, member_ids: list[int],
                       why: str = "meeting.note_removed") -> None:
    """Members whose credit went with a deleted meeting (``why``: or with an edit)."""
    chats = await _chats(ctx, member_ids)
    send_at = after_quiet_hours(ctx.now, ctx.config.tz, ctx.config.quiet_start, ctx.config.quiet_end)
    planned = [Planned(f"meeting_removed:{meeting.id}:{member_id}:{ctx.now.isoformat()}", "meeting",
                       platform, chat, payload(ctx.t(why, meeting=headline(meeting))),
                       send_at, False, org_id, member_id)
               for member_id, (platform, chat, org_id) in chats.items()]
    added = await OutboxRepository(ctx.session).enqueue(planned)
    ctx.enqueued = ctx.enqueued or added > 0
