"""组织生活 in the reports: the office's monthly spot-check lines, from the counts of
``storage.queries.org_life`` (the workbook's 组织生活 sheet is ``reports.ledgers``')."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.core.i18n import Translator
from handlers.reports.periods import Period
from storage.db import Session
from storage.queries.org_life import SpotCheck, spot_check
from storage.queries.scope import Scope
from storage.vocabulary import MEETING_KINDS


def spot_check_lines(t: Translator, rows: Sequence[SpotCheck], *, with_org: bool) -> list[str]:
    """"组织生活（四必有齐全/召开）：" then one line per branch and month."""
    if not rows:
        return [t("meeting.spot_none")]
    groups: dict[tuple[str, str], list[SpotCheck]] = {}
    for row in rows:
        groups.setdefault((row.org, row.month), []).append(row)
    lines = [t("meeting.spot_head")]
    for (org, month), items in groups.items():
        items.sort(key=lambda r: MEETING_KINDS.index(r.kind) if r.kind in MEETING_KINDS
                   else len(MEETING_KINDS))
        kinds = "、".join(t("meeting.spot_kind", kind=r.kind, complete=r.complete, held=r.held)
                         for r in items)
        year, mon = month.split("-")
        lines.append(t("meeting.spot_line", org=f"{org} " if with_org else "", year=year,
                       month=int(mon), kinds=kinds))
    return lines


async def summary_block(t: Translator, session: Session, scope: Scope, period: Period) -> str:
    """The spot-check lines appended to a branch's or the office's /summary."""
    rows = await spot_check(session, scope, period)
    return "\n" + "\n".join(spot_check_lines(t, rows, with_org=scope.org_ids is None
                                             or len(scope.org_ids) > 1))
