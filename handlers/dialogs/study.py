"""/study: log a study session (理论学习)."""

from __future__ import annotations

from datetime import date
from typing import Any

from handlers.context import Context
from handlers.dialogs.engine import RECORD_ID, Choice, Dialog, register
from handlers.dialogs.fields import hours_step, past_date_step, pick_step, text_step
from handlers.dialogs.saving import save_record, saved_reply
from handlers.events import Reply
from handlers.vocabulary import DEFAULT_BOOKS, QUICK_HOURS, STUDY_FORMS
from storage.models import StudyRecord


async def _books(ctx: Context, _data: dict[str, Any]) -> list[Choice]:
    books = (ctx.member.org.required_books if ctx.member else None) or list(DEFAULT_BOOKS)
    return [Choice(book, book) for book in books]


def load(record: StudyRecord) -> dict[str, Any]:
    return {"form": record.form, "date": record.study_date.isoformat(), "minutes": record.minutes,
            "content": record.content, "reflection": record.reflection, RECORD_ID: record.id}


async def finish(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    values = {"form": data["form"], "study_date": date.fromisoformat(data["date"]),
              "minutes": data["minutes"], "content": data["content"],
              "reflection": data.get("reflection")}
    record, created = await save_record(ctx, "study", data, values)
    return saved_reply(record, created, "study.saved")


DIALOG = register(Dialog(
    name="study",
    title="study.title",
    steps=(
        pick_step("form", "study.form", "study.ask_form", STUDY_FORMS, columns=3),
        past_date_step("date", "study.date", "study.ask_date"),
        hours_step("minutes", "study.hours", "study.ask_hours", QUICK_HOURS),
        text_step("content", "study.content", "study.ask_content", max_len=200, choices=_books),
        text_step("reflection", "study.reflection", "study.ask_reflection", max_len=1000,
                  optional=True),
    ),
    finish=finish,
))
