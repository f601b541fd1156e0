"""The summary API: a member's, a branch's and the office's figures for a period and the one before.

Chat text, the CLI, the ledgers and the stage summary all read these; the figures themselves are
defined in ``handlers.reports.figures``.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from handlers.reports.periods import Period, previous
from storage.db import Session
from storage.queries import figures, papers
from storage.queries.figures import ALL, MemberFigures, Totals
from storage.queries.papers import PaperFigures
from storage.queries.scope import Scope
from storage.repositories.orgs import OrgRepository


@dataclass
class Summary:
    """Figures of one scope: a member (one entry in ``members``) or a branch."""

    title: str
    period: Period
    totals: Totals
    before: Totals  # the previous period, for the change
    members: list[MemberFigures]
    papers: PaperFigures | None = None  # a branch's or the office's (not a member's)

    @property
    def not_reported(self) -> list[str]:
        return [m.name for m in self.members if not m.reported]


@dataclass
class RollupRow:
    org_id: int
    name: str
    totals: Totals


async def summary(session: Session, scope: Scope, title: str, period: Period,
                  tz: ZoneInfo, *, compare: bool = True) -> Summary:
    """``compare=False`` leaves ``before`` empty (the files do not show the change)."""
    now = (await figures.totals(session, scope, period, tz, by_org=False)).get(ALL, Totals())
    before = (await figures.totals(session, scope, previous(period), tz, by_org=False)).get(ALL, Totals()) \
        if compare else Totals()
    listed = await figures.member_figures(session, scope, period, tz)
    found = None if scope.member_id is not None else await papers.paper_figures(session, scope, period, tz)
    return Summary(title, period, now, before, listed, found)


def laggard_order(row: RollupRow) -> tuple[float, float, int]:
    """Laggards first: lowest participation, then fewest hours per member, then fewest visits."""
    t = row.totals
    return (t.participation or 0.0, t.hours_per_member or 0.0, t.visits)


async def bureau(session: Session, rows: list[RollupRow], title: str, period: Period,
                 tz: ZoneInfo) -> Summary:
    """The office's own figures over the branches of ``rows`` (a roll-up): their totals added up
    (no change against the period before: that would take every branch's figures again) and the
    paper figures of every branch."""
    found = await papers.paper_figures(session, Scope(tuple(row.org_id for row in rows)), period, tz)
    return Summary(title, period, figures.added(row.totals for row in rows), Totals(), [], found)


async def rollup(session: Session, period: Period, tz: ZoneInfo,
                 org_ids: tuple[int, ...] | None = None) -> list[RollupRow]:
    """Every branch side by side, laggards first."""
    by_org = await figures.totals(session, Scope(org_ids), period, tz, by_org=True)
    rows = [RollupRow(org_id, name, by_org.get(org_id, Totals()))
            for org_id, name in await OrgRepository(session).branches(org_ids)]
    return sorted(rows, key=laggard_order)
