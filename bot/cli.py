"""The `branchbot` command line: database, organization, roster, demo, console chat, run."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import App, SchemaOutOfDate, build_app, require_current_schema
from bot.config import Settings
from handlers.i18n import t
from handlers.reports.figures import Scope
from handlers.reports.periods import Period
from handlers.roster import RosterError, import_roster
from storage.db import session_factory
from storage.migrate import upgrade
from storage.models import OrgKind, Organization
from storage.repositories.members import MemberRepository
from storage.repositories.orgs import OrgRepository
from storage.tallies import recount_all

T = TypeVar("T")


class CliError(click.ClickException):
    """A one-line error for the operator, never a traceback."""

    def format_message(self) -> str:
        return self.message


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        field = "BRANCHBOT_" + str(first["loc"][0]).upper() if first["loc"] else "BRANCHBOT_*"
        raise CliError(t("cli.bad_setting", field=field, reason=first["msg"])) from error


def run_async(func: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            asyncio.run(func(*args, **kwargs))
        except SchemaOutOfDate as error:
            raise CliError(str(error)) from error
    return wrapper


async def with_session(app: App, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction on a schema that is up to date."""
    try:
        await require_current_schema(app.engine)
        async with session_factory(app.engine)() as session, session.begin():
            return await work(session)
    finally:
        await app.close()


@click.group()
def main() -> None:
    """branchbot：党支部主题教育助手。"""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "alembic", "apscheduler"):  # a line per API call or job is only noise
        logging.getLogger(noisy).setLevel(logging.WARNING)


@main.group()
def db() -> None:
    """数据库。"""


@db.command("upgrade")
@run_async
async def db_upgrade() -> None:
    """把数据库结构升级到最新版本（首次运行时创建）。"""
    app = build_app(load_settings())
    try:
        await upgrade(app.engine)
    finally:
        await app.close()
    click.echo(t("cli.db_upgraded"))


@db.command("recount")
@run_async
async def db_recount() -> None:
    """按全部记录重新统计每日汇总（直接改动过数据库之后使用）。"""
    app = build_app(load_settings())
    days = await with_session(app, lambda session: session.run_sync(
        lambda sync: recount_all(sync.connection())))
    click.echo(t("cli.db_recounted", days=days))


@main.group()
def org() -> None:
    """组织：支部与上级党组织。"""


@org.command("add-branch")
@click.argument("name")
@click.option("--parent", help="上级党组织（党总支/党委）名称；不存在时自动创建。")
@run_async
async def org_add_branch(name: str, parent: str | None) -> None:
    """添加支部，打印邀请码和邀请链接。"""
    settings = load_settings()
    name = name.strip()
    if not name or len(name) > 100:
        raise CliError(t("cli.bad_org_name"))

    async def work(session: AsyncSession) -> tuple[str, str | None]:
        orgs = OrgRepository(session)
        if await orgs.by_name(name) is not None:
            raise CliError(t("cli.org_exists", name=name))
        above = None
        if parent:
            above = await orgs.by_name(parent) or await orgs.add(parent, kind=OrgKind.general)
        branch = await orgs.add(name, kind=OrgKind.branch, parent=above)
        return branch.invite_code or "", parent

    code, parent_name = await with_session(build_app(settings), work)
    click.echo(t("cli.branch_added", name=name, parent=parent_name or "—", code=code,
                 link=invite_link(settings, code)))


def invite_link(settings: Settings, code: str) -> str:
    username = settings.telegram_bot_username or t("cli.bot_username_placeholder")
    return f"https://t.me/{username}?start={code}"


@org.command("list")
@run_async
async def org_list() -> None:
    """以树形列出组织和人数。"""
    rows = await with_session(build_app(load_settings()), lambda s: OrgRepository(s).tree())
    if not rows:
        click.echo(t("cli.no_orgs"))
    for row in rows:
        code = f"  邀请码 {row.org.invite_code}" if row.org.invite_code else ""
        click.echo(f"{'  ' * row.depth}{row.org.name}（{row.members}人）{code}")


@main.group()
def member() -> None:
    """党员名册。"""


