"""Summaries as chat text: short lines that fit a phone, long member lists in pages."""

from __future__ import annotations

from handlers.core.i18n import Translator
from handlers.reports.summary import RollupRow, Summary
from storage.queries.figures import MemberFigures, Totals
from storage.queries.papers import PaperFigures

PAGE_SIZE = 8
NAMES_SHOWN = 5  # a chat line names this many, then "等" (the 汇总 sheet names all)


def hours(minutes: int) -> str:
    """Minutes as hours with at most one decimal: 90 → "1.5", 120 → "2"."""
    value = round(minutes / 60, 1)
    return f"{value:g}"


def percent(t: Translator, value: float | None) -> str:
    return t("report.none") if value is None else f"{round(value * 100)}%"


def change(t: Translator, now: float, before: float, *, as_hours: bool = False) -> str:
    """The signed change against the previous period: "+5", "−2", "持平"."""
    diff = now - before
    if abs(diff) < 1e-9:
        return t("report.same")
    shown = hours(int(abs(diff))) if as_hours else f"{abs(diff):g}"
    return ("+" if diff > 0 else "−") + shown


def totals_lines(t: Translator, now: Totals, before: Totals | None) -> list[str]:
    """The period's totals; with ``before``, each main figure's change against it."""

    def against(now_value: float, before_value: float, *, as_hours: bool = False) -> str:
        if before is None:
            return ""
        return t("report.change", change=change(t, now_value, before_value, as_hours=as_hours))

    was = before or Totals()
    rate = now.rectification_rate
    return [
        t("report.line_study", hours=hours(now.study_minutes),
          change=against(now.study_minutes, was.study_minutes, as_hours=True),
          sessions=now.group_sessions, attendances=now.group_attendances),
        t("report.line_visits", visits=now.visits, change=against(now.visits, was.visits),
          solved=now.solved),
        t("report.line_problems", found=now.problems_found, closed=now.problems_closed_in_period,
          rate=percent(t, rate), done=now.problems_closed, accepted=now.problems_accepted),
        t("report.line_shuxue", answers=now.shuxue_answers,
          change=against(now.shuxue_answers, was.shuxue_answers),
          kept=now.commitments_kept, made=now.commitments),
    ]


def number(value: float) -> str:
    """5.5 → "5.5", 7.0 → "7"."""
    return f"{round(value, 1):g}"


def reading_days(t: Translator, p: PaperFigures) -> str:
    """读书班 days as the papers say them: "5.5/7 天" against the calendar's target, or "5.5 天"."""
    days = number(p.reading_class_days)
    return (t("papers.reading_days", days=days, target=p.reading_class_target) if p.reading_class_target
            else t("papers.reading_days_no_target", days=days))


def papers_lines(t: Translator, p: PaperFigures, *, reading: bool = True) -> list[str]:
    """The figures the office's papers report, a line each where there is something to say
    (``reading=False``: without the 读书班's, said elsewhere)."""
    lines = []
    if p.org_life_sessions or p.centre_group_sessions or p.joint_sessions:
        lines.append(t("papers.sessions", org_life=p.org_life_sessions, centre=p.centre_group_sessions,
                       joint=p.joint_sessions))
    if p.lectures or p.secretaries:
        one_branch = len({x.branch for x in p.lecturers}) == 1
        secretaries = [x.name if one_branch else f"{x.name}·{x.branch}" for x in p.lecturers if x.secretary]
        names = "、".join(secretaries[:NAMES_SHOWN]) + ("等" if len(secretaries) > NAMES_SHOWN else "")
        lines.append(t("papers.lectures", lectures=p.lectures, lectured=p.secretaries_lectured,
                       secretaries=p.secretaries, names=names or t("report.none")))
    if reading and (p.reading_half_days or p.reading_class_target):
        lines.append(t("papers.reading", days=reading_days(t, p)))
    if p.research_topics or p.research_trips:
        lines.append(t("papers.research", trips=p.research_trips, topics=p.research_topics))
    if p.pairs:
        per = p.visits_per_pair_half_month
        lines.append(t("papers.pairings", places=p.paired_places, pairs=p.pairs, covered=p.covered_places,
                       full=t("papers.full_cover") if p.round_covered else "",
                       per=t("report.none") if per is None else number(per)))
    if p.closure_requested or p.measures:
        lines.append(t("papers.problems", requested=p.closure_requested, measures=p.measures))
    if p.shuxue_weeks:
        lines.append(t("papers.shuxue", weeks=p.shuxue_weeks))
    return lines


