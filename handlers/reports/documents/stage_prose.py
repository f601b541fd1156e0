"""The prose of the office's and a branch's 阶段性总结, in seed 000's structure.

Every sentence is written only when its figures support it: no "督促未报送的党员补课补学" when all
have reported, no "做到完成一项、销号一个" when nothing was closed, no "全覆盖" short of it. A
section with nothing to report says so in one sentence instead of inventing one.
"""

from __future__ import annotations

from collections.abc import Sequence

from handlers.core.i18n import Translator
from handlers.reports.documents.context import (
    BranchFigures,
    DraftScope,
    StageSummaryContext,
)
from handlers.reports.documents.dates import document_date, document_period
from handlers.reports.documents.writing import (
    Para,
    names,
    number,
    numbered,
    ordinal_clauses,
    sentence,
    share,
)
from storage.vocabulary import CENTRE_GROUP_FORM, JOINT_FORM, ORG_LIFE_FORMS, READING_CLASS

MEETING_FORMS = ORG_LIFE_FORMS  # "依托三会一课、主题党日": said together
CENTRE_GROUP, JOINT, READING = CENTRE_GROUP_FORM, JOINT_FORM, READING_CLASS
LECTURE = "专题党课"
SELF_STUDY_FORMS = ("自学", "线上学习")
SLOWEST = 3  # branches named among the slowest
BEHIND_HOURS = 0.6  # at equal participation, a branch under this share of the most hours per member lags
LISTED_MEETINGS = 5  # incomplete meetings named one by one
MILESTONES = 6


def _office(c: StageSummaryContext) -> bool:
    return c.scope is DraftScope.office


def opening(t: Translator, c: StageSummaryContext) -> str:
    """"局主题教育自2023年9月15日启动以来" or "2023年10月1日至10月31日"."""
    if c.since_start and c.campaign_start is not None:
        return t("doc.since_start", organisation=c.organisation, start=document_date(c.campaign_start))
    return t("doc.in_period", period=document_period(c.period_start, c.period_end))


def _mobilised(t: Translator, c: StageSummaryContext) -> str:
    if not _office(c) or not c.organisations:
        return ""
    if c.organisations_active == c.organisations:
        return t("doc.orgs_all_active", n=c.organisations)
    if c.organisations_active:
        return t("doc.orgs_some_active", n=c.organisations, active=c.organisations_active)
    return t("doc.orgs_none_active")


def _participation(t: Translator, c: StageSummaryContext) -> str:
    if not c.members:
        return t("doc.no_members")
    if c.reported == c.members:
        return t("doc.all_reported", members=c.members)
    if c.reported:
        return t("doc.some_reported", members=c.members, reported=c.reported,
                 rate=share(t, c.reported, c.members))
    return t("doc.none_reported", members=c.members)


def _headline(t: Translator, c: StageSummaryContext) -> list[str]:
    s, r, p = c.study, c.research, c.problems
    clauses = []
    if s.hours:
        clauses.append(t("doc.headline_hours", hours=number(s.hours),
                         per_member=number(s.hours / c.members) if c.members else t("report.none")))
    if r.visits:
        clauses.append(t("doc.headline_visits", visits=r.visits))
    if r.solved:
        clauses.append(t("doc.headline_solved", solved=r.solved))
    if p.listed:
        clauses.append(t("doc.headline_problems", listed=p.listed, closed=p.closed) if p.closed
                       else t("doc.headline_problems_open", listed=p.listed))
    return clauses


def _ranked(c: StageSummaryContext) -> list[BranchFigures]:
    """Branches with members, slowest first: participation, then hours per member, then visits."""
    with_members = [b for b in c.branches if b.members]
    return sorted(with_members, key=lambda b: (b.participation or 0.0, b.hours_per_member or 0.0,
                                               b.visits, b.name))


def _hours_of(b: BranchFigures) -> float:
    return b.hours_per_member or 0.0


def _behind(c: StageSummaryContext) -> list[BranchFigures]:
    """The slowest branches (at most ``SLOWEST``, slowest first): below the best participation,
    or, where every branch has the same, studying under ``BEHIND_HOURS`` of the most hours per
    member. None when the branches keep pace."""
    ranked = _ranked(c)
    if len(ranked) < 2:
        return []
    best_rate = max(b.participation or 0.0 for b in ranked)
    best_hours = max(_hours_of(b) for b in ranked)
    return [b for b in ranked if (b.participation or 0.0) < best_rate
            or _hours_of(b) < BEHIND_HOURS * best_hours][:SLOWEST]


def _uneven(c: StageSummaryContext) -> bool:
    return bool(_behind(c))


