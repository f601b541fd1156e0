"""The problem list: reading it by branch and condition, and changing a problem only with history.

A change of state is one conditional ``UPDATE … WHERE status = <the state it was read in>``: of two
secretaries approving at once, the second finds no row to change (PostgreSQL makes it wait for the
first and then re-reads the row), so there is one closure and one history row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.files.attachments import AttachmentRepository
from storage.measures import measure_count
from storage.models import (
    AttachmentOwner,
    Member,
    Organization,
    Problem,
    ProblemEvent,
    ProblemEvidence,
    ProblemStatus,
    Role,
)
from storage.repositories.records import add_audit, snapshot
from storage.types import utcnow
from storage.vocabulary import COORDINATION_KIND, OPEN

# The views of the problem list (besides each state: overdue, and the office's 需上级协调), as
# conditions built from the lifecycle's groups of states, so the list, its counts and the nudges
# agree on "open" and "overdue".
VIEWS = ("pending", "rectifying", "overdue", "closure_requested", "closed", "coordination")


def view_filter(view: str, today: date) -> ColumnElement[bool]:
    """Which problems a view shows (``today`` decides what is overdue)."""
    if view == "overdue":
        return and_(Problem.status.in_(OPEN), Problem.deadline < today)
    if view == "coordination":  # routed to the office while not yet closed
        return and_(Problem.kind == COORDINATION_KIND,
                    Problem.status.in_(OPEN | {ProblemStatus.pending}))
    return Problem.status == ProblemStatus(view)


@dataclass(frozen=True)
class HistoryLine:
    event: ProblemEvent
    actor: str


class ProblemRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _scope(self, org_id: int | None) -> list[ColumnElement[bool]]:
        """Live problems of one branch, or of all branches (``org_id`` None: the office)."""
        where = [Problem.deleted_at.is_(None)]
        if org_id is not None:
            where.append(Problem.org_id == org_id)
        return where

    async def get(self, problem_id: int) -> Problem | None:
        return await self.session.scalar(
            select(Problem).where(Problem.id == problem_id, Problem.deleted_at.is_(None)))

    async def owner_role(self, problem: Problem) -> Role | None:
        """The role of the problem's owner (None: no owner on the roster), for who decides its
        closure."""
        if problem.owner_id is None:
            return None
        return await self.session.scalar(select(Member.role).where(Member.id == problem.owner_id))

    async def count_by_status(self, org_id: int | None) -> dict[ProblemStatus, int]:
        rows = await self.session.execute(
            select(Problem.status, func.count()).where(*self._scope(org_id)).group_by(Problem.status))
        return dict(rows.tuples().all())

    async def count(self, org_id: int | None, view: str, today: date) -> int:
        """How many problems ``view`` shows."""
        return await self.session.scalar(
            select(func.count()).select_from(Problem)
            .where(*self._scope(org_id), view_filter(view, today))) or 0

    async def listing(self, org_id: int | None, view: str, today: date,
                      limit: int | None = None) -> list[Problem]:
        where = view_filter(view, today)
        """The problems in scope matching ``where``, most urgent deadline first."""
        query = (select(Problem).where(*self._scope(org_id), where)
                 .order_by(Problem.deadline, Problem.id))
        return list(await self.session.scalars(query.limit(limit)))

    async def all_of(self, org_id: int | None) -> list[tuple[Problem, str]]:
        """Every problem in scope with its branch's name, in the order they were reported."""
        rows = await self.session.execute(
            select(Problem, Organization.name).join(Organization, Organization.id == Problem.org_id)
            .where(*self._scope(org_id)).order_by(Problem.id))
        return list(rows.tuples())

    async def owned_in_work(self, member: Member) -> list[Problem]:
        """The member's problems being rectified (the ones ``/progress`` offers)."""
        return list(await self.session.scalars(
            select(Problem).where(Problem.owner_id == member.id, Problem.status == ProblemStatus.rectifying,
                                  Problem.deleted_at.is_(None))
            .order_by(Problem.deadline, Problem.id)))

    async def history(self, problem_id: int) -> list[HistoryLine]:
        rows = await self.session.execute(
            select(ProblemEvent, Member.name).join(Member, Member.id == ProblemEvent.actor_id)
            .where(ProblemEvent.problem_id == problem_id)
            .order_by(ProblemEvent.at, ProblemEvent.id))
        return [HistoryLine(event, name) for event, name in rows.tuples()]

    async def evidence(self, problem_id: int) -> list[ProblemEvidence]:
        return list(await self.session.scalars(
            select(ProblemEvidence).where(ProblemEvidence.problem_id == problem_id)
            .order_by(ProblemEvidence.id)))

    async def pending_extension(self, problem_id: int) -> ProblemEvent | None:
        """The newest deadline request, unless it was granted or declined since."""
        latest = await self.session.scalar(
            select(ProblemEvent)
            .where(ProblemEvent.problem_id == problem_id,
                   ProblemEvent.action.in_(("request_extension", "extend", "decline_extension")))
            .order_by(ProblemEvent.at.desc(), ProblemEvent.id.desc()).limit(1))
        return latest if latest is not None and latest.action == "request_extension" else None

    async def apply(self, problem: Problem, *, action: str, actor: Member, expected: ProblemStatus,
                    to: ProblemStatus, note: str | None = None, percent: int | None = None,
                    new_deadline: date | None = None,
                    changes: dict[str, Any] | None = None) -> ProblemEvent | None:
        """Record ``action``: move ``problem`` from ``expected`` to ``to`` with ``changes``, and
        write its history row. None, with nothing written, when the problem is no longer in
        ``expected`` (someone else acted first)."""
        before = snapshot(problem)
        if changes and "measures" in changes:  # an UPDATE statement: no ORM event counts them
            changes = {**changes, "measure_items": measure_count(changes["measures"])}
        result = await self.session.execute(
            update(Problem)
            .where(Problem.id == problem.id, Problem.status == expected, Problem.deleted_at.is_(None))
            .values(status=to, updated_at=utcnow(), **(changes or {}))
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        event = ProblemEvent(problem_id=problem.id, actor_id=actor.id, action=action,
                             from_status=expected, to_status=to, note=note, percent=percent,
                             new_deadline=new_deadline)
        self.session.add(event)
        await self.session.flush()
        await self.session.refresh(problem)
        if changes:
            await add_audit(self.session, actor, action, "problem", problem.id, before, snapshot(problem))
        return event

    async def add_evidence(self, event: ProblemEvent, files: list[dict[str, Any]], *,
                           platform: str, by: Member) -> list[ProblemEvidence]:
        """Keep ``files`` (the dialog's entries: ``file_id``, ``name``, ``mime_type``, ``stored``)
        as evidence of ``event``, each with its attachment (its download into the file store)."""
        evidence = [ProblemEvidence(
            problem_id=event.problem_id, event_id=event.id, platform=file.get("platform") or platform,
            file_id=file["file_id"], file_name=file.get("name"),
            mime_type=file.get("mime_type"), uploaded_by_id=by.id) for file in files]
        self.session.add_all(evidence)
        await self.session.flush()
        attachments = AttachmentRepository(self.session)
        for item, file in zip(evidence, files, strict=True):
            await attachments.attach(AttachmentOwner.problem_evidence, item.id, by.id, platform,
                                     [file])
        return evidence
