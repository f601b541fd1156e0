"""Roster import (名册导入): name, branch, role (and optionally 党小组) per row, from .xlsx or
.csv. All rows or none."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from handlers.core.i18n import Translator
from storage.db import Session
from storage.models import Organization, Role
from storage.repositories.members import MemberRepository
from storage.repositories.orgs import OrgRepository
from storage.vocabulary import ROLE_NAMES

ROLE_WORDS: dict[str, Role] = {**ROLE_NAMES, "书记": Role.secretary, "支委委员": Role.committee}
HEADERS = {"name": ("姓名", "name"), "branch": ("支部", "所在支部", "branch"), "role": ("角色", "身份", "role")}
OPTIONAL_HEADERS = {"party_group": ("党小组", "所在党小组", "party_group")}
MAX_NAME = 50
MAX_PARTY_GROUP = 50


@dataclass(frozen=True)
class RosterRow:
    line: int
    name: str
    branch: str
    role: Role
    party_group: str | None = None  # 党小组 ("": none); None: no such column, leave it as it is


class RosterError(ValueError):
    """The file was refused as a whole; ``problems`` are lines like "第3行：…"."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def read_table(t: Translator, path: Path) -> list[list[str]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise RosterError([t("roster.bad_encoding")])
        return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        except Exception as error:  # openpyxl raises many kinds for a broken file
            raise RosterError([t("roster.unreadable", error=type(error).__name__)]) from error
        return [["" if cell is None else str(cell).strip() for cell in row]
                for row in sheet.iter_rows(values_only=True)]
    raise RosterError([t("roster.bad_type", suffix=suffix or "?")])


def parse_rows(t: Translator, table: list[list[str]]) -> list[RosterRow]:
    if not table:
        raise RosterError([t("roster.empty")])
    header = [cell.strip().lower() for cell in table[0]]
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
    rows, problems = [], []
    for line, cells in enumerate(table[1:], start=2):
        cells = cells + [""] * (len(header) - len(cells))
        name, branch, role = (cells[columns[k]].strip() for k in ("name", "branch", "role"))
        group = cells[columns["party_group"]].strip() if "party_group" in columns else None
        if not (name or branch or role):
            continue
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
            rows.append(RosterRow(line, name, branch, ROLE_WORDS[role], group))
    if problems:
        raise RosterError(problems)
    if not rows:
        raise RosterError([t("roster.empty")])
    return rows


async def import_roster(t: Translator, session: Session, path: Path) -> int:
    """Add every row's member, or none: any bad row raises RosterError before anything is written."""
    rows = parse_rows(t, read_table(t, path))
    orgs = OrgRepository(session)
    members = MemberRepository(session)
    branches: dict[str, Organization] = {}
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
    if problems:
        raise RosterError(problems)
    added = 0
    for row in rows:
        org = branches[row.branch]
        existing = [m for m in await members.by_name(row.name, org)]
        if existing:
            member = existing[0]
            member.role = row.role
        else:
            member = await members.add(org, row.name, row.role)
            added += 1
        if row.party_group is not None:
            member.party_group = row.party_group or None
    return added
