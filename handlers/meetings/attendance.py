"""The attendance board of a meeting: those it expects (应到) listed present, a tap marks a member
absent (with a reason) or present again, guests (列席: from another branch, or of this branch at a
支委会 or 党小组会) can be added, 完成 tells people.

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
from handlers.meetings.rules import (
    ABSENCE_REASONS,
    can_manage,
    credits_hours,
    musts_text,
)
from handlers.meetings.views import Turnout, headline
from storage.models import Meeting
from storage.repositories.meetings import MeetingRepository, Seat
from storage.repositories.members import MemberRepository
from storage.repositories.orgs import OrgRepository

MEETING_ID = "meeting_id"
REASON_CHARS = 50  # meeting_attendance.absence_reason


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
                          turnout=Turnout.of(seats).text(ctx.t))
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
        await announce(ctx, meeting)
        return [Reply(finished_text(ctx.t, meeting, await repo.seats(meeting.id)))]
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


def finished_text(t: Translator, meeting: Meeting, seats: list[Seat]) -> str:
    """What 完成 says: the turnout, who was told what (no 补课补学 line without absentees, no
    学时 line for a meeting that credits none), and the 四必有."""
    turnout = Turnout.of(seats)
    lines = [t("meeting.board_finished", turnout=turnout.text(t), present=turnout.present,
               absent=turnout.absent)]
    if not credits_hours(meeting.kind, meeting.study_item):
        lines.append(t("meeting.no_credit"))
    else:
        lines.append(t("meeting.told_credits"))
        if turnout.absent:
            lines.append(t("meeting.told_makeups"))
    return "\n".join([*lines, musts_text(t, meeting)])


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
    return clean_text(text, max_len=REASON_CHARS, field=ctx.t("meeting.reason"))


async def _branches(ctx: Context, data: dict[str, Any]) -> list[Choice]:
    """The meeting's own branch first while some of it are not listed (a 支委会's ordinary
    members), then the other branches."""
    repo = MeetingRepository(ctx.session)
    meeting = await repo.get(data[MEETING_ID])
    if meeting is None:
        return []
    seated = {s.member_id for s in await repo.seats(meeting.id)}
    own = [m for m in await MemberRepository(ctx.session).active_in(meeting.org_id)
           if m.id not in seated]
    branches = await OrgRepository(ctx.session).branches()
    return [Choice(name, org_id) for org_id, name in sorted(branches, key=lambda b: b[0] != meeting.org_id)
            if org_id != meeting.org_id or own]


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
                            parse=_parse_reason, columns=3, max_len=REASON_CHARS),),
                finish=absence_chosen, confirm=False)
MEETING_GUEST = Dialog(name="meeting_guest", title="meeting.title",
                steps=(Step("org", "meeting.guest_org", "meeting.ask_guest_org",
                            choices=_branches, columns=1),
                       Step("guest", "meeting.guest", "meeting.ask_guest", choices=_guests,
                            columns=3)),
                finish=guest_chosen, confirm=False)