def _spread(t: Translator, c: StageSummaryContext) -> str:
    """"有热有冷": the highest and lowest participation, or hours per member when the rates are equal."""
    ranked = _ranked(c)
    top, bottom = ranked[-1], ranked[0]
    if top.participation != bottom.participation:
        return t("doc.overall_spread", top=top.name, top_rate=share(t, top.reported, top.members),
                 bottom=bottom.name, bottom_rate=share(t, bottom.reported, bottom.members))
    return t("doc.overall_spread_hours", top=top.name, top_hours=number(_hours_of(top)), bottom=bottom.name,
             bottom_hours=number(_hours_of(bottom)))


def overall(t: Translator, c: StageSummaryContext) -> list[Para]:
    """一、总体开展情况: start and mobilisation; participation and the headline figures; the
    spread between branches."""
    work = t("doc.overall_work") if _office(c) else t("doc.overall_work_branch")
    first = sentence([opening(t, c), work, _mobilised(t, c)])
    out = [Para("", first)]
    out.append(Para("", sentence([_participation(t, c), *_headline(t, c)])))
    if _office(c) and _uneven(c):
        out.append(Para("", _spread(t, c)))
    return out


def _group_study(t: Translator, c: StageSummaryContext) -> str:
    by_form = c.study.sessions_by_form
    meetings = sum(by_form.get(form, 0) for form in MEETING_FORMS)
    others = [(form, n) for form, n in by_form.items()
              if n and form not in (*MEETING_FORMS, CENTRE_GROUP, JOINT, READING, LECTURE)]
    named = [(form, by_form.get(form, 0)) for form in (CENTRE_GROUP, JOINT) if by_form.get(form)] + others
    clauses = [
        t("doc.study_meetings", n=meetings) if meetings else "",
        t("doc.study_forms", forms="、".join(t("doc.form_count", form=f, n=n) for f, n in named))
        if named else "",
    ]
    if not any(clauses):
        return ""
    return sentence([*clauses, t("doc.study_attendances", n=c.study.attendances)
                     if c.study.attendances else ""])


def _reading(t: Translator, c: StageSummaryContext) -> str:
    s = c.study
    if not s.reading_days:
        return ""
    clauses = [t("doc.reading_held", days=number(s.reading_days))]
    if s.reading_target_days:
        if s.reading_days >= s.reading_target_days:
            clauses.append(t("doc.reading_done", target=number(s.reading_target_days)))
        else:
            clauses.append(t("doc.reading_left", target=number(s.reading_target_days),
                             left=number(s.reading_target_days - s.reading_days)))
            if s.reading_due is not None and s.reading_due >= c.written_on:
                clauses.append(t("doc.reading_due", due=document_date(s.reading_due)))
    return sentence(clauses)


def _shuxue(t: Translator, c: StageSummaryContext) -> str:
    s = c.study
    if not s.shuxue_answers:
        return ""
    if s.shuxue_streak >= 2:
        key = "doc.shuxue_streak_weeks" if s.shuxue_every_weeks == 1 else "doc.shuxue_streak_periods"
        first = t(key, streak=s.shuxue_streak, end=document_date(c.period_end))
    else:
        first = t("doc.shuxue_held")
    return sentence([first, t("doc.shuxue_answers", n=s.shuxue_answers)])


def _lectures(t: Translator, c: StageSummaryContext) -> str:
    s = c.study
    lectures = s.lectures or c.study.sessions_by_form.get(LECTURE, 0)
    if not lectures and not s.lecturers:
        return ""
    clauses = [t("doc.lectures", n=lectures) if lectures else ""]
    if s.secretaries == 1 and s.lecturers:
        clauses.append(t("doc.lecturers_one"))
    elif s.secretaries and len(s.lecturers) >= s.secretaries:
        clauses.append(t("doc.lecturers_all", n=len(s.lecturers)))
    elif s.lecturers:
        clauses.append(t("doc.lecturers_some", n=len(s.lecturers), names=names(t, s.lecturers)))
        if s.secretaries:
            clauses.append(t("doc.lecturers_left", n=s.secretaries - len(s.lecturers)))
    return sentence(clauses)


def _self_study(t: Translator, c: StageSummaryContext) -> str:
    hours = sum(c.study.hours_by_form.get(form, 0.0) for form in SELF_STUDY_FORMS)
    return t("doc.self_study", hours=number(hours)) if hours else ""


