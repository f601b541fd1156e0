"""PNG charts from the database: weekly study hours and visits as grouped bars (one series a
branch, or the member alone), and for the office the branches side by side by participation with
each one's problem funnel (``documents.charts`` draws them, in the bundled CJK font).
"""

from __future__ import annotations

import asyncio
from datetime import date

from handlers.core.i18n import Translator
from handlers.reports.documents import charts
from handlers.reports.documents.dates import document_period
from handlers.reports.periods import Period
from handlers.reports.summary import RollupRow
from storage.db import Session
from storage.queries import figures
from storage.queries.scope import Scope
from storage.repositories.orgs import OrgRepository


async def weekly(session: Session, scope: Scope, title: str, period: Period, today: date,
                 order: list[RollupRow]) -> charts.WeeklyChart:
    """Study hours and visits per week: a series per branch (in ``order``, the office's by
    participation), or one named after the member. (Drawn by ``weekly_png`` once the session is
    closed.)"""
    series = await figures.weekly(session, scope, period)
    if scope.member_id is not None:
        named = [(None, title)]
    else:
        branches = await OrgRepository(session).branches(scope.org_ids)
        rank = {row.org_id: i for i, row in enumerate(reversed(order))}  # the most advanced first
        named = [(org_id, name) for org_id, name in sorted(branches, key=lambda b: rank.get(b[0], len(rank)))]

    def of(values: dict[tuple[int, date], float], org_id: int | None) -> dict[date, float]:
        out: dict[date, float] = {}
        for (org, week), value in values.items():
            if org_id is None or org == org_id:
                out[week] = out.get(week, 0.0) + value
        return out

    return charts.WeeklyChart(title, charts.mondays(period.start, period.end), tuple(
        charts.WeeklySeries(name, of(series["hours"], org_id),
                            {w: int(v) for w, v in of(series["visits"], org_id).items()})
        for org_id, name in named), today)


async def weekly_png(t: Translator, chart: charts.WeeklyChart) -> bytes:
    return await asyncio.to_thread(charts.weekly_png, t, chart)


async def office(t: Translator, title: str, period: Period, rows: list[RollupRow]) -> bytes:
    """The branches side by side by participation (at equal rates, the most advanced first: ``rows``
    come laggards first), each with its problem funnel."""
    progress = [charts.BranchProgress(row.name, row.totals.members, row.totals.reported,
                                      row.totals.problems_listed, row.totals.problems_accepted,
                                      row.totals.problems_closed) for row in reversed(rows)]
    return await asyncio.to_thread(charts.office_png, t, title, document_period(period.start, period.end),
                                   progress)
