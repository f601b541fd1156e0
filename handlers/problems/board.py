"""/problems: the branch's problem list by state (the office: every branch), each problem openable
with its history and the actions the reader may take; ``/problems export`` sends the Excel sheet.

The list and the problem card are dialogs, so their buttons carry the dialog nonce like any other.
The problems and actions a screen offers are kept in its dialog data when it is shown: a press
picks from what was on the screen, and ``handlers.problems.actions`` checks it again when it acts.
"""

from __future__ import annotations

from typing import Any

from handlers.core.context import Context
from handlers.core.events import OutDocument, Reply
from handlers.core.formats import full_date, short
from handlers.core.kept_files import send_files
from handlers.core.policy import sees_every_branch
from handlers.dialogs import engine
from handlers.dialogs.engine import Choice, Dialog, Step, prepared
from handlers.problems import actions, export, views
from handlers.problems.action_dialogs import (
    PROBLEM_ACCEPT,
    PROBLEM_APPROVE,
    PROBLEM_EXTEND,
    PROBLEM_REASON,
    PROBLEM_REOPEN,
)
from handlers.problems.lifecycle import ACTION_TEXT, Action, actions_for, can_see
from handlers.problems.progress import (
    PROBLEM_ASK_EXTENSION,
    PROBLEM_CLOSURE,
    PROBLEM_UPDATE,
)
from handlers.problems.scopes import counts
from handlers.problems.steps import PROBLEM_ID
from storage.models import AttachmentOwner, Member
from storage.repositories.orgs import OrgRepository
from storage.repositories.problems import VIEWS, ProblemRepository

MINE = "mine"  # the view /progress shows: the member's own problems in work
LIST_LIMIT = 20  # with the card opened from it, still one chat message; the export has them all
HISTORY_LIMIT = 10
BACK = "back"
FILES = "files"  # the evidence files, sent from the file store
EXPORT = "export"
VIEW_TEXT = {"pending": "problem.view_pending", "rectifying": "problem.view_rectifying",
             "overdue": "problem.view_overdue", "closure_requested": "problem.view_closure_requested",
             "closed": "problem.view_closed", "coordination": "problem.view_coordination",
             MINE: "problem.view_mine"}
# The dialog that asks what an action needs (approve: a confirmation).
ACTION_DIALOG = {Action.accept: PROBLEM_ACCEPT, Action.approve: PROBLEM_APPROVE,
                 Action.reject: PROBLEM_REASON,
                 Action.send_back: PROBLEM_REASON, Action.decline_extension: PROBLEM_REASON,
                 Action.extend: PROBLEM_EXTEND, Action.reopen: PROBLEM_REOPEN,
                 Action.update: PROBLEM_UPDATE, Action.request_extension: PROBLEM_ASK_EXTENSION,
                 Action.request_closure: PROBLEM_CLOSURE}


def scope_of(member: Member) -> int | None:
    """The branch whose list ``member`` reads; None for the office (every branch)."""
    return None if sees_every_branch(member) else member.org_id


async def _scope_name(ctx: Context, member: Member) -> str:
    if sees_every_branch(member):
        return ctx.t("problem.scope_all")
    org = await OrgRepository(ctx.session).get(member.org_id)
    return org.name if org else ""


async def command(ctx: Context, args: str) -> list[Reply]:
    """``/problems`` and ``/problems export`` (who may: ``feature.py``)."""
    member = ctx.member
    assert member is not None
    if args.strip().lower() == EXPORT:
        return [await export_reply(ctx, member)]
    if args.strip():
        return [Reply(ctx.t("problem.board_usage"))]
    return await open_board(ctx, member)


async def export_reply(ctx: Context, member: Member) -> Reply:
    content = await export.export(ctx.t, ctx.session, scope_of(member), ctx.today, ctx.config.tz)
    return Reply(ctx.t("problem.export_caption", scope=await _scope_name(ctx, member)),
                 document=OutDocument(export.FILE_NAME, content))


async def open_board(ctx: Context, member: Member) -> list[Reply]:
    repo = ProblemRepository(ctx.session)
    numbers = await counts(repo, scope_of(member), ctx.today)
    shown = [v for v in VIEWS if v != "coordination" or sees_every_branch(member)]
    tabs = [[ctx.t("problem.view_label", name=ctx.t(VIEW_TEXT[v]), count=numbers.of_view(v)), v]
            for v in shown]
    text = views.summary(ctx.t, numbers, await _scope_name(ctx, member))
    return await engine.start(ctx, PROBLEM_BOARD, {"text": text, "tabs": tabs})


async def _tabs(ctx: Context, data: dict[str, Any]) -> list[Choice]:
    return [Choice(label, view) for label, view in data["tabs"]] + [
        Choice(ctx.t("problem.export_button"), EXPORT)]