def study(t: Translator, c: StageSummaryContext) -> list[Para]:
    """(一) 理论学习: group sessions by form, 读书班, 述学, 党课 and 双讲双听, self-study."""
    items = [(t(lead), text) for lead, text in (
        ("doc.lead_group_study", _group_study(t, c)), ("doc.lead_reading", _reading(t, c)),
        ("doc.lead_shuxue", _shuxue(t, c)), ("doc.lead_lectures", _lectures(t, c)),
        ("doc.lead_self_study", _self_study(t, c))) if text]
    return numbered(t, items, "level3") or [Para("", t("doc.study_none"))]


def _topics(t: Translator, c: StageSummaryContext) -> str:
    r = c.research
    clauses = []
    if r.topics:
        clauses.append(t("doc.topics_owned", topics=r.topics, owners=r.topic_owners) if r.topic_owners
                       else t("doc.topics", topics=r.topics))
    if r.trips:
        clauses.append(t("doc.trips", n=r.trips))
    return sentence(clauses)


def _pairs(t: Translator, c: StageSummaryContext) -> str:
    r = c.research
    if not r.paired_villages:
        return ""
    round_name = r.round_name or t("doc.round_current")
    if r.covered_villages >= r.paired_villages:
        return sentence([t("doc.pairs_covered", n=r.paired_villages, round=round_name)])
    clauses = [t("doc.pairs_partly", n=r.paired_villages, round=round_name, covered=r.covered_villages,
                 left=r.paired_villages - r.covered_villages)]
    if r.round_due is not None and r.round_due >= c.written_on:
        clauses.append(t("doc.pairs_due", due=document_date(r.round_due)))
    return sentence(clauses)


def _visits(t: Translator, c: StageSummaryContext) -> str:
    r = c.research
    if not r.visits:
        return ""
    return sentence([t("doc.visits", n=r.visits), t("doc.visits_solved", n=r.solved) if r.solved else ""])


def _commitments(t: Translator, c: StageSummaryContext) -> str:
    r = c.research
    if not r.commitments:
        return ""
    if r.commitments_kept >= r.commitments:
        kept = t("doc.commitments_all_kept")
    else:
        kept = t("doc.commitments_kept", n=r.commitments_kept) if r.commitments_kept else ""
    return sentence([t("doc.commitments", n=r.commitments), kept])


def research(t: Translator, c: StageSummaryContext) -> list[Para]:
    """(二) 调查研究: topics and trips, paired villages, visits and problems solved, commitments."""
    items = [(t(lead), text) for lead, text in (
        ("doc.lead_topics", _topics(t, c)), ("doc.lead_pairs", _pairs(t, c)), ("doc.lead_visits", _visits(t, c)),
        ("doc.lead_commitments", _commitments(t, c))) if text]
    return numbered(t, items, "level3") or [Para("", t("doc.research_none"))]


def problems(t: Translator, c: StageSummaryContext) -> list[Para]:
    """(三) 检视整改: found; accepted, measures, in progress, closure requested, closed, 整改率."""
    p = c.problems
    if not p.listed:
        return [Para("", t("doc.problems_none"))]
    new = p.found_in_period
    found = sentence([t("doc.problems_listed", n=p.listed),
                      (t("doc.problems_all_new") if new == p.listed else t("doc.problems_new", n=new))
                      if new else "",
                      t("doc.problems_pending", n=p.pending) if p.pending else ""])
    items = [(t("doc.lead_problems_found"), found)]
    if p.accepted:
        rate = share(t, p.closed, p.accepted)
        if p.closed and p.closed <= p.closure_requested:  # 提请销项 counts the closed ones too
            requested, closed = "", t("doc.problems_requested_closed", requested=p.closure_requested,
                                      n=p.closed, rate=rate)
        else:
            requested = t("doc.problems_requested", n=p.closure_requested) if p.closure_requested else ""
            closed = t("doc.problems_closed", n=p.closed, rate=rate) if p.closed else t("doc.problems_none_closed")
        items.append((t("doc.lead_problems_fixing"), sentence([
            t("doc.problems_accepted", n=p.accepted),
            t("doc.problems_measures", n=p.measures) if p.measures else "",
            t("doc.problems_rectifying", n=p.rectifying) if p.rectifying else "",
            requested,
            closed,
            t("doc.problems_closed_now", n=p.closed_in_period) if p.closed_in_period else ""])))
    return numbered(t, items, "level3")