@member.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@run_async
async def member_import(path: Path) -> None:
    """导入名册（.xlsx 或 .csv；列：姓名、支部、角色）。有错误时整份不导入。"""
    try:
        added = await with_session(build_app(load_settings()), lambda s: import_roster(s, path))
    except RosterError as error:
        raise CliError(t("cli.roster_refused", problems=str(error))) from error
    click.echo(t("cli.roster_imported", added=added))


@main.group()
def problems() -> None:
    """问题清单。"""


@problems.command("export")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="写入的 Excel 文件，如 问题清单.xlsx。")
@click.option("--branch", default=None, help="只导出这个支部（默认：全部支部）。")
@run_async
async def problems_export(out: Path, branch: str | None) -> None:
    """导出问题清单（每个问题一行：措施、责任人、时限、进展、状态、销号日期）。"""
    from handlers.problems.export import export
    from storage.repositories.problems import ProblemRepository
    from storage.types import utcnow

    settings = load_settings()

    async def work(session: AsyncSession) -> tuple[bytes, int]:
        org_id = None
        if branch is not None:
            found = await OrgRepository(session).by_name(branch.strip())
            if found is None:
                raise CliError(t("cli.no_such_branch", name=branch))
            org_id = found.id
        count = len(await ProblemRepository(session).all_of(org_id))
        today = utcnow().astimezone(settings.tz).date()
        return await export(session, org_id, today, settings.tz), count

    content, count = await with_session(build_app(settings), work)
    out.write_bytes(content)
    click.echo(t("cli.problems_exported", path=out, count=count))


@main.group()
def calendar() -> None:
    """主题教育日历：时间节点、节假日、述学安排。"""


@calendar.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@run_async
async def calendar_load(path: Path) -> None:
    """导入日历文件（.toml）。有错误时整份不导入。"""
    from handlers.calendar_file import CalendarError, load_calendar

    try:
        counts = await with_session(build_app(load_settings()), lambda s: load_calendar(s, path))
    except CalendarError as error:
        raise CliError(t("calendar.refused", problems=str(error))) from error
    click.echo(t("calendar.loaded", milestones=counts[0], holidays=counts[1], schedules=counts[2]))


@calendar.command("show")
@run_async
async def calendar_show() -> None:
    """列出日历中的时间节点和节假日。"""
    from handlers.calendar_file import calendar_lines

    lines = await with_session(build_app(load_settings()), calendar_lines)
    click.echo("\n".join(lines) if lines else t("calendar.empty"))


@main.command()
@click.option("--no-chat", is_flag=True, help="只创建示例数据，不打开对话。")
@click.option("--as", "as_name", default=None, help="以哪位党员的身份对话（默认：李娜）。")
@click.option("--reset", is_flag=True, help="删除已有的示例数据库后重建（仅限 SQLite 文件）。")
@run_async
async def demo(no_chat: bool, as_name: str | None, reset: bool) -> None:
    """创建示例数据（一个局、三个支部、一个月的记录），然后在终端里对话。"""
    from bot.demo import DEMO_MEMBER, branch_invites, create_demo, has_demo

    settings = load_settings()
    if reset:
        _remove_sqlite_file(settings.database_url)
    app = build_app(settings)
    await upgrade(app.engine)
    async with session_factory(app.engine)() as session, session.begin():
        from storage.types import utcnow

        if await has_demo(session):
            click.echo(t("cli.demo_exists"))
        else:
            await create_demo(session, utcnow().astimezone(settings.tz).date())
            click.echo(t("cli.demo_created", url=settings.database_url))
        for name, code in await branch_invites(session):
            click.echo(f"  {name}：邀请码 {code}")
    if no_chat:
        await app.close()
        return
    await _chat(app, as_name or DEMO_MEMBER)


def _remove_sqlite_file(url: str) -> None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise CliError(t("cli.reset_sqlite_only"))
    for suffix in ("", "-wal", "-shm"):
        Path(parsed.database + suffix).unlink(missing_ok=True)


