"""The core's front door: one neutral event in, replies out, one database session per event."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.core import buttons
from handlers.core.buttons import DialogChoice, RemindAgain, ReportPage
from handlers.core.context import Context, CoreConfig
from handlers.dialogs import engine
from handlers.commitments import dialog as commitment
from handlers.membership import join
from handlers.records import mine
from handlers.shuxue import schedule_setting
from handlers.shuxue import dialog as shuxue
from handlers.problems import report as _problem  # noqa: F401  (registers the dialog)
from handlers.problems import action_dialogs as _problem_actions  # noqa: F401
from handlers.problems import board as problem_board
from handlers.problems import progress
from handlers.meetings import menu as meeting_menu
from handlers.study import dialog as study
from handlers.visits import dialog as _visit  # noqa: F401
from handlers.core.events import Button, Incoming, Outcome, Reply
from handlers.core.i18n import t
from handlers.schedule.leave import leave_command
from handlers.reports import commands as reports
from handlers.shuxue.renudge import nudge_again
from storage.models import HandledEvent, Role
from storage.repositories.dialogs import DialogRepository
from storage.repositories.members import MemberRepository
from storage.repositories.orgs import OrgRepository
from storage.types import utcnow

log = logging.getLogger(__name__)
Command = Callable[[Context, str], Awaitable[list[Reply]]]


async def _start_dialog(name: str, ctx: Context) -> list[Reply]:
    return await engine.start(ctx, name)


# Commands that collect a member's own data: private chat only, members only.
PERSONAL: dict[str, Callable[[Context], Awaitable[list[Reply]]]] = {
    "study": study.begin,
    "visit": lambda ctx: _start_dialog("visit", ctx),
    "problem": lambda ctx: _start_dialog("problem", ctx),
    "commit": commitment.begin,
    "mine": mine.begin,
    "progress": progress.begin,
    "shuxue": shuxue.begin,
    "meeting": meeting_menu.begin,  # secretaries record meetings; members see theirs
}


_HANDLED = insert(HandledEvent.__table__)  # built once, and plain SQL: it runs for every event


async def _first_delivery(session: AsyncSession, event: Incoming) -> bool:
    """Record the event as handled (committed with its effects); False if it already was."""
    try:
        await session.execute(_HANDLED, {"platform": event.platform, "event_id": event.event_id,
                                         "at": utcnow()})
    except IntegrityError:
        await session.rollback()
        log.info("dropped redelivered %s event %s", event.platform, event.event_id)
        return False
    return True


def _parse_command(text: str) -> tuple[str, str] | None:
    if not text.startswith("/"):
        return None
    head, _, args = text[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    return (name, args.strip()) if name else None


class Core:
    """Platform-neutral bot logic. Adapters call ``handle`` for every event."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], config: CoreConfig) -> None:
        self.sessions = sessions
        self.config = config
        self.commands: dict[str, Command] = {
            "start": self._start, "join": self._join, "help": self._help,
            "cancel": self._cancel, "bindgroup": self._bindgroup,
            "problems": problem_board.command,
            "schedule": self._schedule, "leave": self._leave,
            "summary": reports.summary_command, "report": reports.report_command,
        }
        self.on_enqueue: Callable[[], None] | None = None  # set by whoever delivers the outbox

    async def handle(self, event: Incoming) -> Outcome:
        async with self.sessions() as session:
            try:
                if event.event_id is not None and not await _first_delivery(session, event):
                    return Outcome()
                member = await MemberRepository(session).by_identity(event.platform, event.user_id)
                ctx = Context(session, event, member, self.config, utcnow())
                outcome = await self._dispatch(ctx)
                await session.commit()
                if ctx.followup is not None:
                    outcome.followup = ctx.followup(self.sessions)
                if ctx.enqueued and self.on_enqueue is not None:
                    self.on_enqueue()
                return outcome
            except Exception:
                await session.rollback()
                log.exception("failed to handle %s", event)
                return Outcome([Reply(t("error.internal"))] if event.is_private else [],
                               notice=t("error.internal") if event.callback_data else None)

    async def _dispatch(self, ctx: Context) -> Outcome:
        ev = ctx.event
        dialogs = DialogRepository(ctx.session)
        state = await dialogs.get(ev.platform, ev.user_id) if ev.is_private or ev.callback_data else None
        expired: list[Reply] = []
        if state is not None and state.expires_at <= ctx.now:
            await dialogs.clear(ev.platform, ev.user_id)
            state = None
            expired = [Reply(t("dialog.expired"))] if ev.is_private else []

        if ev.callback_data is not None:
            pressed = buttons.unpack(ev.callback_data)
            if isinstance(pressed, RemindAgain):
                return await nudge_again(ctx, pressed)
            if isinstance(pressed, ReportPage):
                return await reports.on_button(ctx, pressed)
            if not isinstance(pressed, DialogChoice) or state is None:
                return Outcome(expired, notice=t("button.stale"))
            return await engine.on_button(ctx, state, pressed)

        command = _parse_command((ev.text or "").strip())
        if command is not None:
            name, args = command
            if state is not None and ev.is_private and not self._knows(name):
                again = await engine.ask_again(ctx, state)
                return Outcome([Reply(t("command.unknown", name=name))] + ([again] if again else []))
            return Outcome(expired + await self._command(ctx, name, args))
        if not ev.is_private:
            return Outcome()  # the bot does not read group conversation
        if state is not None:
            return Outcome(await engine.on_text(ctx, state, ev.text or ""))
        return Outcome(expired or [Reply(t("help.hint"))])

    def _knows(self, name: str) -> bool:
        return name in PERSONAL or name in self.commands

    async def _command(self, ctx: Context, name: str, args: str) -> list[Reply]:
        if name in PERSONAL:
            return await self._personal(ctx, name)
        handler = self.commands.get(name)
        if handler is None:
            return [Reply(t("command.unknown", name=name))] if ctx.event.is_private else []
        return await handler(ctx, args)

    async def _personal(self, ctx: Context, name: str) -> list[Reply]:
        if not ctx.event.is_private:
            return [Reply(t("group.go_private"), buttons=((Button(t("group.open_private"), start=name),),))]
        if ctx.member is None:
            return [Reply(t("auth.not_member"))]
        return await PERSONAL[name](ctx)

    async def _start(self, ctx: Context, payload: str) -> list[Reply]:
        if payload in PERSONAL:
            return await self._personal(ctx, payload)
        if payload == "schedule":
            return await self._schedule(ctx, "")
        if payload:
            return await self._join(ctx, payload)
        if ctx.member is None:
            return [Reply(t("start.stranger"))]
        return [Reply(t("start.member", name=ctx.member.name, org=ctx.member.org.name) + "\n\n"
                      + t("help.member"))]

    async def _join(self, ctx: Context, code: str) -> list[Reply]:
        if not ctx.event.is_private:
            return [Reply(t("join.private_only"))]
        if not code:
            return [Reply(t("join.need_code"))]
        if ctx.member is not None:
            return [Reply(t("join.already_in", org=ctx.member.org.name))]
        org = await OrgRepository(ctx.session).by_invite_code(code)
        if org is None:
            return [Reply(t("join.bad_code"))]
        return await join.begin(ctx, org)

    async def _help(self, ctx: Context, _args: str) -> list[Reply]:
        if not ctx.event.is_private:
            return [Reply(t("help.group"))]
        if ctx.member is None:
            return [Reply(t("start.stranger"))]
        extra = "\n" + t("help.secretary") if ctx.member.role in (Role.secretary, Role.office) else ""
        if ctx.member.role in (Role.secretary, Role.office):
            extra += "\n" + t("problem.help_board")
        return [Reply(t("help.member") + "\n" + t("problem.help_progress") + "\n" + t("report.help")
                      + "\n" + t("meeting.help") + extra)]

    async def _schedule(self, ctx: Context, _args: str) -> list[Reply]:
        if ctx.member is None:
            return [Reply(t("auth.not_member"))] if ctx.event.is_private else []
        return await schedule_setting.begin(ctx)

    async def _leave(self, ctx: Context, args: str) -> list[Reply]:
        if not ctx.event.is_private:
            return [Reply(t("group.go_private"))]
        if ctx.member is None:
            return [Reply(t("auth.not_member"))]
        return await leave_command(ctx, args)

    async def _cancel(self, ctx: Context, _args: str) -> list[Reply]:
        cancelled = await engine.cancel(ctx)
        return [Reply(t("dialog.cancelled" if cancelled else "dialog.nothing_to_cancel"))]

    async def _bindgroup(self, ctx: Context, code: str) -> list[Reply]:
        ev = ctx.event
        if ev.is_private:
            return [Reply(t("bindgroup.group_only"))]
        org = await OrgRepository(ctx.session).by_invite_code(code) if code else None
        if org is None:
            return [Reply(t("bindgroup.bad_code"))]
        member = ctx.member
        allowed = member is not None and (
            member.role is Role.office or (member.role is Role.secretary and member.org_id == org.id))
        if not allowed or member is None:
            return [Reply(t("bindgroup.not_secretary", org=org.name))]
        await OrgRepository(ctx.session).bind_group(org, platform=ev.platform, chat_id=ev.chat_id,
                                                    title=ev.chat_title, by=member)
        return [Reply(t("bindgroup.done", org=org.name))]