def org_life(t: Translator, c: StageSummaryContext) -> list[Para]:
    """组织生活: meetings by type, the 四必有, absences and make-ups."""
    o = c.org_life
    if not o.meetings:
        return [Para("", t("doc.org_life_none"))]
    kinds = "、".join(t("doc.form_count", form=kind, n=n) for kind, n in o.meetings_by_kind.items() if n)
    clauses = [t("doc.meetings", n=o.meetings, kinds=kinds)]
    clauses.append(t("doc.musts_all") if o.complete >= o.meetings
                   else t("doc.musts_some", complete=o.complete, missing=o.meetings - o.complete))
    if o.absences:
        clauses.append(t("doc.absences", n=o.absences))
        clauses.append(t("doc.makeups_done", n=o.makeups_done) if o.makeups_done else "")
        if o.makeups_outstanding:
            clauses.append(t("doc.makeups_left", n=len(o.makeups_outstanding)))
    return [Para("", sentence(clauses))]


def _slowest(t: Translator, c: StageSummaryContext) -> str:
    if _office(c):
        slow = _behind(c)
        if not slow:
            return ""
        same_rate = len({b.participation for b in _ranked(c)}) == 1  # then the rate says nothing
        return t("doc.gap_slowest", branches="、".join(
            t("doc.gap_branch_hours" if same_rate else "doc.gap_branch", name=b.name,
              rate=share(t, b.reported, b.members), hours=number(_hours_of(b)), visits=b.visits)
            for b in slow))
    if c.not_reported:
        return t("doc.gap_not_reported", n=len(c.not_reported), names=names(t, c.not_reported))
    return ""


def _no_shuxue(t: Translator, c: StageSummaryContext) -> str:
    if _office(c):
        silent = [b.name for b in c.branches if b.members and not b.shuxue_periods]
        return t("doc.gap_no_shuxue", n=len(silent), names=names(t, silent)) if silent else ""
    return t("doc.gap_no_shuxue_branch") if c.members and not c.study.shuxue_answers else ""


def _reading_late(t: Translator, c: StageSummaryContext) -> str:
    s = c.study
    late = (s.reading_target_days and s.reading_days < s.reading_target_days
            and s.reading_due is not None and s.reading_due < c.written_on)
    if not late or s.reading_target_days is None or s.reading_due is None:
        return ""
    return t("doc.gap_reading_late", due=document_date(s.reading_due), days=number(s.reading_days),
             target=number(s.reading_target_days))


def _meetings_gap(t: Translator, c: StageSummaryContext) -> str:
    o = c.org_life
    clauses = []
    if o.incomplete:
        listed = "、".join(t("doc.gap_meeting", branch=m.branch if _office(c) else "",
                             day=document_date(m.day), kind=m.kind, missing="、".join(m.missing))
                           for m in o.incomplete[:LISTED_MEETINGS])
        more = t("doc.and_more") if len(o.incomplete) > LISTED_MEETINGS else ""
        clauses.append(t("doc.gap_musts", n=len(o.incomplete), meetings=listed + more))
    if o.makeups_outstanding:
        people = [m.name for m in o.makeups_outstanding]
        clauses.append(t("doc.gap_makeups", n=len(people), names=names(t, sorted(set(people), key=people.index))))
    return "；".join(clauses) + "。" if clauses else ""


def _problems_gap(t: Translator, c: StageSummaryContext) -> str:
    p = c.problems
    clauses = []
    if p.overdue:
        late = [b for b in c.branches if b.overdue] if _office(c) else []
        where = t("doc.gap_overdue_where", branches="、".join(
            t("doc.branch_count", name=b.name, n=b.overdue) for b in late)) if late else ""
        clauses.append(t("doc.gap_overdue", n=p.overdue) + where)
    if p.reopened:
        clauses.append(t("doc.gap_reopened", n=p.reopened))
    return "；".join(clauses) + "。" if clauses else ""


def _pairs_gap(t: Translator, c: StageSummaryContext) -> str:
    r = c.research
    if not (r.paired_villages and r.covered_villages < r.paired_villages
            and r.round_due is not None and r.round_due < c.written_on):
        return ""
    return t("doc.gap_pairs", round=r.round_name or t("doc.round_current"), due=document_date(r.round_due),
             left=r.paired_villages - r.covered_villages)


def _nothing_recorded(t: Translator, c: StageSummaryContext) -> str:
    """Whole parts of the work with no record at all: no visits, no meetings."""
    if not c.members:
        return ""
    missing = [t(key) for key, empty in (("doc.gap_part_visits", not c.research.visits),
                                         ("doc.gap_part_meetings", not c.org_life.meetings)) if empty]
    return t("doc.gap_nothing_recorded", parts="、".join(missing)) if missing else ""


def _with_full_stop(text: str) -> str:
    return text if not text or text.endswith("。") else text + "。"


