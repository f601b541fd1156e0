"""/visit: log research or a visit (调查研究 / 走访), and go on to a problem found there."""

from __future__ import annotations

from datetime import date
from typing import Any

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.formats import full_date
from handlers.core.i18n import Text, Translator
from handlers.dialogs import engine
from handlers.dialogs.engine import RECORD_ID, Choice, Dialog, Step
from handlers.dialogs.fields import count_step, past_date_step, pick_step, text_step
from handlers.problems.report import PROBLEM, VISIT_ID
from handlers.records.kinds import RecordKind
from handlers.records.saving import save_record, saved_reply
from storage.models import Visit
from storage.repositories.pairings import PairingRepository
from storage.repositories.topics import TopicRepository
from storage.vocabulary import RESEARCH_VISIT, VISIT_KINDS


def load(record: Visit) -> dict[str, Any]:
    return {"kind": record.kind, "date": record.visit_date.isoformat(), "place": record.place,
            "whom": record.whom, "heard": record.heard, "solved": record.solved_count,
            "topic": record.topic, RECORD_ID: record.id}


async def begin(ctx: Context, _args: str = "") -> list[Reply]:
    return await engine.start(ctx, VISIT)


async def _paired_places(ctx: Context, _data: dict[str, Any]) -> list[Choice]:
    """The member's 结对居村 as buttons: a visit there is counted for the pair as typed alike."""
    if ctx.member is None:
        return []
    return [Choice(place, place) for place in await PairingRepository(ctx.session).places_of(ctx.member.id)]


async def _topics(ctx: Context, data: dict[str, Any]) -> list[Choice]:
    """A research trip (调研) offers the branch's 调研课题."""
    if ctx.member is None or data.get("kind") != RESEARCH_VISIT:
        return []
    return [Choice(topic.title, topic.title) for topic in await TopicRepository(ctx.session).of_branch(ctx.member.org_id)]


async def _topic_id(ctx: Context, data: dict[str, Any]) -> int | None:
    """The branch's 调研课题 a research trip is for (课题调研次数), by the title chosen or typed."""
    if ctx.member is None or data["kind"] != RESEARCH_VISIT or not data.get("topic"):
        return None
    topic = await TopicRepository(ctx.session).by_title(ctx.member.org_id, data["topic"])
    return topic.id if topic is not None else None


async def finish(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    values = {"kind": data["kind"], "visit_date": date.fromisoformat(data["date"]),
              "place": data["place"], "whom": data["whom"], "heard": data["heard"],
              "solved_count": data["solved"], "topic": data.get("topic"),
              "topic_id": await _topic_id(ctx, data)}
    saved = await save_record(ctx, VISIT_RECORD, data, values)
    replies = saved_reply(ctx.t, saved, "visit.saved")
    if saved.record is None or not saved.created:
        return replies
    return replies + await engine.start(ctx, VISIT_PROBLEM, {VISIT_ID: saved.record.id})


async def offer_problem(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    if data["found"]:
        return await engine.start(ctx, PROBLEM, {VISIT_ID: data[VISIT_ID]})
    return [Reply(ctx.t("visit.no_problem"))]


VISIT = Dialog(
    name="visit",
    title="visit.title",
    steps=(
        pick_step("kind", "visit.kind", "visit.ask_kind", VISIT_KINDS),
        past_date_step("date", "visit.date", "visit.ask_date"),
        text_step("place", "visit.place", "visit.ask_place", max_len=100, choices=_paired_places),
        text_step("whom", "visit.whom", "visit.ask_whom", max_len=100),
        text_step("heard", "visit.heard", "visit.ask_heard", max_len=1000),
        count_step("solved", "visit.solved", "visit.ask_solved"),
        text_step("topic", "visit.topic", "visit.ask_topic", max_len=100, optional=True, choices=_topics),
    ),
    finish=finish,
)

VISIT_PROBLEM = Dialog(
    name="visit_problem",
    title="visit.title",
    steps=(Step("found", "visit.found", "visit.ask_found",
                choices=(Choice(Text.of("visit.found_yes"), True), Choice(Text.of("visit.found_no"), False))),),
    finish=offer_problem,
    confirm=False,
)


def line(record: Visit, t: Translator) -> str:
    return t("mine.visit", date=full_date(record.visit_date), kind=record.kind,
             place=record.place)


VISIT_RECORD = RecordKind(Visit, VISIT, load, line)
