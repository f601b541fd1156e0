"""The counts on top of the problem list, by state and by view (the views themselves are
conditions in ``storage.repositories.problems``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from storage.models import ProblemStatus
from storage.repositories.problems import ProblemRepository
from storage.vocabulary import ACCEPTED

S = ProblemStatus


@dataclass(frozen=True)
class Counts:
    by_status: dict[ProblemStatus, int]
    overdue: int
    coordination: int

    @property
    def found(self) -> int:  # every problem reported, rejected ones included
        return sum(self.by_status.values())

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
    return Counts(await repo.count_by_status(org_id), await repo.count(org_id, "overdue", today),
                  await repo.count(org_id, "coordination", today))
