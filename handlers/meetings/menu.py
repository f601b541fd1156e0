"""/meeting: for the branch's secretaries, committee and the office, the recent meetings (each
with its card: 修改信息, 考勤, 删除, and who has made up) and 记录新会议; for a member, the meetings
they were credited for, each open to a dispute (有异议) sent to the secretary."""

from __future__ import annotations

from typing import Any

from handlers.core.context import Context
from handlers.core.events import Reply, payload
from handlers.core.i18n import Text
from handlers.core.kept_files import send_files
from handlers.core.policy import sees_every_branch
from handlers.dialogs import engine
from handlers.dialogs.engine import Choice, Dialog, Step, prepared
from handlers.dialogs.fields import text_step
from handlers.meetings import attendance
from handlers.meetings import record as meeting_dialog
from handlers.meetings.credits import refresh
from handlers.meetings.notify import tell_removed
from handlers.meetings.rules import can_manage, can_record
from handlers.meetings.views import card, headline, line
from handlers.schedule.times import after_quiet_hours
from storage.files.attachments import AttachmentRepository
from storage.models import AttachmentOwner
from storage.repositories.meetings import MeetingRepository
from storage.repositories.orgs import OrgRepository
from storage.repositories.outbox import OutboxRepository, Planned
from storage.repositories.recipients import RecipientRepository

NEW, BACK = "new", "back"


async def begin(ctx: Context, _args: str = "") -> list[Reply]:
    member = ctx.member
    assert member is not None
    if not can_record(member):
        return await _mine(ctx)
    repo = MeetingRepository(ctx.session)
    office = sees_every_branch(member)
    meetings = await repo.recent(None if office else member.org_id)
    names = dict(await OrgRepository(ctx.session).branches()) if office else {}
    lines = [ctx.t("meeting.menu_head")]
    lines += [line(ctx.t, n, m, await repo.seats(m.id), names.get(m.org_id, ""))
              for n, m in enumerate(meetings, start=1)]
    if not meetings:
        lines.append(ctx.t("meeting.menu_empty"))
    return await engine.start(ctx, MEETING_MENU, {"text": "\n".join(lines),
                                                    "ids": [m.id for m in meetings]})


async def _menu_choices(ctx: Context, data: dict[str, Any]) -> list[Choice]:
    """The list's numbers (typed or pressed, the same meeting), then 记录新会议."""
    return [Choice(str(n), meeting_id, selector=str(n))
            for n, meeting_id in enumerate(data["ids"], start=1)] + [Choice(ctx.t("meeting.new"), NEW)]


