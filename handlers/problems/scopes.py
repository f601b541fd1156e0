"""The views of the problem list and the counts on top, as conditions on ``Problem`` built from
the lifecycle's states, so the list, the counts and the nudges agree on "open" and "overdue"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_

from handlers.problems.lifecycle import ACCEPTED, COORDINATION_KIND, OPEN
from storage.models import Problem, ProblemStatus
from storage.repositories.problems import ProblemRepository

S = ProblemStatus
VIEWS = ("pending", "rectifying", "overdue", "closure_requested", "closed", "coordination")


def view_filter(view: str, today: date) -> ColumnElement[bool]:
    """Which problems a view shows (``today`` decides what is overdue)."""
    if view == "overdue":
        return and_(Problem.status.in_(OPEN), Problem.deadline < today)
    if view == "coordination":  # routed to the office while not yet closed
        return and_(Problem.kind == COORDINATION_KIND, Problem.status.in_(OPEN | {S.pending}))
    return Problem.status == S(view)


@dataclass(frozen=True)
class Counts:
    by_status: dict[ProblemStatus, int]
    overdue: int
    coordination: int

    @property
    def found(self) -> int:  # every problem reported, rejected ones included
        return sum(self.by_status.values())

    @property
    def in_progress(self) -> int:
        return sum(self.by_status.get(s, 0) for s in OPEN)

    @property
    def accepted(self) -> int:  # the denominator of 整改率
        return sum(self.by_status.get(s, 0) for s in ACCEPTED)

    @property
    def closed(self) -> int:
        return self.by_status.get(S.closed, 0)

    def of_view(self, view: str) -> int:
        if view in ("overdue", "coordination"):
            return getattr(self, view)
        return self.by_status.get(S(view), 0)


async def counts(repo: ProblemRepository, org_id: int | None, today: date) -> Counts:
    return Counts(await repo.count_by_status(org_id),
                  await repo.count(org_id, view_filter("overdue", today)),
                  await repo.count(org_id, view_filter("coordination", today)))