@main.command()
@click.option("--as", "as_name", default=None, help="以名册中哪位党员的身份对话；不填则以未加入的新用户身份。")
@run_async
async def chat(as_name: str | None) -> None:
    """在终端里和机器人对话（也可从管道读入，每行一条消息）。"""
    app = build_app(load_settings())
    try:
        await require_current_schema(app.engine)
    except SchemaOutOfDate:
        await app.close()
        raise
    await _chat(app, as_name)


async def _chat(app: App, as_name: str | None) -> None:
    from bot.adapters.console import PLATFORM, ConsoleChat, ConsoleSender
    from bot.delivery import UNLIMITED
    from bot.pushes import Pushes

    logging.getLogger().setLevel(logging.WARNING)  # the terminal is the conversation: no chatter
    try:
        user_id, user_name = "newcomer", "新用户"
        if as_name:
            async with session_factory(app.engine)() as session, session.begin():
                found = await MemberRepository(session).by_name(as_name)
                if not found:
                    raise CliError(t("cli.no_such_member", name=as_name))
                person = found[0]
                user_id, user_name = f"member-{person.id}", person.name
                if await MemberRepository(session).by_identity(PLATFORM, user_id) is None:
                    await MemberRepository(session).bind(person, platform=PLATFORM, user_id=user_id,
                                                         display_name=person.name)
        console = ConsoleChat(app.core, user_id=user_id, user_name=user_name)
        pushes = Pushes(app, ConsoleSender(console), limits=UNLIMITED) \
            if app.settings.pushes_enabled else None
        if pushes is not None:
            await pushes.start()
        try:
            await console.run(echo=not sys.stdin.isatty())
        finally:
            if pushes is not None:
                await pushes.stop()
    finally:
        await app.close()


@main.command()
def run() -> None:
    """启动机器人（按 BRANCHBOT_PLATFORM：telegram、wecom 或 console）。"""
    settings = load_settings()
    if settings.platform == "console":
        chat.callback(as_name=None)  # type: ignore[misc]
        return
    if settings.platform == "wecom":
        _run_wecom(settings)
        return
    from bot.adapters.telegram import run_telegram

    if not settings.telegram_token:
        raise CliError(t("cli.no_token"))
    try:
        run_telegram(settings)
    except SchemaOutOfDate as error:
        raise CliError(str(error)) from error


def _run_wecom(settings: Settings) -> None:
    from bot.adapters.wecom import missing_settings, run_wecom

    missing = missing_settings(settings)
    if missing:
        raise CliError(t("wecom.missing_settings", fields="、".join(missing)))
    try:
        run_wecom(settings)
    except SchemaOutOfDate as error:
        raise CliError(str(error)) from error


@main.group()
def group() -> None:
    """支部群（企业微信群机器人）。"""


@group.command("set-webhook")
@click.argument("branch")
@click.argument("url")
@run_async
async def group_set_webhook(branch: str, url: str) -> None:
    """设置支部群的企业微信群机器人地址（Webhook），述学提醒等推送到该群。"""
    from bot.adapters.wecom import is_webhook_url, set_robot
    from storage.models import Member, Role

    if not is_webhook_url(url):
        raise CliError(t("wecom.bad_webhook"))

    async def work(session: AsyncSession) -> None:
        org = await OrgRepository(session).by_name(branch.strip())
        if org is None or org.kind is not OrgKind.branch:
            raise CliError(t("cli.no_such_branch", name=branch))
        active = (Member.active.is_(True),)
        binder = await session.scalar(select(Member.id).where(
            Member.org_id == org.id, Member.role == Role.secretary, *active).order_by(Member.id)) \
            or await session.scalar(select(Member.id).where(
                Member.role == Role.office, *active).order_by(Member.id))
        if binder is None:
            raise CliError(t("wecom.no_binder", org=org.name))
        await set_robot(session, org.id, url, binder)

    await with_session(build_app(load_settings()), work)
    click.echo(t("wecom.webhook_set", org=branch.strip()))


# --- summaries and reports (issue 5) ---


