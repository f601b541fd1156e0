"""Roster import (名册导入): name, branch, role per row, optionally the 党小组 and the person's
platform accounts (企业微信账号, 钉钉账号, 飞书账号, Telegram, 手机号), from .xlsx or .csv. All
rows or none.

An account belongs to one member: a file naming one twice, or one already registered to someone
else, is refused. An empty account cell leaves what the member had.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from handlers.core.i18n import Translator
from handlers.imports.tables import Refused, read_path
from handlers.membership import accounts
from storage.db import Session
from storage.models import AccountKind, Organization, Role
from storage.repositories.accounts import AccountRepository
from storage.repositories.members import MemberRepository
from storage.repositories.orgs import OrgRepository
from storage.vocabulary import ROLE_NAMES

ROLE_WORDS: dict[str, Role] = {**ROLE_NAMES, "书记": Role.secretary, "支委委员": Role.committee}
HEADERS = {"name": ("姓名", "name"), "branch": ("支部", "所在支部", "branch"), "role": ("角色", "身份", "role")}
# Optional columns: the platform accounts (their first name is how a refusal names the column).
ACCOUNT_HEADERS = {"wecom": ("企业微信账号", "企业微信", "企业微信id", "userid", "wecom"),
                   "dingtalk": ("钉钉账号", "钉钉", "钉钉id", "dingtalk"),
                   "feishu": ("飞书账号", "飞书", "飞书id", "feishu", "lark"),
                   "telegram": ("telegram", "tg", "电报"),
                   "phone": ("手机号", "手机", "手机号码", "mobile", "phone")}
OPTIONAL_HEADERS = {"party_group": ("党小组", "所在党小组", "party_group")}
MAX_NAME = 50
MAX_PARTY_GROUP = 50


Cell = Callable[[str], tuple[AccountKind, str] | None]


def _as(kind: AccountKind, read: Callable[[str], str | None]) -> Cell:
    def cell(text: str) -> tuple[AccountKind, str] | None:
        value = read(text)
        return None if value is None else (kind, value)
    return cell


ACCOUNT_READERS: dict[str, tuple[Cell, str]] = {
    "wecom": (_as(AccountKind.wecom, accounts.wecom), "roster.bad_wecom"),
    "dingtalk": (_as(AccountKind.dingtalk, accounts.dingtalk), "roster.bad_dingtalk"),
    "feishu": (_as(AccountKind.feishu, accounts.feishu), "roster.bad_feishu"),
    "telegram": (accounts.telegram, "roster.bad_telegram"),
    "phone": (_as(AccountKind.phone, accounts.phone), "roster.bad_phone")}


@dataclass(frozen=True)
class Account:
    column: str  # the header as the file has it
    kind: AccountKind
    value: str  # normalized


@dataclass(frozen=True)
class RosterRow:
    line: int
    name: str
    branch: str
    role: Role
    accounts: tuple[Account, ...] = ()
    party_group: str | None = None  # 党小组 ("": none); None: no such column, leave it as it is


RosterError = Refused  # the roster is refused as every office sheet is (``handlers.imports.tables``)


def read_table(t: Translator, path: Path) -> list[list[str]]:
    return read_path(t, path)


def _columns(t: Translator, header: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Where the required columns are, and the optional account columns the file has."""
    columns: dict[str, int] = {}
    for key, names in HEADERS.items():
        found = [i for i, cell in enumerate(header) if cell in names]
        if not found:
            raise RosterError([t("roster.missing_column", column=names[0])])
        columns[key] = found[0]
    for key, names in OPTIONAL_HEADERS.items():
        found = [i for i, cell in enumerate(header) if cell in names]
        if found:
            columns[key] = found[0]
    optional = {key: found[0] for key, names in ACCOUNT_HEADERS.items()
                if (found := [i for i, cell in enumerate(header) if cell in names])}
    return columns, optional


