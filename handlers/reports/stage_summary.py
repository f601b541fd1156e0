"""The Word drafts from the database: the office's or a branch's 阶段性总结, a member's 学习总结.

Every number comes from ``storage.queries.figures`` (the one definition of each figure, shared
with /summary and the 汇总 sheet); what a paper says besides them (overdue and 回潮 problems,
meetings missing 四必有 items, make-ups outstanding, lecturers, a member's own records) comes from
``storage.queries.drafts``, and the campaign's coming milestones from its calendar. The contexts
(``documents.context``) are rendered by ``documents.drafts`` into the shipped template or the
office's own.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from handlers.core.i18n import Translator
from handlers.meetings.rules import missing_of
from handlers.reports.documents import drafts
from handlers.reports.documents.context import (
    BranchFigures,
    DraftScope,
    IncompleteMeeting,
    MakeupDue,
    MeetingRef,
    MemberSummaryContext,
    Milestone,
    OrgLifeFigures,
    ProblemFigures,
    ResearchFigures,
    StageSummaryContext,
    StudyFigures,
)
from handlers.reports.periods import Period, campaign_span
from handlers.reports.summary import RollupRow, Summary, rollup, summary
from storage.db import Session
from storage.queries import drafts as facts
from storage.queries import figures, papers
from storage.queries.figures import Totals
from storage.queries.papers import PaperFigures
from storage.queries.pushes import milestones_from
from storage.queries.scope import Scope
from storage.repositories.orgs import OrgRepository
from storage.vocabulary import (
    CENTRE_GROUP_FORM,
    JOINT_FORM,
    MEETING_KINDS,
    ORG_LIFE_FORMS,
    READING_CLASS,
)

@dataclass(frozen=True)
class DraftRequest:
    scope: Scope
    title: str  # the organisation, or the member
    period: Period
    tz: ZoneInfo
    today: date
    office: bool  # every branch side by side
    target_hours: int = 32  # a member's yearly study target


def _hours(minutes: int) -> float:
    return minutes / 60


def _problems(totals: Totals, states: facts.ProblemStates, p: PaperFigures) -> ProblemFigures:
    return ProblemFigures(listed=totals.problems_listed, found_in_period=totals.problems_found,
                          pending=states.pending, rectifying=states.rectifying,
                          awaiting_closure=states.closure_requested, closure_requested=p.closure_requested,
                          closed=totals.problems_closed, closed_in_period=totals.problems_closed_in_period,
                          measures=p.measures, overdue=states.overdue, reopened=states.reopened)


def _reading_due(coming: list[Any]) -> date | None:
    """When the 读书班 is to be finished: the calendar's first coming milestone that names it."""
    due = [m.due for m in coming if READING_CLASS in m.name]
    return min(due) if due else None


def _sum_states(states: dict[int, facts.ProblemStates]) -> facts.ProblemStates:
    out = facts.ProblemStates()
    for s in states.values():
        out.pending += s.pending
        out.rectifying += s.rectifying
        out.closure_requested += s.closure_requested
        out.overdue += s.overdue
        out.reopened += s.reopened
    return out


def _org_life(t: Translator, life: facts.OrgLife) -> OrgLifeFigures:
    kinds = Counter(m.kind for m in life.meetings)
    ordered = {k: kinds[k] for k in (*MEETING_KINDS, *sorted(set(kinds) - set(MEETING_KINDS))) if kinds[k]}
    incomplete = []
    for m in life.meetings:
        missing = missing_of(t, timed=m.timed, topic=m.topic, procedure=m.procedure, record=m.record)
        if missing:
            incomplete.append(IncompleteMeeting(m.org, m.day, m.kind, tuple(missing)))
    return OrgLifeFigures(
        meetings_by_kind=ordered, complete=len(life.meetings) - len(incomplete), incomplete=tuple(incomplete),
        absences=life.absences, makeups_done=sum(1 for a in life.makeups if a.made_up),
        makeups_outstanding=tuple(MakeupDue(a.name, a.org, a.day, a.kind) for a in life.makeups
                                  if not a.made_up))


def _branch(name: str, n: Totals, states: facts.ProblemStates) -> BranchFigures:
    return BranchFigures(name, n.members, n.reported, _hours(n.study_minutes), n.visits, n.shuxue_periods,
                         n.problems_accepted, n.problems_closed, states.overdue)


async def _milestones(session: Session, today: date, branches: list[str]) -> tuple[Milestone, ...]:
    """The calendar's milestones from today, those for every branch or for one in scope."""
    coming = await milestones_from(session, today)
    return tuple(Milestone(m.due, m.name) for m in sorted(coming, key=lambda m: m.due)
                 if not m.branches or set(m.branches) & set(branches))


