"""How the problem list reads in the chat: counts, list lines, one problem with its history."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from handlers.core.formats import full_date, short
from handlers.core.i18n import Translator
from handlers.problems.lifecycle import ACTION_TEXT, STATUS_TEXT, is_overdue
from handlers.problems.scopes import Counts
from storage.models import Problem, ProblemEvidence
from storage.repositories.problems import HistoryLine


def local_day(at: datetime, tz: ZoneInfo) -> date:
    return at.astimezone(tz).date()


def status_text(t: Translator, problem: Problem, today: date) -> str:
    text = t(STATUS_TEXT[problem.status])
    if is_overdue(problem.status, problem.deadline, today):
        text += t("problem.overdue_mark")
    return text


def rate(counts: Counts) -> str:
    """整改率 = closed / accepted, as a percentage ("—" while nothing is accepted)."""
    if not counts.accepted:
        return "—"
    return f"{round(100 * counts.closed / counts.accepted)}%"


def summary(t: Translator, counts: Counts, scope: str) -> str:
    """The header's counts are the tabs' counts (``Counts.of_view``), state by state."""
    return t("problem.board_summary", scope=scope, found=counts.found,
             pending=counts.of_view("pending"), in_progress=counts.of_view("rectifying"),
             requested=counts.of_view("closure_requested"), overdue=counts.overdue,
             closed=counts.closed, accepted=counts.accepted, rate=rate(counts))


def line(t: Translator, n: int, problem: Problem, today: date) -> str:
    return t("problem.list_line", n=n, description=short(problem.description),
             owner=problem.owner_name, deadline=full_date(problem.deadline),
             status=status_text(t, problem, today))


def history_line(t: Translator, entry: HistoryLine, tz: ZoneInfo, note_limit: int | None = None) -> str:
    """One dated change: who did what, and the note, percentage and date that came with it
    (the note cut to ``note_limit`` characters in the chat; the export has it whole)."""
    event = entry.event
    text = t("problem.history_line", date=full_date(local_day(event.at, tz)), actor=entry.actor,
             action=t(ACTION_TEXT.get(event.action, "problem.act_edit")))
    extras = [short(event.note, note_limit) if note_limit else event.note] if event.note else []
    if event.percent is not None:
        extras.append(t("problem.percent_value", percent=event.percent))
    if event.new_deadline is not None:
        extras.append(t("problem.new_deadline_value", date=full_date(event.new_deadline)))
    return text + ("：" + "；".join(extras) if extras else "")


EVIDENCE_SHOWN = 10  # file names on the card (all of them are kept, and in the export)
EVIDENCE_NAME_CHARS = 30


def evidence_name(t: Translator, item: ProblemEvidence, n: int) -> str:
    return item.file_name or t("problem.evidence_unnamed", n=n)


def detail(t: Translator, problem: Problem, org: str, history: list[HistoryLine],
           evidence: list[ProblemEvidence], today: date, tz: ZoneInfo) -> str:
    """The problem as a chat message: its fields, state, the changes given and the evidence files.
    Long texts are cut so the card, and the list it is opened from, stay within a chat message."""
    lines = [t("problem.detail", id=problem.id, org=org, description=short(problem.description, 300),
               source=problem.source, kind=problem.kind, owner=problem.owner_name,
               measures=short(problem.measures, 300), deadline=full_date(problem.deadline),
               status=status_text(t, problem, today))]
    lines.append(t("problem.history_header"))
    lines += ["· " + history_line(t, entry, tz, note_limit=80) for entry in history]
    if evidence:
        names = "、".join(short(evidence_name(t, item, n), EVIDENCE_NAME_CHARS)
                         for n, item in enumerate(evidence[:EVIDENCE_SHOWN], start=1))
        if len(evidence) > EVIDENCE_SHOWN:
            names += t("problem.evidence_more")
        lines.append(t("problem.evidence_list", count=len(evidence), names=names))
    return "\n".join(lines)