def _accounts(t: Translator, line: int, cells: list[str], titles: list[str], optional: dict[str, int],
              problems: list[str]) -> tuple[Account, ...]:
    found = []
    for key, index in optional.items():
        cell = cells[index].strip()
        if not cell:
            continue
        read, refusal = ACCOUNT_READERS[key]
        account = read(cell)
        if account is None:
            problems.append(t(refusal, line=line, value=cell))
        else:
            found.append(Account(titles[index], *account))
    return tuple(found)


def parse_rows(t: Translator, table: list[list[str]]) -> list[RosterRow]:
    if not table:
        raise RosterError([t("roster.empty")])
    titles = [cell.strip() for cell in table[0]]
    columns, optional = _columns(t, [title.lower() for title in titles])
    rows, problems = [], []
    seen: dict[tuple[AccountKind, str], int] = {}
    for line, cells in enumerate(table[1:], start=2):
        cells = cells + [""] * (len(titles) - len(cells))
        name, branch, role = (cells[columns[k]].strip() for k in ("name", "branch", "role"))
        group = cells[columns["party_group"]].strip() if "party_group" in columns else None
        found = _accounts(t, line, cells, titles, optional, problems)
        if not (name or branch or role or group or found):
            continue
        for account in found:
            first = seen.setdefault((account.kind, account.value), line)
            if first != line:
                problems.append(t("roster.account_repeated", line=line, column=account.column,
                                  value=account.value, other=first))
        if not name or len(name) > MAX_NAME:
            problems.append(t("roster.bad_name", line=line))
        elif not branch:
            problems.append(t("roster.no_branch", line=line))
        elif role not in ROLE_WORDS:
            problems.append(t("roster.bad_role", line=line, role=role or t("roster.empty_role"),
                              roles="、".join(ROLE_WORDS)))
        elif group is not None and len(group) > MAX_PARTY_GROUP:
            problems.append(t("roster.bad_party_group", line=line, max=MAX_PARTY_GROUP))
        else:
            rows.append(RosterRow(line, name, branch, ROLE_WORDS[role], found, group))
    if problems:
        raise RosterError(problems)
    if not rows:
        raise RosterError([t("roster.empty")])
    return rows


async def import_roster(t: Translator, session: Session, path: Path) -> int:
    """The roster file at ``path``: see ``import_table``."""
    return await import_table(t, session, read_table(t, path))


async def import_table(t: Translator, session: Session, table: list[list[str]]) -> int:
    """Add every row's member (or update its role and accounts), or none: any bad row raises
    RosterError before anything is written."""
    rows = parse_rows(t, table)
    orgs, members, registry = OrgRepository(session), MemberRepository(session), AccountRepository(session)
    branches: dict[str, Organization] = {}
    existing: dict[int, int | None] = {}  # line → the member the row updates (None: a new one)
    problems, seen = [], set()
    for row in rows:
        org = branches.get(row.branch) or await orgs.by_name(row.branch)
        if org is None:
            problems.append(t("roster.unknown_branch", line=row.line, branch=row.branch))
            continue
        branches[row.branch] = org
        if (row.name, row.branch) in seen:
            problems.append(t("roster.duplicate", line=row.line, name=row.name))
        seen.add((row.name, row.branch))
        same = await members.by_name(row.name, org)
        existing[row.line] = same[0].id if same else None
        for account in row.accounts:
            holder = await registry.holder(account.kind, account.value)
            if holder is not None and holder != existing[row.line]:
                other = await members.get(holder)
                problems.append(t("roster.account_taken", line=row.line, column=account.column,
                                  value=account.value, holder=other.name if other else "—",
                                  org=other.org.name if other else "—"))
    if problems:
        raise RosterError(problems)
    added = 0
    for row in rows:
        member_id = existing[row.line]
        if member_id is None:
            member = await members.add(branches[row.branch], row.name, row.role)
            member_id = member.id
            added += 1
        else:
            found_member = await members.get(member_id)
            assert found_member is not None
            member = found_member
            member.role = row.role
        if row.party_group is not None:
            member.party_group = row.party_group or None
        for account in row.accounts:
            await registry.set(member_id, account.kind, account.value)
    return added
