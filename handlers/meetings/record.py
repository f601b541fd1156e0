"""/meeting's record dialog: a session's details, asked once by the secretary (or changed later).

Confirming a new meeting lists the whole branch as present and opens the attendance board;
confirming an edit moves every credit with it (``sync_credits``) and tells whom it concerns.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.i18n import Text, Translator
from handlers.core.parsing import clean_text
from handlers.dialogs import engine
from handlers.dialogs.engine import RECORD_ID, Choice, Dialog, Step
from handlers.dialogs.fields import past_date_step, pick_step, text_step
from handlers.meetings import attendance
from handlers.meetings.credits import refresh
from handlers.meetings.notify import announce
from handlers.meetings.rules import (
    QUICK_TIMES,
    can_manage,
    musts_text,
    parse_time_range,
)
from handlers.meetings.views import headline
from storage.models import Meeting
from storage.repositories.meetings import MeetingRepository
from storage.vocabulary import MEETING_KINDS

OVERLAP_OK = "_overlap_ok"  # the recorder said a meeting at the same time is another session


def load(meeting: Meeting) -> dict[str, Any]:
    record: Any = meeting.record_text
    if record is None and meeting.record_file_id:
        record = [{"file_id": meeting.record_file_id, "name": None, "mime_type": None}]
    return {"kind": meeting.kind, "date": meeting.day.isoformat(),
            "time": [meeting.starts, meeting.ends] if meeting.starts and meeting.ends else None,
            "place": meeting.place, "topic": meeting.topic, "host": meeting.host,
            "recorder": meeting.recorder, "lecturer": meeting.lecturer,
            "procedure": meeting.procedure, "record": record, RECORD_ID: meeting.id}


def _values(data: dict[str, Any]) -> dict[str, Any]:
    record = data.get("record")
    files = record if isinstance(record, list) else []
    starts, ends = data.get("time") or (None, None)
    return {"kind": data["kind"], "day": date.fromisoformat(data["date"]),
            "starts": starts, "ends": ends, "place": data.get("place"),
            "topic": data.get("topic"), "host": data.get("host"), "recorder": data.get("recorder"),
            "lecturer": data.get("lecturer"), "procedure": data.get("procedure"),
            "record_text": record if isinstance(record, str) else None,
            "record_file_id": files[0]["file_id"] if files else None}


async def finish(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    actor = ctx.member
    assert actor is not None
    repo = MeetingRepository(ctx.session)
    meeting = await repo.get(int(data[RECORD_ID])) if data.get(RECORD_ID) else None
    if data.get(RECORD_ID) and (meeting is None or not can_manage(actor, meeting)):
        return [Reply(ctx.t("meeting.not_found"))]
    values = _values(data)
    if not data.get(OVERLAP_OK) and values["starts"] and values["ends"]:
        other = await repo.overlapping(meeting.org_id if meeting else actor.org_id, values["day"],
                                       values["starts"], values["ends"], data.get(RECORD_ID))
        if other is not None:  # perhaps the same session recorded twice: its credits would be too
            return await engine.start(ctx, MEETING_OVERLAP, {"form": data,
                                                               "other": headline(other)})
    if meeting is None:
        meeting = await repo.create(actor, actor.org_id, values)
        await refresh(ctx, meeting)
        return await attendance.open_board(ctx, meeting.id, ctx.t("meeting.saved") + "\n"
                                           + musts_text(ctx.t, meeting) + "\n\n")
    await repo.update(meeting, values, actor)
    credits = await refresh(ctx, meeting)
    await announce(ctx, meeting)
    return [Reply(ctx.t("meeting.updated", changed=len(credits.changed)) + "\n" + musts_text(ctx.t, meeting))]


def _parse_time(text: str, _ctx: Context) -> list[str]:
    return list(parse_time_range(text))


def _parse_record(text: str, ctx: Context) -> str:
    return clean_text(text, max_len=5000, field=ctx.t("meeting.record"))


def _show_record(value: Any, t: Translator) -> str:
    return t("meeting.record_files", count=len(value)) if isinstance(value, list) else str(value)


async def _me(ctx: Context, _data: dict[str, Any]) -> list[Choice]:
    return [Choice(ctx.member.name, ctx.member.name)] if ctx.member else []


MEETING = Dialog(
    name="meeting",
    title="meeting.title",
    steps=(
        pick_step("kind", "meeting.kind", "meeting.ask_kind", MEETING_KINDS, columns=3),
        past_date_step("date", "meeting.date", "meeting.ask_date"),
        Step("time", "meeting.time", "meeting.ask_time",
             choices=tuple(Choice(q, q.split("-")) for q in QUICK_TIMES), parse=_parse_time,
             columns=3, show=lambda v, _t: f"{v[0]}-{v[1]}"),
        text_step("place", "meeting.place", "meeting.ask_place", max_len=100),
        text_step("topic", "meeting.topic", "meeting.ask_topic", max_len=200, optional=True),
        text_step("host", "meeting.host", "meeting.ask_host", max_len=50, choices=_me),
        text_step("recorder", "meeting.recorder", "meeting.ask_recorder", max_len=50, choices=_me),
        text_step("lecturer", "meeting.lecturer", "meeting.ask_lecturer", max_len=50, optional=True),
        text_step("procedure", "meeting.procedure", "meeting.ask_procedure", max_len=2000,
                  optional=True),
        Step("record", "meeting.record", "meeting.ask_record", parse=_parse_record, optional=True,
             files=True, show=_show_record),
    ),
    finish=finish,
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
