"""The prose of a member's personal 学习总结: what the member did, in the first person ("本人"),
and where they fall short by their own figures. Nothing about the branch's members or rates."""

from __future__ import annotations

from handlers.core.i18n import Translator
from handlers.reports.documents.context import MemberSummaryContext
from handlers.reports.documents.dates import document_date, document_period
from handlers.reports.documents.writing import Para, names, number, ordinal_clauses, sentence

BOOKS = 4  # books named in the study paragraph


def period(t: Translator, c: MemberSummaryContext) -> str:
    if c.campaign_start is not None and c.period_start <= c.campaign_start:
        return t("doc.me_since_start", start=document_date(c.campaign_start))
    return t("doc.in_period", period=document_period(c.period_start, c.period_end))


def opening(t: Translator, c: MemberSummaryContext) -> list[Para]:
    return [Para("", t("doc.me_opening", period=period(t, c)))]


def _target(t: Translator, c: MemberSummaryContext) -> str:
    if c.target_hours is None or not c.hours:
        return ""
    if c.hours >= c.target_hours:
        return t("doc.me_target_met", target=number(c.target_hours))
    return t("doc.me_target_short", target=number(c.target_hours), left=number(c.target_hours - c.hours))


def study(t: Translator, c: MemberSummaryContext) -> list[Para]:
    """一、学习情况: hours by form against the target, meetings attended, books, 述学."""
    if not c.hours and not c.meetings_attended and not c.shuxue_answers:
        return [Para("", t("doc.me_study_none"))]
    out = []
    if c.hours:
        forms = "、".join(t("doc.me_form_hours", form=form, hours=number(h))
                         for form, h in sorted(c.hours_by_form.items(), key=lambda item: -item[1]) if h)
        out.append(Para("", sentence([t("doc.me_hours", hours=number(c.hours)),
                                      t("doc.me_hours_forms", forms=forms) if forms else "", _target(t, c)])))
    clauses = []
    if c.meetings_attended:
        clauses.append(t("doc.me_meetings", n=c.meetings_attended))
    if c.books:
        clauses.append(t("doc.me_books", books="、".join(c.books[:BOOKS])))
    if c.shuxue_answers:
        every = c.shuxue_periods and c.shuxue_answers >= c.shuxue_periods
        clauses.append(t("doc.me_shuxue_every", n=c.shuxue_answers) if every
                       else t("doc.me_shuxue", n=c.shuxue_answers))
    if clauses:
        out.append(Para("", sentence(clauses)))
    return out


def research(t: Translator, c: MemberSummaryContext) -> list[Para]:
    """二、调查研究和为民办实事: visits and problems solved, the topic, the commitment."""
    clauses = []
    if c.topic:
        clauses.append(t("doc.me_topic_trips", topic=c.topic, n=c.trips) if c.trips
                       else t("doc.me_topic", topic=c.topic))
    if c.visits:
        clauses.append(t("doc.me_visits", n=c.visits))
        if c.solved:
            clauses.append(t("doc.me_solved", n=c.solved))
    if c.commitment:
        clauses.append(t("doc.me_commitment", commitment=c.commitment))
        clauses.append(t("doc.me_commitment_kept") if c.commitment_kept else t("doc.me_commitment_open"))
    return [Para("", sentence(clauses) if clauses else t("doc.me_research_none"))]


def problems(t: Translator, c: MemberSummaryContext) -> list[Para]:
    """三、检视整改: problems found, and those the member is responsible for."""
    clauses = []
    if c.problems_found:
        clauses.append(t("doc.me_found", n=c.problems_found))
    if c.problems_owned:
        clauses.append(t("doc.me_owned", n=c.problems_owned))
        clauses.append(t("doc.me_owned_closed", n=c.problems_owned_closed) if c.problems_owned_closed
                       else t("doc.me_owned_none_closed"))
    return [Para("", sentence(clauses) if clauses else t("doc.me_problems_none"))]


def _gaps(t: Translator, c: MemberSummaryContext) -> list[str]:
    gaps = []
    if c.target_hours is not None and c.hours < c.target_hours:
        gaps.append(t("doc.me_gap_hours", hours=number(c.hours), target=number(c.target_hours)))
    if c.makeups_outstanding:
        missed = [document_date(m.day) + m.kind for m in c.meetings_missed]
        gaps.append(t("doc.me_gap_makeups", n=c.makeups_outstanding, meetings=names(t, missed, 3)))
    if c.shuxue_periods and c.shuxue_answers < c.shuxue_periods:
        gaps.append(t("doc.me_gap_shuxue", n=c.shuxue_periods - c.shuxue_answers))
    if not c.visits:
        gaps.append(t("doc.me_gap_visits"))
    if c.problems_owned_overdue:
        gaps.append(t("doc.me_gap_overdue", n=c.problems_owned_overdue))
    return gaps


def shortfalls(t: Translator, c: MemberSummaryContext) -> list[Para]:
    """四、存在的不足: the member's own gaps, or the usual humility when the figures show none."""
    gaps = _gaps(t, c)
    return [Para("", ordinal_clauses(t, gaps) if gaps else t("doc.me_gap_none"))]


def plan(t: Translator, c: MemberSummaryContext) -> list[Para]:
    """五、下一步打算: what the gaps call for, then the standing resolutions."""
    steps = []
    if c.target_hours is not None and c.hours < c.target_hours:
        steps.append(t("doc.me_plan_hours", left=number(c.target_hours - c.hours)))
    if c.makeups_outstanding:
        steps.append(t("doc.me_plan_makeups", n=c.makeups_outstanding))
    if c.shuxue_periods and c.shuxue_answers < c.shuxue_periods:
        steps.append(t("doc.me_plan_shuxue"))
    if c.problems_owned_overdue:
        steps.append(t("doc.me_plan_overdue", n=c.problems_owned_overdue))
    if c.commitment and not c.commitment_kept:
        steps.append(t("doc.me_plan_commitment"))
    steps.append(t("doc.me_plan_study"))
    steps.append(t("doc.me_plan_practice"))
    return [Para("", ordinal_clauses(t, steps))]
