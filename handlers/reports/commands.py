"""/summary and /report in the chat, with who may see what.

A member sees their own figures, a secretary their branch, the office every branch. Paging
buttons carry the page and the period (``ReportPage``); each press checks the presser's rights
again, so an old or forged button can show nothing its presser may not see.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from handlers.core.buttons import ReportPage
from handlers.core.context import Context
from handlers.core.events import Button, Outcome, Reply
from handlers.core.i18n import Translator
from handlers.core.parsing import InvalidInput, normalize
from handlers.core.policy import leads, sees_every_branch
from handlers.reports import org_life
from handlers.reports.files import FORMAT_WORDS, FORMATS, Made, Request, Step, produce
from handlers.reports.periods import (
    Period,
    campaign,
    campaign_span,
    from_button,
    parse_period,
)
from handlers.reports.summary import bureau, rollup, summary
from handlers.reports.text import branch_text, member_text, pages, rollup_text
from storage.db import Sessions
from storage.models import Member, OrgKind
from storage.queries.scope import Scope
from storage.repositories.orgs import OrgRepository

ALL_WORDS = ("all", "全部", "全局", "各支部")


@dataclass(frozen=True)
class Audience:
    """What one requester may see: their own figures, their branch, or every branch."""

    kind: str  # "member" | "branch" | "office"
    scope: Scope
    title: str


def audience(member: Member) -> Audience:
    if sees_every_branch(member):
        return Audience("office", Scope(None), member.org.name)
    if leads(member, member.org_id):
        return Audience("branch", Scope((member.org_id,)), member.org.name)
    return Audience("member", Scope((member.org_id,), member.id), member.name)


async def _branch_named(ctx: Context, word: str) -> tuple[int, str] | None:
    org = await OrgRepository(ctx.session).by_name(word)
    return (org.id, org.name) if org is not None and org.kind is OrgKind.branch else None


async def _narrow(ctx: Context, who: Audience, words: list[str]) -> tuple[Audience, list[str]] | Reply:
    """The office may name one branch (first word); anyone else naming one is refused."""
    if not words:
        return who, words
    found = await _branch_named(ctx, normalize(words[0]))
    if found is None:
        return who, words
    if who.kind != "office":
        return Reply(ctx.t("report.not_allowed"))
    return Audience("branch", Scope((found[0],)), found[1]), words[1:]


async def _period(ctx: Context, words: list[str], default: str) -> Period:
    span = await campaign_span(ctx.session)
    if not words and default == "campaign":
        return campaign(span, ctx.today)
    return parse_period(words, ctx.today, span)


def _page_buttons(t: Translator, org_id: int | None, period: Period, page: int,
                  total: int) -> tuple[tuple[Button, ...], ...]:
    if total <= 1:
        return ()

    def to(number: int) -> str:
        return ReportPage(org_id, period.kind, period.start, period.end, number).pack()

    row = []
    if page > 1:
        row.append(Button(t("report.prev_page"), data=to(page - 1)))
    if page < total:
        row.append(Button(t("report.next_page"), data=to(page + 1)))
    return (tuple(row),)


async def _branch_reply(ctx: Context, who: Audience, period: Period, page: int,
                        edit: bool = False) -> Reply:
    found = await summary(ctx.session, who.scope, who.title, period, ctx.config.tz)
    if who.kind == "member":
        return Reply(member_text(ctx.t, found), edit=edit)
    assert who.scope.org_ids is not None
    total = pages(len(found.members))
    page = min(max(page, 1), total)
    text = branch_text(ctx.t, found, page) + await org_life.summary_block(
        ctx.t, ctx.session, who.scope, period)
    return Reply(text, edit=edit, buttons=_page_buttons(ctx.t, who.scope.org_ids[0], period, page, total))


async def _rollup_reply(ctx: Context, period: Period, page: int, edit: bool = False) -> Reply:
    rows = await rollup(ctx.session, period, ctx.config.tz)
    total = pages(len(rows))
    page = min(max(page, 1), total)
    header = ctx.t("report.rollup_header", period=period.shown(ctx.t))
    overall = await bureau(ctx.session, rows, header, period, ctx.config.tz)
    text = rollup_text(ctx.t, rows, header, page, overall) + await org_life.summary_block(
        ctx.t, ctx.session, Scope(None), period)
    return Reply(text, edit=edit, buttons=_page_buttons(ctx.t, None, period, page, total))


async def summary_command(ctx: Context, args: str) -> list[Reply]:
    """/summary [all | 支部名] [本周|本月|上周|上月|全程|起 止]."""
    assert ctx.member is not None
    who = audience(ctx.member)
    words = normalize(args).split()
    everyone = bool(words) and words[0].lower() in ALL_WORDS
    if everyone:
        if who.kind != "office":
            return [Reply(ctx.t("report.office_only"))]
        words = words[1:]
    narrowed = await _narrow(ctx, who, words)
    if isinstance(narrowed, Reply):
        return [narrowed]
    who, words = narrowed
    try:
        period = await _period(ctx, words, "this_month")
    except InvalidInput as error:
        return [Reply(f"{error.text(ctx.t)}\n{ctx.t('report.summary_usage')}")]
    if who.kind == "office":
        return [await _rollup_reply(ctx, period, 1)]
    return [await _branch_reply(ctx, who, period, 1)]


async def on_button(ctx: Context, pressed: ReportPage) -> Outcome:
    """A paging button: the branch's page (or every branch's), if the presser may see it."""
    period = from_button(pressed.kind, pressed.start, pressed.end, ctx.today)
    if period is None:
        return Outcome(notice=ctx.t("button.stale"))  # no button of ours names such a period
    member, org_id, number = ctx.member, pressed.org_id, pressed.page
    if member is None or not leads(member, org_id):
        return Outcome(notice=ctx.t("report.not_allowed"))
    if org_id is None:
        return Outcome([await _rollup_reply(ctx, period, number, edit=True)])
    names = dict(await OrgRepository(ctx.session).branches((org_id,)))
    if org_id not in names:
        return Outcome(notice=ctx.t("button.stale"))
    who = Audience("branch", Scope((org_id,)), names[org_id])
    return Outcome([await _branch_reply(ctx, who, period, number, edit=True)])


async def report_command(ctx: Context, args: str) -> list[Reply]:
    """/report [支部名] [xlsx|docx|png …] [period]: the files, with progress shown as they are made."""
    assert ctx.member is not None
    words = normalize(args).split()
    formats = tuple(dict.fromkeys(FORMAT_WORDS[w.lower()] for w in words if w.lower() in FORMAT_WORDS))
    words = [w for w in words if w.lower() not in FORMAT_WORDS and w.lower() not in ALL_WORDS]
    narrowed = await _narrow(ctx, audience(ctx.member), words)
    if isinstance(narrowed, Reply):
        return [narrowed]
    who, words = narrowed
    try:
        period = await _period(ctx, words, "campaign")
    except InvalidInput as error:
        return [Reply(f"{error.text(ctx.t)}\n{ctx.t('report.report_usage')}")]
    request = Request(who.scope, who.title, period, ctx.config.tz, formats or FORMATS,
                      side_by_side=who.kind == "office", texts=ctx.t, today=ctx.today,
                      template=ctx.config.report_template if who.kind != "member" else None,
                      target_hours=ctx.config.study_target_hours)

    def job(sessions: Sessions) -> AsyncIterator[Reply]:
        return _progress(sessions, request)

    ctx.followup = job
    return [Reply(ctx.t("report.generating", period=period.shown(ctx.t)))]


async def _progress(sessions: Sessions, request: Request) -> AsyncIterator[Reply]:
    """The "正在生成…" message edited at each step (``edit``, and the step as ``progress``), and
    each file as it is done."""
    t = request.texts
    done: list[str] = []
    files = 0
    async for item in produce(sessions, request):
        if isinstance(item, Step):
            step = f"… {item.text}"
            steps = "\n".join([*(f"✓ {d}" for d in done), step])
            yield Reply(t("report.generating", period=request.period.shown(t)) + "\n" + steps,
                        edit=True, progress=step)
            done.append(item.text)
        elif isinstance(item, Made):
            files += 1
            yield Reply(item.caption, document=item.document)
        else:
            yield Reply(item.text)
    finished = t("report.done", count=files)
    yield Reply(finished, edit=True, progress=finished)
