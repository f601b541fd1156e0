"""What members log — study, visits, problems, commitments — with every change audited.

Nothing is deleted in place: deletion sets ``deleted_at``; the audit log keeps each version.

A member changes or deletes their own record only while nothing else has taken it over
(``LOCKS``): that rule is read when /mine opens a record and checked again, under a row lock, in
the transaction that saves or deletes it, so a secretary's decision or a meeting's credit made
meanwhile is never overwritten.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, false, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Commitment,
    CommitmentReport,
    Member,
    Problem,
    ProblemEvent,
    ProblemStatus,
    StudyRecord,
    Visit,
)
from storage.prepared import PreparedInsert
from storage.repositories.audit import audit
from storage.tallies import note_inserted
from storage.types import utcnow

Record = StudyRecord | Visit | Problem | Commitment
_SKIP = {"created_at", "updated_at"}

# Every member's record is written by one statement (the confirmation's hot path).
_INSERTS = {model: PreparedInsert(model) for model in (StudyRecord, Visit, Problem, Commitment)}

# When a member may no longer change or delete a record of theirs, per kind; the one definition.
LOCKS: dict[type, ColumnElement[bool]] = {
    StudyRecord: StudyRecord.meeting_id.is_not(None),  # a meeting's credit follows its meeting
    Problem: Problem.status != ProblemStatus.pending,  # accepted: it changes through its lifecycle
}


class Refusal(str, enum.Enum):
    """Why a member's change to their record was not made."""

    gone = "gone"  # deleted, or never theirs
    locked = "locked"  # taken over meanwhile (``LOCKS``)


def _locked(model: type[Record]) -> ColumnElement[bool]:
    return LOCKS.get(model, false())


def _owner(model: type[Record]) -> Any:
    """The column naming whose record it is (``model.owner``)."""
    return getattr(model, model.owner)


def snapshot(obj: object) -> dict[str, Any]:
    """The row's columns as JSON-safe values, for the audit log."""
    out: dict[str, Any] = {}
    for attr in inspect(obj).mapper.column_attrs:
        if attr.key in _SKIP:
            continue
        value = getattr(obj, attr.key)
        out[attr.key] = value.isoformat() if isinstance(value, date | datetime) else (
            value.value if hasattr(value, "value") else value)
    return out


async def add_audit(session: AsyncSession, actor: Member, action: str, entity: str, entity_id: int,
                    before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    """One audit row: who did what to which record, with the record before and after."""
    await audit(session, actor_id=actor.id, action=action, entity=entity, entity_id=entity_id,
                before=before, after=after)


class RecordRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _audit(self, actor: Member, action: str, entity: str, entity_id: int,
                     before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
        await add_audit(self.session, actor, action, entity, entity_id, before, after)

    async def create(self, model: type[Record], member: Member, values: dict[str, Any]) -> Record:
        """A new record of the member's (made as the model makes it: its attribute rules apply),
        written at once; its day's tallies are brought up to date at commit."""
        record = model(org_id=member.org_id, **{model.owner: member.id}, **values)
        await _INSERTS[model].add(self.session, record)
        note_inserted(self.session, record)
        if isinstance(record, Problem):
            self.session.add(ProblemEvent(problem_id=record.id, actor_id=member.id, action="report",
                                          to_status=ProblemStatus.pending))
        await self._audit(member, "create", model.entity, record.id, None, snapshot(record))
        return record

    async def get_owned(self, model: type[Record], record_id: int, member: Member) -> Record | None:
        return await self.session.scalar(
            select(model).where(model.id == record_id, _owner(model) == member.id,
                                model.deleted_at.is_(None))
        )

    async def open_owned(self, model: type[Record], record_id: int,
                         member: Member) -> tuple[Record | None, bool]:
        """The member's live record and whether it is locked now (``LOCKS``)."""
        row = (await self.session.execute(
            select(model, _locked(model)).where(model.id == record_id, _owner(model) == member.id,
                                                model.deleted_at.is_(None)))).first()
        return (None, False) if row is None else (row[0], bool(row[1]))

    async def changeable(self, model: type[Record], record_id: int,
                         member: Member) -> Record | Refusal:
        """The member's record, row-locked for this transaction, if they may change or delete it
        now; else why not. (PostgreSQL waits for a decision in flight and re-reads the row.)"""
        record = await self.session.scalar(
            select(model).where(model.id == record_id, _owner(model) == member.id,
                                model.deleted_at.is_(None), ~_locked(model))
            .with_for_update().execution_options(populate_existing=True))
        if record is not None:
            return record
        current, _ = await self.open_owned(model, record_id, member)
        return Refusal.gone if current is None else Refusal.locked

    async def update(self, record: Record, values: dict[str, Any], actor: Member) -> None:
        before = snapshot(record)
        for key, value in values.items():
            setattr(record, key, value)
        await self.session.flush()
        after = snapshot(record)
        if after != before:
            await self._audit(actor, "update", record.entity, record.id, before, after)
            if isinstance(record, Problem):
                self.session.add(ProblemEvent(problem_id=record.id, actor_id=actor.id,
                                              action="edit", from_status=record.status,
                                              to_status=record.status))

    async def delete(self, record: Record, actor: Member) -> None:
        before = snapshot(record)
        record.deleted_at = utcnow()
        await self._audit(actor, "delete", record.entity, record.id, before, None)
        await self.session.flush()

    async def recent(self, member: Member, models: Iterable[type[Record]],
                     limit: int = 8) -> list[Record]:
        """The member's newest records of these kinds, newest first."""
        found: list[Record] = []
        for model in models:
            found.extend(await self.session.scalars(
                select(model).where(_owner(model) == member.id, model.deleted_at.is_(None))
                .order_by(model.created_at.desc(), model.id.desc()).limit(limit)
            ))
        found.sort(key=lambda record: record.created_at, reverse=True)
        return found[:limit]

    async def active_commitment(self, member: Member) -> Commitment | None:
        return await self.session.scalar(
            select(Commitment).where(Commitment.member_id == member.id,
                                     Commitment.deleted_at.is_(None))
            .order_by(Commitment.id.desc()).limit(1)
        )

    async def report_commitment(self, commitment: Commitment, member: Member, *, text: str,
                                kept: bool, on: date) -> CommitmentReport:
        report = CommitmentReport(commitment_id=commitment.id, member_id=member.id,
                                  report_date=on, text=text, kept=kept)
        self.session.add(report)
        before = snapshot(commitment)
        commitment.kept = commitment.kept or kept
        await self.session.flush()
        await self._audit(member, "report", Commitment.entity, commitment.id, before, snapshot(commitment))
        return report
