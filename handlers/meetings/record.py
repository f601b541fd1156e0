"""/meeting's record dialog: a session's details, asked once by the secretary (or changed later).

The office first says which branch the meeting is of. The type decides who is expected (应到:
the branch, its committee, one 党小组: a 党小组会 is chosen with its 党小组) and whether a study
item is asked (支委会, 党小组会 credit hours only with one). The card warns about what the 四必有
lack and about a meeting that credits no hours before 确认. Confirming a new meeting lists
those expected as present and opens the attendance board; confirming an edit moves the seats
and every credit with it (``reseat``, ``sync_credits``) and tells whom it concerns.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.i18n import Text, Translator
from handlers.core.parsing import InvalidInput, clean_text, normalize
from handlers.core.policy import sees_every_branch
from handlers.dialogs import engine
from handlers.dialogs.engine import RECORD_ID, Choice, Dialog, Step
from handlers.dialogs.fields import name_step, past_date_step, text_step
from handlers.meetings import attendance
from handlers.meetings.credits import refresh
from handlers.meetings.notify import announce, tell_removed
from handlers.meetings.rules import (
    QUICK_TIMES,
    can_manage,
    can_record_for,
    credits_hours,
    missing_of,
    musts_line,
    musts_text,
    parse_time_range,
    type_of,
)
from handlers.meetings.views import headline
from storage.files.attachments import AttachmentRepository, KeptFile
from storage.models import AttachmentOwner, Meeting
from storage.repositories.meetings import MeetingRepository
from storage.repositories.orgs import OrgRepository
from storage.vocabulary import MEETING_TYPES, PARTY_GROUP_MEETING, Attendance

RECORD_CHARS = 5000  # the minutes (记录) typed
OVERLAP_OK = "_overlap_ok"  # the recorder said a meeting at the same time is another session
BRANCH = "branch"  # [org id, name] of the branch the meeting is of
PICK_BRANCH = "_pick_branch"  # the office chooses that branch first
MAX_NAMES = 8  # name buttons offered for host, recorder, lecturer


def kind_of(value: Any) -> tuple[str, str | None]:
    """The dialog's 会议类型 value: (kind, 党小组 or None) (a plain kind from before 党小组)."""
    if isinstance(value, str):
        return value, None
    kind, group = value
    return kind, group


def org_of(ctx: Context, data: dict[str, Any]) -> int:
    """The branch the meeting is of (a dialog begun before the branch was kept: the recorder's)."""
    assert ctx.member is not None
    return int(data[BRANCH][0]) if data.get(BRANCH) else ctx.member.org_id


async def new_meeting(ctx: Context) -> list[Reply]:
    """A new meeting: the office picks the branch; the others record for their own."""
    actor = ctx.member
    assert actor is not None
    if sees_every_branch(actor):
        return await engine.start(ctx, MEETING, {PICK_BRANCH: True})
    return await engine.start(ctx, MEETING, {BRANCH: [actor.org_id, actor.org.name]})


def load(meeting: Meeting, branch_name: str, files: list[KeptFile]) -> dict[str, Any]:
    """The dialog's data of a meeting being edited; its files as recorded (``attachment``)."""
    record: Any = meeting.record_text
    if record is None and files:
        record = [{"attachment": f.attachment_id, "file_id": "", "name": f.name,
                   "mime_type": f.mime} for f in files]
    elif record is None and meeting.record_file_id:  # recorded before files were kept
        record = [{"file_id": meeting.record_file_id, "name": None, "mime_type": None}]
    return {BRANCH: [meeting.org_id, branch_name], "kind": [meeting.kind, meeting.party_group],
            "date": meeting.day.isoformat(),
            "time": [meeting.starts, meeting.ends] if meeting.starts and meeting.ends else None,
            "place": meeting.place, "topic": meeting.topic, "study_item": meeting.study_item,
            "host": meeting.host, "recorder": meeting.recorder, "lecturer": meeting.lecturer,
            "procedure": meeting.procedure, "record": record, RECORD_ID: meeting.id}


def _values(data: dict[str, Any]) -> dict[str, Any]:
    record = data.get("record")
    files = _files(data)
    starts, ends = data.get("time") or (None, None)
    kind, group = kind_of(data["kind"])
    return {"kind": kind, "party_group": group, "day": date.fromisoformat(data["date"]),
            "starts": starts, "ends": ends, "place": data.get("place"),
            "topic": data.get("topic"),
            "study_item": data.get("study_item") if not type_of(kind).credits_always else None,
            "host": data.get("host"), "recorder": data.get("recorder"),
            "lecturer": data.get("lecturer"), "procedure": data.get("procedure"),
            "record_text": record if isinstance(record, str) else None,
            "record_file_id": (files[0]["file_id"] or None) if files else None}


