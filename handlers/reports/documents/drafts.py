"""The Word drafts: a context's figures and prose as template placeholders, rendered into the
template shipped with the package or an office's own (``template=``).

Every placeholder is listed in ``TEMPLATES.md`` beside this file. Counts are numbers (an office's
template may compare them: ``{% if figures.visits %}``); hours, days, rates and dates are text as
the paper prints them ("5.5", "33%", "2023年11月9日").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from handlers.core.i18n import Translator
from handlers.reports.documents import personal_prose, stage_prose, templates
from handlers.reports.documents.context import (
    BranchFigures,
    DraftScope,
    MemberSummaryContext,
    StageSummaryContext,
)
from handlers.reports.documents.dates import document_date, document_period
from handlers.reports.documents.writing import Para, names, number, share

PACKAGE_TEMPLATES = Path(__file__).resolve().parent / "templates"
STAGE_TEMPLATE = PACKAGE_TEMPLATES / "stage_summary.docx"
PERSONAL_TEMPLATE = PACKAGE_TEMPLATES / "personal_summary.docx"


def _paras(paras: list[Para]) -> list[dict[str, str]]:
    return [asdict(p) for p in paras]


def _date(day: Any) -> str:
    return document_date(day) if day is not None else ""


def _branch(t: Translator, b: BranchFigures) -> dict[str, Any]:
    return {"name": b.name, "members": b.members, "reported": b.reported,
            "participation": share(t, b.reported, b.members), "study_hours": number(b.study_hours),
            "hours_per_member": number(b.hours_per_member) if b.hours_per_member is not None
            else t("report.none"),
            "visits": b.visits, "shuxue_periods": b.shuxue_periods, "problems_accepted": b.problems_accepted,
            "problems_closed": b.problems_closed, "rate": share(t, b.problems_closed, b.problems_accepted),
            "overdue": b.overdue}


def _counted(counts: Mapping[str, int], key: str) -> list[dict[str, Any]]:
    return [{key: name, "count": n} for name, n in counts.items() if n]


def stage_figures(t: Translator, c: StageSummaryContext) -> dict[str, Any]:
    """Every figure of the draft, by the names ``TEMPLATES.md`` lists under ``figures``."""
    s, r, p, o = c.study, c.research, c.problems, c.org_life
    by_form = s.sessions_by_form
    return {
        "organisations": c.organisations, "organisations_active": c.organisations_active,
        "members": c.members, "reported": c.reported, "participation": share(t, c.reported, c.members),
        "campaign_start": _date(c.campaign_start),
        "study_hours": number(s.hours),
        "hours_per_member": number(s.hours / c.members) if c.members else t("report.none"),
        "sessions_total": s.group_sessions,
        "sessions_meetings": sum(by_form.get(f, 0) for f in stage_prose.MEETING_FORMS),
        "sessions_centre_group": by_form.get(stage_prose.CENTRE_GROUP, 0),
        "sessions_joint": by_form.get(stage_prose.JOINT, 0),
        "attendances": s.attendances,
        "reading_days": number(s.reading_days),
        "reading_target_days": number(s.reading_target_days) if s.reading_target_days else "",
        "reading_due": _date(s.reading_due),
        "shuxue_answers": s.shuxue_answers, "shuxue_streak": s.shuxue_streak,
        "lectures": s.lectures, "lecturers": names(t, s.lecturers), "lecturers_count": len(s.lecturers),
        "secretaries": s.secretaries,
        "topics": r.topics, "topic_owners": r.topic_owners, "trips": r.trips, "visits": r.visits,
        "solved": r.solved, "paired_villages": r.paired_villages, "covered_villages": r.covered_villages,
        "round_name": r.round_name, "round_due": _date(r.round_due),
        "commitments": r.commitments, "commitments_kept": r.commitments_kept,
        "problems_listed": p.listed, "problems_found": p.found_in_period, "problems_pending": p.pending,
        "problems_accepted": p.accepted, "problems_rectifying": p.rectifying,
        "problems_closure_requested": p.closure_requested, "problems_awaiting_closure": p.awaiting_closure,
        "problems_closed": p.closed,
        "problems_closed_in_period": p.closed_in_period, "problems_measures": p.measures,
        "problems_overdue": p.overdue, "problems_reopened": p.reopened,
        "rectification_rate": share(t, p.closed, p.accepted),
        "meetings": o.meetings, "meetings_complete": o.complete, "meetings_incomplete": len(o.incomplete),
        "absences": o.absences, "makeups_done": o.makeups_done,
        "makeups_outstanding": len(o.makeups_outstanding),
        "not_reported": len(c.not_reported),
    }


def stage_context(t: Translator, c: StageSummaryContext) -> dict[str, Any]:
    """The placeholders of a stage summary (``TEMPLATES.md``)."""
    return {
        "title": t("doc.stage_title", organisation=c.organisation),
        "organisation": c.organisation,
        "scope": c.scope.value,
        "date": document_date(c.written_on),
        "period": document_period(c.period_start, c.period_end),
        "opening": stage_prose.opening(t, c),
        "overall": _paras(stage_prose.overall(t, c)),
        "study": _paras(stage_prose.study(t, c)),
        "research": _paras(stage_prose.research(t, c)),
        "problems": _paras(stage_prose.problems(t, c)),
        "org_life": _paras(stage_prose.org_life(t, c)),
        "shortfalls": _paras(stage_prose.shortfalls(t, c)),
        "plan": _paras(stage_prose.plan(t, c)),
        "show_branches": c.scope is DraftScope.office and len(c.branches) > 1,
        "branches": [_branch(t, b) for b in stage_prose.branch_rows(c)],
        "sessions_by_form": _counted(c.study.sessions_by_form, "form"),
        "meetings_by_kind": _counted(c.org_life.meetings_by_kind, "kind"),
        "incomplete_meetings": [{"branch": m.branch, "date": document_date(m.day), "kind": m.kind,
                                 "missing": "、".join(m.missing)} for m in c.org_life.incomplete],
        "makeups_outstanding": [{"name": m.name, "branch": m.branch, "date": document_date(m.day),
                                 "kind": m.kind} for m in c.org_life.makeups_outstanding],
        "not_reported": list(c.not_reported),
        "milestones": [{"date": document_date(m.day), "title": m.title}
                       for m in sorted(c.milestones, key=lambda m: m.day) if m.day >= c.written_on],
        "figures": stage_figures(t, c),
    }


def personal_context(t: Translator, c: MemberSummaryContext) -> dict[str, Any]:
    """The placeholders of a member's 学习总结 (``TEMPLATES.md``)."""
    return {
        "title": t("doc.personal_title", name=c.name),
        "name": c.name,
        "branch": c.branch,
        "date": document_date(c.written_on),
        "period": document_period(c.period_start, c.period_end),
        "intro": _paras(personal_prose.opening(t, c)),
        "study": _paras(personal_prose.study(t, c)),
        "research": _paras(personal_prose.research(t, c)),
        "problems": _paras(personal_prose.problems(t, c)),
        "shortfalls": _paras(personal_prose.shortfalls(t, c)),
        "plan": _paras(personal_prose.plan(t, c)),
        "figures": {
            "hours": number(c.hours),
            "target_hours": number(c.target_hours) if c.target_hours is not None else "",
            "meetings_attended": c.meetings_attended, "meetings_missed": len(c.meetings_missed),
            "makeups_done": c.makeups_done, "makeups_outstanding": c.makeups_outstanding,
            "shuxue_answers": c.shuxue_answers, "shuxue_periods": c.shuxue_periods,
            "visits": c.visits, "solved": c.solved, "topic": c.topic, "trips": c.trips,
            "problems_found": c.problems_found, "problems_owned": c.problems_owned,
            "problems_owned_closed": c.problems_owned_closed,
            "problems_owned_overdue": c.problems_owned_overdue,
            "commitment": c.commitment, "commitment_kept": c.commitment_kept,
            "books": "、".join(c.books),
        },
    }


def render_stage_summary(t: Translator, c: StageSummaryContext, template: Path | bytes | None = None) -> bytes:
    """The office's or branch's 阶段性总结 as .docx bytes (``templates.TemplateProblem`` when an
    office's template does not fit). CPU work: run it in a worker thread."""
    return templates.render(t, template or STAGE_TEMPLATE, stage_context(t, c))


def render_personal_summary(t: Translator, c: MemberSummaryContext, template: Path | bytes | None = None) -> bytes:
    """A member's 学习总结 as .docx bytes."""
    return templates.render(t, template or PERSONAL_TEMPLATE, personal_context(t, c))