def topic_lines(t: Translator, p: PaperFigures, limit: int = 10) -> list[str]:
    """The research topics, their owners and trips (the first ``limit``)."""
    lines = [t("papers.topic_line", title=x.title, owner=x.owner, trips=x.trips) for x in p.topics[:limit]]
    if len(p.topics) > limit:
        lines.append(t("papers.topics_more", count=len(p.topics) - limit))
    return lines


def by_form(t: Translator, member: MemberFigures) -> str:
    if not member.minutes_by_form:
        return t("report.no_study")
    parts = [f"{form} {hours(minutes)}" for form, minutes in
             sorted(member.minutes_by_form.items(), key=lambda item: -item[1])]
    return t("report.member_study", hours=hours(member.study_minutes), forms="、".join(parts))


def commitment_state(t: Translator, member: MemberFigures) -> str:
    if not member.commitment:
        return t("report.commit_none")
    return t("commit.state_kept") if member.commitment_kept else t("commit.state_open")


def member_line(t: Translator, n: int, member: MemberFigures) -> str:
    return t("report.member_line", n=n, name=member.name, study=by_form(t, member), visits=member.visits,
             solved=member.solved, found=member.problems_found, closed=member.problems_closed,
             shuxue=member.shuxue_answers, commitment=commitment_state(t, member))


def pages(count: int) -> int:
    return max(1, (count + PAGE_SIZE - 1) // PAGE_SIZE)


def branch_text(t: Translator, summary: Summary, page: int) -> str:
    """The branch's totals, who has not reported, and one page of members."""
    now = summary.totals
    lines = [t("report.header", title=summary.title, period=summary.period.shown(t)),
             *totals_lines(t, now, summary.before),
             t("report.line_participation", reported=now.reported, members=now.members,
               rate=percent(t, now.participation))]
    if summary.papers is not None:
        lines += papers_lines(t, summary.papers) + topic_lines(t, summary.papers, limit=5)
    missing = summary.not_reported
    lines.append(t("report.not_reported", names="、".join(missing)) if missing
                 else t("report.all_reported"))
    total_pages = pages(len(summary.members))
    page = min(max(page, 1), total_pages)
    lines.append(t("report.members_page", page=page, pages=total_pages))
    start = (page - 1) * PAGE_SIZE
    for i, member in enumerate(summary.members[start:start + PAGE_SIZE], start=start + 1):
        lines.append(member_line(t, i, member))
    return "\n".join(lines)


def member_text(t: Translator, summary: Summary) -> str:
    (me,) = summary.members or [MemberFigures(0, summary.title)]
    return "\n".join([t("report.header", title=summary.title, period=summary.period.shown(t)),
                      by_form(t, me), *totals_lines(t, summary.totals, summary.before),
                      t("report.my_commitment", state=commitment_state(t, me))])


def rollup_line(t: Translator, n: int, row: RollupRow) -> str:
    t_ = row.totals
    per_member = t_.hours_per_member
    return t("report.rollup_line", n=n, name=row.name, rate=percent(t, t_.participation),
             per_member=t("report.none") if per_member is None else f"{round(per_member, 1):g}",
             visits=t_.visits, problems=t_.problems_listed,
             fix_rate=percent(t, t_.rectification_rate), streak=t_.shuxue_streak)


def rollup_text(t: Translator, rows: list[RollupRow], header: str, page: int,
                overall: Summary | None = None) -> str:
    """Every branch side by side, paged; ``overall``: the bureau's totals and paper figures,
    above the list."""
    total_pages = pages(len(rows))
    page = min(max(page, 1), total_pages)
    start = (page - 1) * PAGE_SIZE
    lines = [header]
    if overall is not None:
        lines += totals_lines(t, overall.totals, None)
        lines += papers_lines(t, overall.papers) if overall.papers is not None else []
    lines += [t("report.rollup_legend"), t("report.members_page", page=page, pages=total_pages)]
    lines += [rollup_line(t, i, row) for i, row in enumerate(rows[start:start + PAGE_SIZE], start=start + 1)]
    return "\n".join(lines)
