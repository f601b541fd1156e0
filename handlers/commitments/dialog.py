"""/commit: a member's public commitment (一名党员一个承诺) and reports of keeping it."""

from __future__ import annotations

from typing import Any

from handlers.core.context import Context
from handlers.core.events import Reply
from handlers.core.formats import short
from handlers.core.i18n import Text, Translator
from handlers.dialogs import engine
from handlers.dialogs.engine import RECORD_ID, Choice, Dialog, Step
from handlers.dialogs.fields import text_step
from handlers.records.kinds import RecordKind
from handlers.records.saving import save_record, saved_reply
from storage.models import Commitment
from storage.repositories.records import RecordRepository

COMMITMENT_ID = "commitment_id"


def load(record: Commitment) -> dict[str, Any]:
    return {"content": record.content, RECORD_ID: record.id}


async def begin(ctx: Context, _args: str = "") -> list[Reply]:
    """No commitment yet: make one. Otherwise: report on it, or change it."""
    assert ctx.member is not None
    current = await RecordRepository(ctx.session).active_commitment(ctx.member)
    if current is None:
        return await engine.start(ctx, COMMIT)
    return await engine.start(ctx, COMMIT_MENU, {COMMITMENT_ID: current.id,
                                                   "content": current.content,
                                                   "kept": current.kept})


async def finish(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    return saved_reply(ctx.t, await save_record(ctx, COMMITMENT_RECORD, data,
                                                {"content": data["content"]}), "commit.saved")


async def menu_chosen(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    if data["action"] == "report":
        return await engine.start(ctx, COMMIT_REPORT, {COMMITMENT_ID: data[COMMITMENT_ID]})
    return await engine.start(ctx, COMMIT, {"content": data["content"],
                                              RECORD_ID: data[COMMITMENT_ID]})


async def report_finish(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    assert ctx.member is not None
    repo = RecordRepository(ctx.session)
    commitment = await repo.get_owned(Commitment, data[COMMITMENT_ID], ctx.member)
    if not isinstance(commitment, Commitment):
        return [Reply(ctx.t("record.gone"))]
    await repo.report_commitment(commitment, ctx.member, text=data["report"], kept=data["kept"],
                                 on=ctx.today)
    return [Reply(ctx.t("commit.reported"))]


def _menu_prompt(data: dict[str, Any], t: Translator) -> str:
    state = t("commit.state_kept" if data.get("kept") else "commit.state_open")
    return t("commit.menu", content=data["content"], state=state)


COMMIT = Dialog(
    name="commit",
    title="commit.title",
    steps=(text_step("content", "commit.content", "commit.ask_content", max_len=500),),
    finish=finish,
)
COMMIT_MENU = Dialog(
    name="commit_menu",
    title="commit.title",
    steps=(Step("action", "commit.action", _menu_prompt,
                choices=(Choice(Text.of("commit.do_report"), "report"), Choice(Text.of("commit.do_edit"), "edit")),
                columns=1),),
    finish=menu_chosen,
    confirm=False,
)
COMMIT_REPORT = Dialog(
    name="commit_report",
    title="commit.report_title",
    steps=(
        text_step("report", "commit.report", "commit.ask_report", max_len=1000),
        Step("kept", "commit.kept", "commit.ask_kept",
             choices=(Choice(Text.of("commit.kept_yes"), True), Choice(Text.of("commit.kept_no"), False)),
             show=lambda kept, t: t("commit.kept_yes" if kept else "commit.kept_no")),
    ),
    finish=report_finish,
)


def line(record: Commitment, t: Translator) -> str:
    return t("mine.commitment", content=short(record.content, 24))


COMMITMENT_RECORD = RecordKind(Commitment, COMMIT, load, line)