async def _expected(ctx: Context, org_id: int, values: dict[str, Any]) -> list[int] | str:
    """The members the meeting expects, or why it cannot be saved (a 党小组 with nobody in it)."""
    rules = type_of(values["kind"])
    members = await MeetingRepository(ctx.session).expected(org_id, rules.attendance,
                                                            values["party_group"])
    if rules.attendance is Attendance.party_group and not members:
        return ctx.t("meeting.party_group_empty", group=values["party_group"] or "—")
    return [m.id for m in members]


async def _lecturer_id(ctx: Context, org_id: int, name: str | None) -> int | None:
    """The 授课人 as a member: the one active member of the branch of that name, if exactly one."""
    if not name:
        return None
    named = [m for m in await MeetingRepository(ctx.session).expected(org_id, Attendance.branch)
             if m.name == name]
    return named[0].id if len(named) == 1 else None


async def finish(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    actor = ctx.member
    assert actor is not None
    repo = MeetingRepository(ctx.session)
    meeting = await repo.get(int(data[RECORD_ID])) if data.get(RECORD_ID) else None
    if data.get(RECORD_ID) and (meeting is None or not can_manage(actor, meeting)):
        return [Reply(ctx.t("meeting.not_found"))]
    org_id = meeting.org_id if meeting else org_of(ctx, data)
    branches = dict(await OrgRepository(ctx.session).branches((org_id,)))
    if org_id not in branches or not can_record_for(actor, org_id):  # checked again as saved
        return [Reply(ctx.t("meeting.not_found"))]
    values = _values(data)
    expected = await _expected(ctx, org_id, values)
    if isinstance(expected, str):
        return [Reply(expected)]
    values["lecturer_id"] = await _lecturer_id(ctx, org_id, values["lecturer"])
    if not data.get(OVERLAP_OK) and values["starts"] and values["ends"]:
        other = await repo.overlapping(org_id, values["day"], values["starts"], values["ends"],
                                       data.get(RECORD_ID))
        if other is not None:  # perhaps the same session recorded twice: its credits would be too
            return await engine.start(ctx, MEETING_OVERLAP, {"form": data,
                                                               "other": headline(other)})
    if meeting is None:
        meeting = await repo.create(actor, org_id, values, expected)
        await _keep_files(ctx, meeting.id, data)
        await refresh(ctx, meeting)
        return await attendance.open_board(ctx, meeting.id, ctx.t(
            "meeting.saved", expected=len(expected)) + "\n" + musts_text(ctx.t, meeting) + "\n\n")
    if values["record_file_id"] is None and meeting.record_file_id and _files(data):
        values["record_file_id"] = meeting.record_file_id  # its files kept as they were
    await repo.update(meeting, values, actor)
    await _keep_files(ctx, meeting.id, data)
    await repo.reseat(meeting, expected, actor)
    credits = await refresh(ctx, meeting)
    await announce(ctx, meeting)
    await tell_removed(ctx, meeting, credits.removed, "meeting.note_uncredited")
    return [Reply(ctx.t("meeting.updated", changed=len(credits.changed) + len(credits.created)
                        + len(credits.removed)) + "\n" + musts_text(ctx.t, meeting))]


def _files(data: dict[str, Any]) -> list[dict[str, Any]]:
    record = data.get("record")
    return record if isinstance(record, list) else []


async def _keep_files(ctx: Context, meeting_id: int, data: dict[str, Any]) -> None:
    """Every file sent for the 记录 recorded (not only the first); those taken out forgotten."""
    assert ctx.member is not None
    files, repository = _files(data), AttachmentRepository(ctx.session)
    await repository.keep_only(AttachmentOwner.meeting_record, meeting_id,
                               [f["attachment"] for f in files if f.get("attachment")])
    await repository.attach(AttachmentOwner.meeting_record, meeting_id, ctx.member.id,
                            ctx.event.platform, files)


def _parse_time(text: str, _ctx: Context) -> list[str]:
    return list(parse_time_range(text))


def _parse_record(text: str, ctx: Context) -> str:
    return clean_text(text, max_len=RECORD_CHARS, field=ctx.t("meeting.record"))


def _show_record(value: Any, t: Translator) -> str:
    return t("meeting.record_files", count=len(value)) if isinstance(value, list) else str(value)


def _kind_label(t: Translator, kind: str, group: str | None) -> str:
    return t("meeting.kind_group", kind=kind, group=group) if group else kind


def _show_kind(value: Any, t: Translator) -> str:
    return _kind_label(t, *kind_of(value))


async def _kinds(ctx: Context, data: dict[str, Any]) -> list[Choice]:
    """Every type; a 党小组会 once for each 党小组 of the branch (none without 党小组)."""
    groups = await MeetingRepository(ctx.session).party_groups(org_of(ctx, data))
    choices: list[Choice] = []
    for kind in MEETING_TYPES:
        if kind.attendance is Attendance.party_group:
            choices += [Choice(_kind_label(ctx.t, kind.name, g), [kind.name, g]) for g in groups]
        else:
            choices.append(Choice(kind.name, [kind.name, None]))
    return choices


def _parse_kind(text: str, _ctx: Context) -> list[Any]:
    """A typed kind the buttons did not match: a 党小组会 of a 党小组 the branch does not have,
    or not a type at all (the buttons list each 党小组会 of the branch)."""
    typed = normalize(text).replace(" ", "")
    if typed.startswith(PARTY_GROUP_MEETING):
        group = typed.removeprefix(PARTY_GROUP_MEETING).strip("（）()·:：")
        if group:
            raise InvalidInput("meeting.unknown_party_group", group=group)
        raise InvalidInput("meeting.pick_party_group")
    raise InvalidInput("meeting.bad_kind")


async def _branches(ctx: Context, _data: dict[str, Any]) -> list[Choice]:
    return [Choice(name, [org_id, name]) for org_id, name in await OrgRepository(ctx.session).branches()]


async def _committee(ctx: Context, data: dict[str, Any]) -> list[Choice]:
    """The recorder first when of the branch, then the branch's secretaries and 支委."""
    assert ctx.member is not None
    org_id = org_of(ctx, data)
    names = [m.name for m in await MeetingRepository(ctx.session).expected(org_id, Attendance.committee)]
    me = [ctx.member.name]
    ordered = dict.fromkeys(me + names if ctx.member.org_id == org_id else names + me)
    return [Choice(name, name) for name in list(ordered)[:MAX_NAMES]]


def _asks_study(data: dict[str, Any]) -> bool:
    return not type_of(kind_of(data["kind"])[0]).credits_always


def card_note(data: dict[str, Any], t: Translator) -> str:
    """Under the card, before 确认: what the 四必有 lack, and a meeting that credits no hours."""
    kind, _ = kind_of(data["kind"])
    missing = missing_of(t, timed=bool(data.get("time")), topic=bool(data.get("topic")),
                         procedure=bool(data.get("procedure")), record=bool(data.get("record")))
    lines = [musts_line(t, missing)]
    if not credits_hours(kind, data.get("study_item")):
        lines.append(t("meeting.no_credit"))
    return "\n".join(lines)


def _names_step(key: str, label: str, prompt: str, optional: bool = False) -> Step:
    return replace(name_step(key, label, prompt, max_len=50, optional=optional, choices=_committee),
                   columns=3)


MEETING = Dialog(
    name="meeting",
    title="meeting.title",
    steps=(
        Step(BRANCH, "meeting.branch", "meeting.ask_branch", choices=_branches, columns=1,
             when=lambda d: bool(d.get(PICK_BRANCH)), show=lambda v, _t: str(v[1])),
        Step("kind", "meeting.kind", "meeting.ask_kind", choices=_kinds, parse=_parse_kind,
             columns=3, show=_show_kind),
        past_date_step("date", "meeting.date", "meeting.ask_date"),
        Step("time", "meeting.time", "meeting.ask_time",
             choices=tuple(Choice(q, q.split("-")) for q in QUICK_TIMES), parse=_parse_time,
             columns=3, show=lambda v, _t: f"{v[0]}-{v[1]}"),
        text_step("place", "meeting.place", "meeting.ask_place", max_len=100),
        text_step("topic", "meeting.topic", "meeting.ask_topic", max_len=200, optional=True),
        replace(text_step("study_item", "meeting.study_item", "meeting.ask_study_item", max_len=200,
                          optional=True), when=_asks_study),
        _names_step("host", "meeting.host", "meeting.ask_host"),
        _names_step("recorder", "meeting.recorder", "meeting.ask_recorder"),
        _names_step("lecturer", "meeting.lecturer", "meeting.ask_lecturer", optional=True),
        text_step("procedure", "meeting.procedure", "meeting.ask_procedure", max_len=2000,
                  optional=True),
        Step("record", "meeting.record", "meeting.ask_record", parse=_parse_record, optional=True,
             files=True, show=_show_record, max_len=RECORD_CHARS),
    ),
    finish=finish,
    note=card_note,
)


async def overlap_chosen(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    if not data["save"]:
        return [Reply(ctx.t("meeting.overlap_dropped"))]
    return await finish(ctx, {**data["form"], OVERLAP_OK: True})


MEETING_OVERLAP = Dialog(name="meeting_overlap", title="meeting.title",
                steps=(Step("save", "meeting.title",
                            lambda d, t: t("meeting.ask_overlap", other=d["other"]),
                            choices=(Choice(Text.of("meeting.overlap_save"), True),
                                     Choice(Text.of("meeting.overlap_drop"), False)), columns=1),),
                finish=overlap_chosen, confirm=False)
