"""/study: log a study session (理论学习)."""

from __future__ import annotations

from datetime import date
from typing import Any

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.formats import full_date
from handlers.core.i18n import Translator
from handlers.dialogs import engine
from handlers.dialogs.engine import RECORD_ID, Choice, Dialog, Step
from handlers.dialogs.fields import (
    hours_step,
    past_date_step,
    pick_step,
    show_minutes,
    text_step,
)
from handlers.meetings.views import headline
from handlers.records.kinds import RecordKind
from handlers.records.saving import save_record, saved_reply
from handlers.study.overlap import ask_which
from storage.models import StudyRecord
from storage.repositories.meetings import MeetingRepository
from storage.vocabulary import DEFAULT_BOOKS, QUICK_HOURS, STUDY_FORMS

MAKEUPS = "makeups"  # meetings the member missed and has not made up: asked first when any


async def _books(ctx: Context, _data: dict[str, Any]) -> list[Choice]:
    books = (ctx.member.org.required_books if ctx.member else None) or list(DEFAULT_BOOKS)
    return [Choice(book, book) for book in books]


def load(record: StudyRecord) -> dict[str, Any]:
    return {"form": record.form, "date": record.study_date.isoformat(), "minutes": record.minutes,
            "content": record.content, "reflection": record.reflection, RECORD_ID: record.id,
            "makeup_for": [record.makeup_for_id, ""] if record.makeup_for_id else None}


async def begin(ctx: Context, _args: str = "") -> list[Reply]:
    """/study; a member with a meeting to make up is first asked whether this is that 补课补学."""
    assert ctx.member is not None
    missed = await MeetingRepository(ctx.session).pending_makeups(ctx.member.id)
    data = {MAKEUPS: [[m.id, headline(m)] for m in missed]} if missed else {}
    return await engine.start(ctx, STUDY, data)


async def _makeups(ctx: Context, data: dict[str, Any]) -> list[Choice]:
    return [Choice(ctx.t("study.makeup_of", meeting=what), [meeting_id, what])
            for meeting_id, what in data[MAKEUPS]] + [Choice(ctx.t("study.not_makeup"), None)]


async def finish(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    values = {"form": data["form"], "study_date": date.fromisoformat(data["date"]),
              "minutes": data["minutes"], "content": data["content"],
              "reflection": data.get("reflection"),
              "makeup_for_id": data["makeup_for"][0] if data.get("makeup_for") else None}
    if data.get(RECORD_ID) is None and values["makeup_for_id"] is None:
        asked = await ask_which(ctx, values)
        if asked is not None:
            return asked
    return saved_reply(ctx.t, await save_record(ctx, STUDY_RECORD, data, values), "study.saved")


STUDY = Dialog(
    name="study",
    title="study.title",
    steps=(
        Step("makeup_for", "study.makeup", "study.ask_makeup", choices=_makeups, columns=1,
             when=lambda data: bool(data.get(MAKEUPS)), show=lambda v, _t: v[1] if v else "—"),
        pick_step("form", "study.form", "study.ask_form", STUDY_FORMS, columns=3),
        past_date_step("date", "study.date", "study.ask_date"),
        hours_step("minutes", "study.hours", "study.ask_hours", QUICK_HOURS),
        text_step("content", "study.content", "study.ask_content", max_len=200, choices=_books),
        text_step("reflection", "study.reflection", "study.ask_reflection", max_len=1000,
                  optional=True),
    ),
    finish=finish,
)


def line(record: StudyRecord, t: Translator) -> str:
    return t("mine.study", date=full_date(record.study_date), form=record.form,
             hours=show_minutes(record.minutes, t), content=record.content)


# A meeting's credit follows its meeting (disputed through /meeting).
STUDY_RECORD = RecordKind(StudyRecord, STUDY, load, line, locked="meeting.credit_locked")