async def menu_chosen(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    if data["pick"] == NEW:
        return await meeting_dialog.new_meeting(ctx)
    return await open_card(ctx, int(data["pick"]))


async def open_card(ctx: Context, meeting_id: int) -> list[Reply]:
    repo = MeetingRepository(ctx.session)
    meeting = await repo.get(meeting_id)
    if meeting is None or ctx.member is None or not can_manage(ctx.member, meeting):
        return [Reply(ctx.t("meeting.not_found"))]
    text = card(ctx.t, meeting, await repo.seats(meeting.id), await repo.made_up(meeting.id))
    return await engine.start(ctx, MEETING_CARD, {"meeting_id": meeting.id, "text": text,
                                                    "headline": headline(meeting)})


CARD_ACTIONS = (("meeting.action_edit", "edit"), ("meeting.action_attendance", "attendance"),
                ("meeting.action_files", "files"), ("meeting.action_delete", "delete"),
                ("dialog.back", BACK))


async def card_chosen(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    action, meeting_id = data["act"], data["meeting_id"]
    if action == BACK:
        return await begin(ctx)
    if action == "attendance":
        return await attendance.open_board(ctx, meeting_id)
    meeting = await MeetingRepository(ctx.session).get(meeting_id)
    if meeting is None or ctx.member is None or not can_manage(ctx.member, meeting):
        return [Reply(ctx.t("meeting.not_found"))]
    if action == "files":
        return await send_files(ctx, AttachmentOwner.meeting_record, [meeting.id],
                                ctx.t("file.record_stem")) + await open_card(ctx, meeting.id)
    if action == "edit":
        names = dict(await OrgRepository(ctx.session).branches((meeting.org_id,)))
        files = await AttachmentRepository(ctx.session).files_of(AttachmentOwner.meeting_record,
                                                                 [meeting.id])
        data = meeting_dialog.load(meeting, names.get(meeting.org_id, ""), files)
        return await engine.start(ctx, meeting_dialog.MEETING, data)
    return await engine.start(ctx, MEETING_DELETE, {"meeting_id": meeting_id,
                                                      "headline": data["headline"]})


async def delete_chosen(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    if not data["sure"]:
        return [Reply(ctx.t("mine.kept"))]
    repo = MeetingRepository(ctx.session)
    meeting = await repo.get(data["meeting_id"])
    if meeting is None or ctx.member is None or not can_manage(ctx.member, meeting):
        return [Reply(ctx.t("meeting.not_found"))]
    await repo.delete(meeting, ctx.member)
    credits = await refresh(ctx, meeting)
    await tell_removed(ctx, meeting, credits.removed)
    return [Reply(ctx.t("meeting.deleted", count=len(credits.removed)))]


# --- a member's view -----------------------------------------------------------------------------

async def _mine(ctx: Context) -> list[Reply]:
    assert ctx.member is not None
    repo = MeetingRepository(ctx.session)
    attended = await repo.attended(ctx.member.id)
    missed = await repo.pending_makeups(ctx.member.id)
    if not attended and not missed:
        return [Reply(ctx.t("meeting.mine_none"))]
    lines = [ctx.t("meeting.mine_head")]
    lines += [ctx.t("meeting.mine_line", n=n, meeting=headline(m), hours=minutes / 60)
              for n, (m, minutes) in enumerate(attended, start=1)]
    if missed:
        lines.append(ctx.t("meeting.mine_missed", meetings="、".join(headline(m) for m in missed)))
    if not attended:
        return [Reply("\n".join(lines))]
    lines.append(ctx.t("meeting.mine_pick"))
    return await engine.start(ctx, MEETING_MINE, {
        "text": "\n".join(lines), "items": [[m.id, headline(m)] for m, _ in attended]})


async def _mine_choices(_ctx: Context, data: dict[str, Any]) -> list[Choice]:
    return [Choice(str(n), item, selector=str(n)) for n, item in enumerate(data["items"], start=1)]


async def mine_chosen(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    meeting_id, what = data["pick"]
    return await engine.start(ctx, MEETING_DISPUTE, {"meeting_id": meeting_id, "headline": what})


async def dispute_sent(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    """The member's objection goes to the meeting's branch secretaries (and whoever recorded it)."""
    member = ctx.member
    meeting = await MeetingRepository(ctx.session).get(data["meeting_id"])
    if meeting is None or member is None:
        return [Reply(ctx.t("meeting.not_found"))]
    recipients = await RecipientRepository(ctx.session).find(
        ctx.platforms, members=[meeting.created_by_id], secretaries_of=meeting.org_id)
    send_at = after_quiet_hours(ctx.now, ctx.config.tz, ctx.config.quiet_start, ctx.config.quiet_end)
    text = ctx.t("meeting.dispute_note", name=member.name, meeting=data["headline"], note=data["note"])
    key = f"meeting_dispute:{meeting.id}:{member.id}:{ctx.now.isoformat()}"
    planned = [Planned(f"{key}:{to.member_id}", "meeting", to.platform, to.chat_id,
                       payload(text), send_at, False, to.org_id, to.member_id)
               for to in recipients]
    ctx.enqueued = await OutboxRepository(ctx.session).enqueue(planned) > 0 or ctx.enqueued
    return [Reply(ctx.t("meeting.dispute_sent"))]


MEETING_MENU = Dialog(name="meeting_menu", title="meeting.title",
                steps=(Step("pick", "meeting.title", prepared, choices=_menu_choices, columns=5),),
                finish=menu_chosen, confirm=False)
MEETING_CARD = Dialog(name="meeting_card", title="meeting.title",
                steps=(Step("act", "meeting.title", prepared,
                            choices=tuple(Choice(Text.of(k), v) for k, v in CARD_ACTIONS)),),
                finish=card_chosen, confirm=False)
MEETING_DELETE = Dialog(name="meeting_delete", title="meeting.title",
                steps=(Step("sure", "meeting.title",
                            lambda d, t: t("meeting.ask_delete", meeting=d["headline"]),
                            choices=(Choice(Text.of("mine.delete_yes"), True),
                                     Choice(Text.of("mine.delete_no"), False))),),
                finish=delete_chosen, confirm=False)
MEETING_MINE = Dialog(name="meeting_mine", title="meeting.title",
                steps=(Step("pick", "meeting.title", prepared, choices=_mine_choices, columns=5),),
                finish=mine_chosen, confirm=False)
MEETING_DISPUTE = Dialog(name="meeting_dispute", title="meeting.title",
                steps=(text_step("note", "meeting.dispute",
                                 lambda d, t: t("meeting.ask_dispute", meeting=d["headline"]),
                                 max_len=500),),
                finish=dispute_sent, confirm=False)
