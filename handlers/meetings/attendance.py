"""The attendance board of a meeting: everyone listed present, a tap marks a member absent (with a
reason) or present again, guests from other branches can be added (联组学习), 完成 tells people.

Each tap is written at once and the credits follow it, so the board always shows what is stored.
"""

from __future__ import annotations

from typing import Any

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.i18n import Translator
from handlers.core.parsing import clean_text
from handlers.dialogs import engine
from handlers.dialogs.engine import Choice, Dialog, Step, prepared
from handlers.meetings.credits import refresh
from handlers.meetings.notify import announce
from handlers.meetings.rules import ABSENCE_REASONS, can_manage, musts_text
from handlers.meetings.views import headline
from storage.models import Meeting
from storage.repositories.meetings import MeetingRepository, Seat
from storage.repositories.members import MemberRepository
from storage.repositories.orgs import OrgRepository

MEETING_ID = "meeting_id"


def _label(seat: Seat, t: Translator) -> str:
    if seat.present:
        return t("meeting.seat_present", name=seat.name)
    return t("meeting.seat_absent", name=seat.name, reason=seat.reason or "")


async def _meeting(ctx: Context, meeting_id: int) -> Meeting | None:
    meeting = await MeetingRepository(ctx.session).get(meeting_id)
    if meeting is None or ctx.member is None or not can_manage(ctx.member, meeting):
        return None
    return meeting


async def open_board(ctx: Context, meeting_id: int, prefix: str = "") -> list[Reply]:
    meeting = await _meeting(ctx, meeting_id)
    if meeting is None:
        return [Reply(ctx.t("meeting.not_found"))]
    seats = await MeetingRepository(ctx.session).seats(meeting.id)
    text = prefix + ctx.t("meeting.board", meeting=headline(meeting),
                      present=sum(s.present for s in seats), total=len(seats))
    return await engine.start(ctx, MEETING_ATTENDANCE, {
        MEETING_ID: meeting.id, "text": text,
        "seats": [[_label(s, ctx.t), s.member_id] for s in seats]})


async def _board_choices(ctx: Context, data: dict[str, Any]) -> list[Choice]:
    return [Choice(label, ["seat", member_id]) for label, member_id in data["seats"]] + [
        Choice(ctx.t("meeting.add_guest"), ["guest", 0]), Choice(ctx.t("meeting.board_done"), ["done", 0])]


async def board_chosen(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    assert ctx.member is not None
    action, member_id = data["pick"]
    meeting = await _meeting(ctx, data[MEETING_ID])
    if meeting is None:
        return [Reply(ctx.t("meeting.not_found"))]
    repo = MeetingRepository(ctx.session)
    if action == "done":
        seats = await repo.seats(meeting.id)
        await announce(ctx, meeting)
        present = sum(s.present for s in seats)
        return [Reply(ctx.t("meeting.board_finished", present=present, absent=len(seats) - present)
                      + "\n" + musts_text(ctx.t, meeting))]
    if action == "guest":
        return await engine.start(ctx, MEETING_GUEST, {MEETING_ID: meeting.id})
    seat = next((s for s in await repo.seats(meeting.id) if s.member_id == member_id), None)
    if seat is None:
        return await open_board(ctx, meeting.id)
    if seat.present and not seat.guest:
        return await engine.start(ctx, MEETING_ABSENCE, {MEETING_ID: meeting.id,
                                                           "member_id": member_id,
                                                           "name": seat.name})
    if seat.guest:
        await repo.remove_guest(meeting, member_id, ctx.member)
    else:
        await repo.set_presence(meeting, member_id, True, None, ctx.member)
    await refresh(ctx, meeting)
    return await open_board(ctx, meeting.id)


async def absence_chosen(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    assert ctx.member is not None
    meeting = await _meeting(ctx, data[MEETING_ID])
    if meeting is None:
        return [Reply(ctx.t("meeting.not_found"))]
    await MeetingRepository(ctx.session).set_presence(meeting, data["member_id"], False,
                                                      data["reason"], ctx.member)
    await refresh(ctx, meeting)
    return await open_board(ctx, meeting.id)


async def _reasons(_ctx: Context, _data: dict[str, Any]) -> list[Choice]:
    return [Choice(r, r) for r in ABSENCE_REASONS]


def _parse_reason(text: str, ctx: Context) -> str:
    return clean_text(text, max_len=50, field=ctx.t("meeting.reason"))


async def _other_branches(ctx: Context, data: dict[str, Any]) -> list[Choice]:
    meeting = await MeetingRepository(ctx.session).get(data[MEETING_ID])
    branches = await OrgRepository(ctx.session).branches(except_id=meeting.org_id if meeting else None)
    return [Choice(name, org_id) for org_id, name in branches]


async def _guests(ctx: Context, data: dict[str, Any]) -> list[Choice]:
    seated = {s.member_id for s in await MeetingRepository(ctx.session).seats(data[MEETING_ID])}
    members = await MemberRepository(ctx.session).active_in(data["org"])
    return [Choice(m.name, m.id) for m in members if m.id not in seated]


async def guest_chosen(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    assert ctx.member is not None
    meeting = await _meeting(ctx, data[MEETING_ID])
    if meeting is None:
        return [Reply(ctx.t("meeting.not_found"))]
    await MeetingRepository(ctx.session).add_guest(meeting, data["guest"], ctx.member)
    await refresh(ctx, meeting)
    return await open_board(ctx, meeting.id)


MEETING_ATTENDANCE = Dialog(name="meeting_attendance", title="meeting.title",
                steps=(Step("pick", "meeting.attendance", prepared,
                            choices=_board_choices, columns=3),),
                finish=board_chosen, confirm=False)
MEETING_ABSENCE = Dialog(name="meeting_absence", title="meeting.title",
                steps=(Step("reason", "meeting.reason",
                            lambda d, t: t("meeting.ask_reason", name=d["name"]), choices=_reasons,
                            parse=_parse_reason, columns=3),),
                finish=absence_chosen, confirm=False)
MEETING_GUEST = Dialog(name="meeting_guest", title="meeting.title",
                steps=(Step("org", "meeting.guest_org", "meeting.ask_guest_org",
                            choices=_other_branches, columns=1),
                       Step("guest", "meeting.guest", "meeting.ask_guest", choices=_guests,
                            columns=3)),
                finish=guest_chosen, confirm=False)