def _report_period(today: date, first: date | None, start: str | None, end: str | None,
                   word: str | None, default: str) -> Period:
    from handlers.parsing import InvalidInput
    from handlers.reports.periods import campaign, parse_period

    words = [w for w in (start, end) if w] if (start or end) else ([word] if word else [])
    if start and not end:
        words = [start, today.isoformat()]
    elif end and not start:
        raise CliError(t("cli.report_need_from"))
    try:
        if not words and default == "campaign":
            return campaign(first, today)
        return parse_period(words, today, first)
    except InvalidInput as error:
        raise CliError(str(error)) from error


async def _report_target(session: AsyncSession, branch: str | None) -> tuple[Scope, str, bool]:
    """(scope, title, side by side) for one named branch, or for every branch."""
    from handlers.reports import figures

    if branch is None:
        bureau = await session.scalar(select(Organization.name).where(Organization.kind == OrgKind.bureau)
                                      .order_by(Organization.id).limit(1))
        return Scope(None), bureau or t("cli.report_all_title"), True
    for org_id, name in await figures.branches(session):
        if name == branch:
            return Scope((org_id,)), name, False
    raise CliError(t("cli.report_no_branch", name=branch))


_PERIOD_OPTIONS = [
    click.option("--branch", default=None, help="支部名称；不填则为全部支部。"),
    click.option("--from", "start", default=None, help="开始日期，如 2023-10-01。"),
    click.option("--to", "end", default=None, help="结束日期，如 2023-10-31（不填为今天）。"),
    click.option("--period", "word", default=None, help="本周、上周、本月、上月、全程。"),
]


def _period_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_PERIOD_OPTIONS):
        func = option(func)
    return func


@main.command()
@_period_options
@run_async
async def summary(branch: str | None, start: str | None, end: str | None, word: str | None) -> None:
    """汇总：各支部对照（进度慢的在前），或 --branch 一个支部的逐人情况。"""
    from handlers.reports import figures
    from handlers.reports.summary import rollup
    from handlers.reports.summary import summary as branch_summary
    from handlers.reports.text import branch_text, pages, rollup_text
    from storage.types import utcnow

    settings = load_settings()

    async def work(session: AsyncSession) -> str:
        today = utcnow().astimezone(settings.tz).date()
        period = _report_period(today, await figures.first_day(session), start, end, word, "this_month")
        scope, title, everyone = await _report_target(session, branch)
        if everyone:
            rows = await rollup(session, period, settings.tz)
            header = t("report.rollup_header", period=period.shown())
            return "\n".join(rollup_text(rows, header, page) for page in range(1, pages(len(rows)) + 1))
        found = await branch_summary(session, scope, title, period, settings.tz)
        return "\n".join(branch_text(found, page) for page in range(1, pages(len(found.members)) + 1))

    click.echo(await with_session(build_app(settings), work))


@main.command()
@_period_options
@click.option("--format", "formats", multiple=True, type=click.Choice(["xlsx", "docx", "png"]),
              help="xlsx（台账）、docx（阶段性总结）、png（图表）；可写多次，不写为全部。")
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("."),
              help="输出文件（一种格式时）或文件夹。")
@run_async
async def report(branch: str | None, start: str | None, end: str | None, word: str | None,
                 formats: tuple[str, ...], out: Path) -> None:
    """生成报表文件：Excel 台账、Word 阶段性总结、PNG 图表。"""
    from handlers.reports import figures
    from handlers.reports.files import FORMATS, Request, produce
    from storage.types import utcnow

    settings = load_settings()
    app = build_app(settings)
    try:
        await require_current_schema(app.engine)
        sessions = session_factory(app.engine)
        async with sessions() as session:
            today = utcnow().astimezone(settings.tz).date()
            period = _report_period(today, await figures.first_day(session), start, end, word, "campaign")
            scope, title, everyone = await _report_target(session, branch)
        request = Request(scope, title, period, settings.tz, formats or FORMATS, side_by_side=everyone)
        one_file = len(request.formats) == 1 and out.suffix.lower() == f".{request.formats[0]}"
        if not one_file:
            out.mkdir(parents=True, exist_ok=True)
        async for text, document in produce(sessions, request):
            if document is None:
                click.echo(f"… {text}", err=True)
                continue
            path = out if one_file else out / document.file_name
            path.write_bytes(document.content)
            click.echo(str(path))
    finally:
        await app.close()


if __name__ == "__main__":
    main()
