"""Roster rows' platform accounts (企业微信账号, 钉钉账号, 飞书账号, Telegram, 手机号): one member
per account."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from storage.inserts import insert_new
from storage.models import AccountKind, Member, MemberAccount

TABLE = MemberAccount.__table__


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def owners(self, accounts: Iterable[tuple[AccountKind, str]]) -> dict[int, list[AccountKind]]:
        """The active members holding any of ``accounts``: member id → the kinds that matched."""
        pairs = list(dict.fromkeys(accounts))
        if not pairs:
            return {}
        rows = await self.session.execute(
            select(MemberAccount.member_id, MemberAccount.kind)
            .join(Member, Member.id == MemberAccount.member_id)
            .where(tuple_(MemberAccount.kind, MemberAccount.value).in_(pairs), Member.active)
            .order_by(MemberAccount.member_id))
        found: dict[int, list[AccountKind]] = {}
        for member_id, kind in rows.tuples():
            found.setdefault(member_id, []).append(kind)
        return found

    async def holder(self, kind: AccountKind, value: str) -> int | None:
        """Who holds the account (any member, active or not)."""
        return await self.session.scalar(select(MemberAccount.member_id).where(
            MemberAccount.kind == kind, MemberAccount.value == value))

    async def of(self, member_id: int) -> dict[AccountKind, str]:
        rows = await self.session.execute(select(MemberAccount.kind, MemberAccount.value).where(
            MemberAccount.member_id == member_id).order_by(MemberAccount.id))
        return dict(rows.tuples().all())

    async def set(self, member_id: int, kind: AccountKind, value: str) -> None:
        """Give the member this account, replacing their earlier one of the kind. The caller
        made sure nobody else holds it (the unique constraint says so again)."""
        row = await self.session.scalar(select(MemberAccount).where(
            MemberAccount.member_id == member_id, MemberAccount.kind == kind))
        if row is None:
            self.session.add(MemberAccount(member_id=member_id, kind=kind, value=value))
        else:
            row.value = value
        await self.session.flush()

    async def add_if_free(self, member_id: int, kind: AccountKind, value: str) -> bool:
        """Record the account for the member unless someone holds it already; False then."""
        return await insert_new(self.session, TABLE, member_id=member_id, kind=kind,
                                value=value) is not None
