"""The Word stage summary (阶段性总结): the structure of the office's own papers, every figure
computed, no "X" left. Where the data for a sentence is missing, the sentence says so.

The office edits the prose; the numbers come from ``handlers.reports.figures``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from handlers.core.i18n import Translator
from handlers.reports.periods import Period
from handlers.reports.summary import RollupRow
from handlers.reports.text import hours, papers_lines, percent, reading_days
from storage.queries.figures import Totals
from storage.queries.papers import PaperFigures

FONT = "宋体"


@dataclass
class StageData:
    title: str  # the organization the summary speaks for
    period: Period
    totals: Totals
    hours_by_form: dict[str, int]
    not_reported: list[str]
    branches: list[RollupRow] = field(default_factory=list)  # the office's: every branch, laggards first
    papers: PaperFigures | None = None


def _uneven(rows: list[RollupRow]) -> bool:
    """Several branches, and not all with the same participation."""
    rates = {row.totals.participation for row in rows}
    return len(rows) > 1 and len(rates) > 1


def _overall(t: Translator, d: StageData) -> list[str]:
    n = d.totals
    out = [t("stage.overall_members", period=d.period.shown(t), title=d.title, members=n.members,
             reported=n.reported, rate=percent(t, n.participation)) if n.members
           else t("stage.overall_no_members", title=d.title)]
    if n.study_records or n.visits:
        out.append(t("stage.overall_records", study=n.study_records, hours=hours(n.study_minutes),
                     per_member=hours(int(n.study_minutes / n.members)) if n.members else t("report.none"),
                     visits=n.visits))
    else:
        out.append(t("stage.overall_no_records"))
    if _uneven(d.branches):
        slow = [row.name for row in d.branches[:3]]
        out.append(t("stage.overall_branches", count=len(d.branches), slow="、".join(slow)))
    return out


def _study(t: Translator, d: StageData) -> list[str]:
    n = d.totals
    out = []
    if n.group_sessions:
        out.append(t("stage.group_study", sessions=n.group_sessions, attendances=n.group_attendances))
    else:
        out.append(t("stage.group_study_none"))
    if n.reading_days:
        days = (reading_days(t, d.papers) if d.papers is not None
                else t("papers.reading_days_no_target", days=n.reading_days))
        out.append(t("stage.reading_class", days=days, attendances=n.reading_attendances))
    else:
        out.append(t("stage.reading_class_none"))
    if d.hours_by_form:
        forms = "、".join(f"{form}{hours(minutes)}小时" for form, minutes in
                         sorted(d.hours_by_form.items(), key=lambda item: -item[1]))
        out.append(t("stage.forms", forms=forms))
    if n.shuxue_answers:
        out.append(t("stage.shuxue", answers=n.shuxue_answers, periods=n.shuxue_periods,
                     streak=n.shuxue_streak))
    else:
        out.append(t("stage.shuxue_none"))
    return out


def _papers(t: Translator, d: StageData) -> list[str]:
    """The figures the office's papers report, as the chat's lines say them."""
    return [line + "。" for line in papers_lines(t, d.papers, reading=False)] if d.papers is not None else []


def _research(t: Translator, d: StageData) -> list[str]:
    n = d.totals
    if not n.visits:
        return [t("stage.visits_none")]
    out = [t("stage.visits", visits=n.visits, solved=n.solved)]
    out.append(t("stage.topics", topics=n.topics) if n.topics else t("stage.topics_none"))
    return out


def _problems(t: Translator, d: StageData) -> list[str]:
    n = d.totals
    if not n.problems_listed:
        return [t("stage.problems_none")]
    out = [t("stage.problems", found=n.problems_found, listed=n.problems_listed,
             accepted=n.problems_accepted, closed=n.problems_closed)]
    if n.problems_accepted:
        out.append(t("stage.rate", rate=percent(t, n.rectification_rate), closed_now=n.problems_closed_in_period))
    else:
        out.append(t("stage.rate_none"))
    if n.commitments:
        out.append(t("stage.commitments", made=n.commitments, kept=n.commitments_kept))
    else:
        out.append(t("stage.commitments_none"))
    return out


def _shortfalls(t: Translator, d: StageData) -> list[str]:
    n = d.totals
    out = []
    if d.not_reported:
        names = "、".join(d.not_reported[:20]) + ("等" if len(d.not_reported) > 20 else "")
        out.append(t("stage.gap_not_reported", count=len(d.not_reported), names=names))
    open_problems = n.problems_accepted - n.problems_closed
    if open_problems > 0:
        out.append(t("stage.gap_open_problems", count=open_problems))
    pending = n.problems_listed - n.problems_accepted
    if pending > 0:
        out.append(t("stage.gap_pending_problems", count=pending))
    if n.commitments and n.commitments_kept < n.commitments:
        out.append(t("stage.gap_commitments", count=n.commitments - n.commitments_kept))
    if _uneven(d.branches):
        slow = [f"{row.name}（{percent(t, row.totals.participation)}）" for row in d.branches[:3]]
        out.append(t("stage.gap_uneven", slow="、".join(slow)))
    return out or [t("stage.gap_none")]


def _plan(t: Translator, d: StageData) -> list[str]:
    n = d.totals
    out = [t("stage.plan_study")]
    out.append(t("stage.plan_visits"))
    open_problems = n.problems_accepted - n.problems_closed
    out.append(t("stage.plan_problems", count=open_problems) if open_problems > 0
               else t("stage.plan_problems_none"))
    out.append(t("stage.plan_archive"))
    return out


def render(t: Translator, d: StageData) -> bytes:
    """The .docx bytes (CPU work: run it in a worker thread, where python-docx is also imported
    the first time, not on the event loop)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name, style.font.size = FONT, Pt(12)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    heading = doc.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = heading.add_run(t("stage.title", title=d.title))
    run.bold, run.font.size = True, Pt(18)
    dates = doc.add_paragraph(f"（{d.period.start.isoformat()}至{d.period.end.isoformat()}）")
    dates.alignment = WD_ALIGN_PARAGRAPH.CENTER
    sections: list[tuple[str, list[tuple[str | None, list[str]]]]] = [
        (t("stage.h_overall"), [(None, _overall(t, d))]),
        (t("stage.h_key_work"), [(t("stage.h_study"), _study(t, d)), (t("stage.h_research"), _research(t, d)),
                                 (t("stage.h_problems"), _problems(t, d)),
                                 (t("stage.h_papers"), _papers(t, d))]),
        (t("stage.h_shortfalls"), [(None, _shortfalls(t, d))]),
        (t("stage.h_plan"), [(None, _plan(t, d))]),
    ]
    for title, parts in sections:
        doc.add_heading(title, level=1)
        for sub, sentences in parts:
            if sub is not None:
                doc.add_heading(sub, level=2)
            for sentence in sentences:
                doc.add_paragraph(sentence)
    if len(d.branches) > 1:
        _branch_table(t, doc, d.branches)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _branch_table(t: Translator, doc: Any, rows: list[RollupRow]) -> None:
    """An appendix: every branch side by side, laggards first."""
    doc.add_heading(t("stage.h_appendix"), level=1)
    heads = [t("report.col_branch"), t("report.col_participation"), t("report.col_hours_per_member"),
             t("report.col_visits"), t("report.col_problems"), t("report.col_rectification_rate"),
             t("report.col_streak")]
    table = doc.add_table(rows=1, cols=len(heads))
    table.style = "Table Grid"
    for cell, head in zip(table.rows[0].cells, heads, strict=True):
        cell.text = head
    for row in rows:
        n = row.totals
        per_member = n.hours_per_member
        values = [row.name, percent(t, n.participation),
                  t("report.none") if per_member is None else f"{round(per_member, 1):g}",
                  str(n.visits), str(n.problems_listed), percent(t, n.rectification_rate), str(n.shuxue_streak)]
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = value