async def board_chosen(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    assert ctx.member is not None
    if data["view"] == EXPORT:
        return [await export_reply(ctx, ctx.member)]
    return await open_list(ctx, data["view"])


async def progress_command(ctx: Context, _args: str) -> list[Reply]:
    """/progress: the member's own problems in work, each to act on."""
    return await open_list(ctx, MINE)


async def open_list(ctx: Context, view: str) -> list[Reply]:
    """One view of the list as numbered lines, each number a button opening that problem."""
    member = ctx.member
    assert member is not None
    repo = ProblemRepository(ctx.session)
    if view == MINE:
        problems = await repo.owned_in_work(member)
        if not problems:
            return [Reply(ctx.t("problem.progress_none"))]
    else:
        problems = await repo.listing(scope_of(member), view, ctx.today,
                                      limit=LIST_LIMIT + 1)
    shown = problems[:LIST_LIMIT]
    lines = [ctx.t("problem.list_header", name=ctx.t(VIEW_TEXT[view]))]
    lines += [views.line(ctx.t, n, p, ctx.today) for n, p in enumerate(shown, start=1)]
    if not problems:
        lines.append(ctx.t("problem.list_empty"))
    elif len(problems) > LIST_LIMIT:
        lines.append(ctx.t("problem.list_more", limit=LIST_LIMIT))
    else:
        lines.append(ctx.t("problem.list_pick"))
    return await engine.start(ctx, PROBLEM_LIST, {"text": "\n".join(lines),
                                                    "ids": [p.id for p in shown], "view": view})


async def _numbers(ctx: Context, data: dict[str, Any]) -> list[Choice]:
    choices = [Choice(str(n), problem_id, selector=str(n))
               for n, problem_id in enumerate(data["ids"], start=1)]
    return choices + ([Choice(ctx.t("dialog.back"), BACK)] if data["view"] != MINE else [])


async def list_chosen(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    assert ctx.member is not None
    if data["pick"] == BACK:
        return await open_board(ctx, ctx.member)
    return await open_detail(ctx, int(data["pick"]), data["view"])


async def open_detail(ctx: Context, problem_id: int, view: str) -> list[Reply]:
    """The problem card: fields, state, history, evidence, and the reader's action buttons."""
    member = ctx.member
    assert member is not None
    repo = ProblemRepository(ctx.session)
    problem = await repo.get(problem_id)
    if problem is None or not can_see(member, problem):
        return [Reply(ctx.t("problem.not_found"))]
    org = await OrgRepository(ctx.session).get(problem.org_id)
    history = await repo.history(problem.id)
    evidence = await repo.evidence(problem.id)
    text = views.detail(ctx.t, problem, org.name if org else "", history[-HISTORY_LIMIT:],
                        evidence, ctx.today, ctx.config.tz)
    if len(history) > HISTORY_LIMIT:
        text += "\n" + ctx.t("problem.history_more", count=len(history) - HISTORY_LIMIT)
    request = await repo.pending_extension(problem.id)
    if request is not None and request.new_deadline is not None:
        text += "\n" + ctx.t("problem.extension_pending", date=full_date(request.new_deadline),
                         note=request.note or "")
    offered = [a.value for a in actions_for(member, problem, await repo.owner_role(problem))
               if a is not Action.decline_extension or request is not None]
    return await engine.start(ctx, PROBLEM_DETAIL, {
        PROBLEM_ID: problem.id, "text": text, "actions": offered, "view": view,
        "evidence": [item.id for item in evidence],
        "requested": request.new_deadline.isoformat() if request and request.new_deadline else None,
        "request_note": request.note if request else None})


async def _actions(ctx: Context, data: dict[str, Any]) -> list[Choice]:
    files = [Choice(ctx.t("file.show", count=len(data["evidence"])), FILES)
             ] if data.get("evidence") else []
    return [Choice(ctx.t(ACTION_TEXT[a]), a) for a in data["actions"]] + files + [
        Choice(ctx.t("dialog.back"), BACK)]


async def detail_chosen(ctx: Context, data: dict[str, Any]) -> list[Reply]:
    if data["act"] == BACK:
        return await open_list(ctx, data["view"])
    if data["act"] == FILES:
        return await send_files(ctx, AttachmentOwner.problem_evidence, data["evidence"],
                                ctx.t("file.evidence_stem")) + await open_detail(
            ctx, data[PROBLEM_ID], data["view"])
    action = Action(data["act"])
    problem, refused = await actions.load(ctx, data[PROBLEM_ID], action)
    if problem is None:
        return [Reply(refused or ctx.t("problem.not_found"))]
    return await engine.start(ctx, ACTION_DIALOG[action], {
        PROBLEM_ID: problem.id, "action": action.value, "org_id": problem.org_id,
        "short": short(problem.description),
        "measures_now": problem.measures, "owner_now": problem.owner_name,
        "deadline_now": problem.deadline.isoformat(), "requested": data.get("requested"),
        "request_note": data.get("request_note")})


PROBLEM_BOARD = Dialog(name="problem_board", title="problem.board_title",
                steps=(Step("view", "problem.board_title", prepared, choices=_tabs),),
                finish=board_chosen, confirm=False)
PROBLEM_LIST = Dialog(name="problem_list", title="problem.board_title",
                steps=(Step("pick", "problem.board_title", prepared, choices=_numbers, columns=5),),
                finish=list_chosen, confirm=False)
PROBLEM_DETAIL = Dialog(name="problem_detail", title="problem.board_title",
                steps=(Step("act", "problem.board_title", prepared, choices=_actions),),
                finish=detail_chosen, confirm=False)
