"""A study session logged by hand that a meeting already credits (same member, day and form):
the member chooses which to keep, so their totals never count the session twice.

Keeping the meeting's drops the typed entry; keeping their own saves it linked to the meeting in
place of the credit (its content and reflection stay; its hours follow the meeting).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.i18n import Text
from handlers.dialogs import engine
from handlers.dialogs.engine import Choice, Dialog, Step, prepared
from handlers.dialogs.fields import show_minutes
from handlers.meetings.views import headline
from storage.models import StudyRecord
from storage.repositories.meetings import MeetingRepository
from storage.repositories.records import RecordRepository

KEEP_MEETING, KEEP_MINE = "meeting", "mine"


async def ask_which(ctx: Context, values: dict[str, Any]) -> list[Reply] | None:
    """None when nothing overlaps; otherwise the question (the typed values kept in the dialog)."""
    assert ctx.member is not None
    repo = MeetingRepository(ctx.session)
    credit = await repo.credit_on(ctx.member.id, values["study_date"], values["form"])
    meeting = await repo.get(credit.meeting_id) if credit and credit.meeting_id else None
    if credit is None or meeting is None:
        return None
    text = ctx.t("study.overlap", meeting=headline(meeting), hours=show_minutes(credit.minutes, ctx.t))
    return await engine.start(ctx, STUDY_OVERLAP, {
        "text": text, "credit_id": credit.id,
        "values": {**values, "study_date": values["study_date"].isoformat()}})


async def chosen(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    assert ctx.member is not None
    if data["keep"] == KEEP_MEETING:
        return [Reply(ctx.t("study.overlap_kept_meeting"))]
    records = RecordRepository(ctx.session)
    credit = await records.get_owned(StudyRecord, data["credit_id"], ctx.member)
    if not isinstance(credit, StudyRecord):
        return [Reply(ctx.t("record.gone"))]
    values = {**data["values"], "study_date": date.fromisoformat(data["values"]["study_date"]),
              "meeting_id": credit.meeting_id, "minutes": credit.minutes}
    await records.delete(credit, ctx.member)
    await records.create(StudyRecord, ctx.member, values)
    return [Reply(ctx.t("study.overlap_kept_mine"))]


STUDY_OVERLAP = Dialog(name="study_overlap", title="study.title",
                steps=(Step("keep", "study.title", prepared,
                            choices=(Choice(Text.of("study.keep_meeting"), KEEP_MEETING),
                                     Choice(Text.of("study.keep_mine"), KEEP_MINE)), columns=1),),
                finish=chosen, confirm=False)
