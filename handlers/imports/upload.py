"""The office works from the chat (#13 item 7): a roster, pairings, topics, past 述学 or the
calendar file sent to the bot in a private chat is imported as the CLI imports it (all or
nothing, each bad line named in the reply); ``/template 名册|结对|课题|述学|日历`` sends a blank
file to fill in.

What a sheet is comes from its header row (a roster has 角色, a pairing list 结对居村 …), a
calendar is a .toml file. The office imports for every branch; a branch's secretary only sheets
whose every line is their own branch (and a roster giving nobody the office's role); the calendar
is the office's.
"""

from __future__ import annotations

import logging
from pathlib import Path

from handlers.calendar.file import CalendarError, load_calendar_text, loaded_text
from handlers.core.context import Context
from handlers.core.events import OutDocument, Reply
from handlers.core.policy import sees_every_branch
from handlers.imports import templates
from handlers.imports.sheets import BRANCH, SHEETS, SheetKind, import_sheet
from handlers.imports.tables import Refused, Table, read_bytes
from handlers.membership import roster
from storage.models import Member, Role

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
ROSTER = "roster"
CALENDAR = "calendar"
# Which kind a header row is: the first whose marker column it has.
MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (ROSTER, roster.HEADERS["role"]),
    ("pairing", ("结对居村", "居村", "结对村居", "place")),
    ("shuxue", ("自学情况", "自学")),
    ("topic", ("课题", "调研课题", "课题名称", "topic")),
)


def kind_of(header: list[str]) -> str | None:
    cells = {cell.strip().lower() for cell in header}
    return next((kind for kind, names in MARKERS if cells & set(names)), None)


def _own_branch_only(ctx: Context, member: Member, table: Table) -> list[str]:
    """A secretary's sheet: each line naming another branch, or (a roster) giving someone the
    office's role, is refused."""
    header = [cell.strip().lower() for cell in table[0]]
    branch_at = next((i for i, cell in enumerate(header) if cell in BRANCH), None)
    role_at = next((i for i, cell in enumerate(header) if cell in roster.HEADERS["role"]), None)
    problems = []
    for line, cells in enumerate(table[1:], start=2):
        branch = cells[branch_at].strip() if branch_at is not None and branch_at < len(cells) else ""
        if branch and branch != member.org.name:
            problems.append(ctx.t("upload.other_branch", line=line, branch=branch, own=member.org.name))
        role = cells[role_at].strip() if role_at is not None and role_at < len(cells) else ""
        if roster.ROLE_WORDS.get(role) is Role.office:
            problems.append(ctx.t("upload.office_role", line=line))
    return problems


async def _import_table(ctx: Context, member: Member, table: Table) -> str:
    kind = kind_of(table[0]) if table else None
    if kind is None:
        return ctx.t("upload.unknown_sheet")
    what = ctx.t("import.what_roster") if kind == ROSTER else ctx.t(SHEETS[kind].what)
    try:
        if not sees_every_branch(member) and (problems := _own_branch_only(ctx, member, table)):
            raise Refused(problems)
        if kind == ROSTER:
            added = await roster.import_table(ctx.t, ctx.session, table)
            return "✅ " + ctx.t("cli.roster_imported", added=added)
        sheet: SheetKind = SHEETS[kind]
        added, total = await import_sheet(ctx.t, ctx.session, sheet, table, today=ctx.today,
                                          tz=ctx.config.tz)
        return ctx.t(sheet.done, added=added, total=total)
    except Refused as error:
        return ctx.t("import.refused", what=what, problems="\n".join(error.problems))


async def _import_calendar(ctx: Context, member: Member, raw: bytes) -> str:
    what = ctx.t("import.what_calendar")
    if not sees_every_branch(member):
        return ctx.t("upload.calendar_office_only")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ctx.t("import.refused", what=what, problems=ctx.t("roster.bad_encoding"))
    try:
        return "✅ " + loaded_text(ctx.t, await load_calendar_text(ctx.t, ctx.session, text))
    except CalendarError as error:
        return ctx.t("import.refused", what=what, problems=str(error))


async def on_file(ctx: Context) -> list[Reply]:
    """A file sent outside any dialog: the office's (or a secretary's) sheet or calendar."""
    member, file = ctx.member, ctx.event.file
    assert file is not None
    if member is None:
        return [Reply(ctx.t("auth.not_member"))]
    if member.role not in (Role.secretary, Role.office):
        return [Reply(ctx.t("upload.not_leader"))]
    name = file.name or ""
    suffix = Path(name).suffix.lower()
    if suffix not in (".xlsx", ".csv", ".toml"):
        return [Reply(ctx.t("upload.bad_type", suffix=suffix or ctx.t("upload.no_suffix")))]
    raw = await _content(ctx)
    if isinstance(raw, str):
        return [Reply(raw)]
    if suffix == ".toml":
        return [Reply(await _import_calendar(ctx, member, raw))]
    try:
        table = read_bytes(ctx.t, name, raw)
    except Refused as error:
        return [Reply(ctx.t("import.refused", what=ctx.t("upload.file"), problems="\n".join(error.problems)))]
    return [Reply(await _import_table(ctx, member, table))]


async def _content(ctx: Context) -> bytes | str:
    """The sent file's content as the file store kept it at receipt, or what to tell the sender
    (too large, gone at the platform, not fetched from this platform now)."""
    mb = MAX_UPLOAD_BYTES // (1024 * 1024)
    fetched = ctx.fetched
    if ctx.files is None or fetched is None:
        return ctx.t("upload.cannot_read")
    if fetched.refused is not None:
        too_large = fetched.refused.code == "too_large"
        return ctx.t("upload.unavailable_too_large", mb=mb) if too_large else \
            ctx.t(f"file.{fetched.refused.code}", **fetched.refused.params())
    if fetched.gone or fetched.stored is None:
        return ctx.t("upload.unavailable_gone")
    if fetched.stored.size > MAX_UPLOAD_BYTES:
        return ctx.t("upload.unavailable_too_large", mb=mb)
    return await ctx.files.store.read(fetched.stored.key)


async def template_command(ctx: Context, args: str) -> list[Reply]:
    """/template 名册|结对|课题|述学|日历: a blank file to fill in and send back."""
    word = args.strip()
    found = templates.TEMPLATES.get(word)
    if found is None:
        return [Reply(ctx.t("upload.template_usage", names="、".join(templates.TEMPLATES)))]
    return [Reply(ctx.t("upload.template_sent", name=word),
                  document=OutDocument(found.file_name, found.content()))]