def shortfalls(t: Translator, c: StageSummaryContext) -> list[Para]:
    """三、存在不足, from the data: the slowest branches by name (a branch's: who has not
    reported), no 述学, incomplete meetings and make-ups, overdue and reopened problems, late
    读书班 and visits."""
    items = [(t(lead), _with_full_stop(text)) for lead, text in (
        ("doc.lead_gap_uneven" if _office(c) else "doc.lead_gap_members", _slowest(t, c)),
        ("doc.lead_gap_shuxue", _no_shuxue(t, c)), ("doc.lead_gap_reading", _reading_late(t, c)),
        ("doc.lead_gap_meetings", _meetings_gap(t, c)), ("doc.lead_gap_problems", _problems_gap(t, c)),
        ("doc.lead_gap_pairs", _pairs_gap(t, c)), ("doc.lead_gap_nothing", _nothing_recorded(t, c))) if text]
    return numbered(t, items, "level2") or [Para("", t("doc.gap_none"))]


def _plan_study(t: Translator, c: StageSummaryContext) -> list[str]:
    s, clauses = c.study, []
    if s.reading_target_days and s.reading_days < s.reading_target_days:
        due = (t("doc.plan_reading_due", due=document_date(s.reading_due))
               if s.reading_due is not None and s.reading_due >= c.written_on else "")
        clauses.append(t("doc.plan_reading", left=number(s.reading_target_days - s.reading_days)) + due)
    if _office(c) and _uneven(c):
        clauses.append(t("doc.plan_guide_branches", names="、".join(b.name for b in _behind(c))))
    if c.not_reported:
        clauses.append(t("doc.plan_not_reported", n=len(c.not_reported)))
    if c.org_life.makeups_outstanding:
        clauses.append(t("doc.plan_makeups", n=len(c.org_life.makeups_outstanding)))
    if _no_shuxue(t, c):
        clauses.append(t("doc.plan_shuxue") if _office(c) else t("doc.plan_shuxue_branch"))
    return clauses or [t("doc.plan_study_default")]


def _plan_research(t: Translator, c: StageSummaryContext) -> list[str]:
    r, clauses = c.research, []
    if r.paired_villages:
        left = r.paired_villages - r.covered_villages
        clauses.append(t("doc.plan_pairs_left", n=left) if left > 0 else t("doc.plan_pairs"))
    if r.topics:
        clauses.append(t("doc.plan_topics"))
    return clauses or [t("doc.plan_research_default")]


def _plan_problems(t: Translator, c: StageSummaryContext) -> list[str]:
    p, clauses = c.problems, []
    if p.pending:
        clauses.append(t("doc.plan_pending", n=p.pending))
    if p.rectifying:
        clauses.append(t("doc.plan_rectifying", n=p.rectifying))
    if p.awaiting_closure:
        clauses.append(t("doc.plan_requested", n=p.awaiting_closure))
    if p.overdue:
        clauses.append(t("doc.plan_overdue", n=p.overdue))
    if p.reopened:
        clauses.append(t("doc.plan_reopened", n=p.reopened))
    if p.closed:
        clauses.append(t("doc.plan_consolidate"))
    return clauses or [t("doc.plan_problems_default")]


def _plan_meetings(t: Translator, c: StageSummaryContext) -> list[str]:
    incomplete = len(c.org_life.incomplete)
    return [t("doc.plan_musts", n=incomplete) if incomplete else t("doc.plan_meetings_default")]


def _plan_milestones(t: Translator, c: StageSummaryContext) -> list[str]:
    coming = sorted((m for m in c.milestones if m.day >= c.written_on), key=lambda m: m.day)
    return [t("doc.plan_milestone", day=document_date(m.day), title=m.title) for m in coming[:MILESTONES]]


def plan(t: Translator, c: StageSummaryContext) -> list[Para]:
    """四下一步计划: the calendar's coming milestones and what the shortfalls call for."""
    groups: Sequence[tuple[str, list[str]]] = (
        ("doc.lead_plan_study", _plan_study(t, c)), ("doc.lead_plan_research", _plan_research(t, c)),
        ("doc.lead_plan_problems", _plan_problems(t, c)), ("doc.lead_plan_meetings", _plan_meetings(t, c)),
        ("doc.lead_plan_milestones", _plan_milestones(t, c)), ("doc.lead_plan_archive", [t("doc.plan_archive")]))
    return numbered(t, [(t(lead), ordinal_clauses(t, clauses)) for lead, clauses in groups if clauses], "level2")


def branch_rows(c: StageSummaryContext) -> list[BranchFigures]:
    """The appendix table's branches, slowest first (the same order as the shortfalls)."""
    return _ranked(c) + [b for b in c.branches if not b.members]