async def stage_context(t: Translator, session: Session, request: DraftRequest,
                        found: Summary | None = None, side: list[RollupRow] | None = None) -> StageSummaryContext:
    """The office's (``request.office``) or one branch's 阶段性总结, from the database. ``found``
    and ``side`` are the scope's summary and its branches side by side, when the caller has them
    already (a year of a bureau's figures is counted once for all the files)."""
    scope, period, tz = request.scope, request.period, request.tz
    if found is None:
        found = await summary(session, scope, request.title, period, tz, compare=False,
                              members=not request.office)
    if side is None:
        side = await rollup(session, period, tz, scope.org_ids)
    by_org = {row.org_id: row.totals for row in side}
    n = found.totals
    p = found.papers or await papers.paper_figures(session, scope, period, tz)
    states = await facts.problem_states(session, scope, period, tz, request.today)
    life = await facts.org_life(session, scope, period)
    by_form = await figures.hours_by_form(session, scope, period)
    span = await campaign_span(session)
    branches = [(row.org_id, row.name) for row in side]
    names = [name for _, name in branches]
    study = StudyFigures(
        hours=_hours(n.study_minutes), hours_by_form={form: _hours(m) for form, m in by_form.items()},
        sessions_by_form={ORG_LIFE_FORMS[0]: p.org_life_sessions, CENTRE_GROUP_FORM: p.centre_group_sessions,
                          JOINT_FORM: p.joint_sessions},
        attendances=n.group_attendances,
        reading_days=p.reading_class_days,
        reading_target_days=float(p.reading_class_target) if p.reading_class_target else None,
        reading_due=_reading_due(await milestones_from(session, request.today)),
        shuxue_answers=n.shuxue_answers, shuxue_streak=p.shuxue_weeks, lectures=p.lectures,
        lecturers=tuple(dict.fromkeys(x.name for x in p.lecturers if x.secretary)),
        secretaries=p.secretaries)
    research = ResearchFigures(
        topics=p.research_topics, topic_owners=len({(x.branch, x.owner) for x in p.topics if x.owner}),
        trips=p.research_trips, visits=n.visits, solved=n.solved, paired_villages=p.paired_places,
        covered_villages=p.covered_places, commitments=n.commitments, commitments_kept=n.commitments_kept)
    members = [] if request.office else found.members
    return StageSummaryContext(
        scope=DraftScope.office if request.office else DraftScope.branch, organisation=request.title,
        period_start=period.start, period_end=period.end, written_on=request.today,
        campaign_start=span.start, organisations=len(branches),
        organisations_active=sum(1 for org_id, _ in branches if by_org.get(org_id, Totals()).reported),
        members=n.members, reported=n.reported, study=study, research=research,
        problems=_problems(n, _sum_states(states), p), org_life=_org_life(t, life),
        branches=tuple(_branch(name, by_org.get(org_id, Totals()), states.get(org_id, facts.ProblemStates()))
                       for org_id, name in branches) if request.office else (),
        not_reported=tuple(m.name for m in members if not m.reported),
        milestones=await _milestones(session, request.today, names))


def target_hours(period: Period, yearly: int) -> float:
    """The period's share of the yearly study target."""
    days = (period.end - period.start).days + 1
    return yearly * min(days, 365) / 365


async def member_context(t: Translator, session: Session, request: DraftRequest) -> MemberSummaryContext:
    """A member's personal 学习总结: their own figures and records, nobody else's."""
    scope, period, tz = request.scope, request.period, request.tz
    assert scope.member_id is not None
    mine = next(iter(await figures.member_figures(session, scope, period, tz)), None)
    own = await facts.own_records(session, scope.member_id, period, tz, request.today)
    life = await facts.org_life(session, scope, period)
    org = await OrgRepository(session).get(scope.org_ids[0]) if scope.org_ids else None
    span = await campaign_span(session)
    missed = tuple(MeetingRef(a.day, a.kind) for a in life.makeups)
    return MemberSummaryContext(
        name=request.title, branch=org.name if org else "", period_start=period.start, period_end=period.end,
        written_on=request.today, campaign_start=span.start,
        hours=_hours(mine.study_minutes) if mine else 0.0,
        hours_by_form={form: _hours(m) for form, m in mine.minutes_by_form.items()} if mine else {},
        target_hours=target_hours(period, request.target_hours), books=tuple(own.books), meetings_attended=own.meetings_attended,
        meetings_missed=missed, makeups_done=sum(1 for a in life.makeups if a.made_up),
        shuxue_answers=mine.shuxue_answers if mine else 0, shuxue_periods=own.shuxue_periods,
        visits=mine.visits if mine else 0, solved=mine.solved if mine else 0, topic=own.topic,
        problems_found=mine.problems_found if mine else 0, problems_owned=own.problems_owned,
        problems_owned_closed=own.problems_owned_closed, problems_owned_overdue=own.problems_owned_overdue,
        commitment=own.commitment, commitment_kept=bool(mine and mine.commitment_kept))


async def gather(t: Translator, session: Session, request: DraftRequest, found: Summary | None = None,
                 side: list[RollupRow] | None = None) -> StageSummaryContext | MemberSummaryContext:
    """The draft's context for the request's scope: a member's, or the office's or a branch's."""
    if request.scope.member_id is not None:
        return await member_context(t, session, request)
    return await stage_context(t, session, request, found, side)


def render(t: Translator, context: StageSummaryContext | MemberSummaryContext,
           template: Path | bytes | None = None) -> bytes:
    """The draft as .docx bytes (CPU work: run it in a worker thread, with no session open);
    ``documents.templates.TemplateProblem`` when an office's template does not fit. A member's
    personal summary always uses the shipped template."""
    if isinstance(context, MemberSummaryContext):
        return drafts.render_personal_summary(t, context)
    return drafts.render_stage_summary(t, context, template)
