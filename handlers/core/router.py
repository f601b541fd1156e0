"""The core's front door: one neutral event in, replies out, one database session per event.

Every command and button goes through the application's ``Registry`` (the features' own
declarations, policy checked there); a dialog's typed answers and presses go to the engine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from handlers.core import buttons
from handlers.core.buttons import DialogChoice
from handlers.core.context import Context, CoreConfig
from handlers.core.events import Incoming, Outcome, Reply
from handlers.core.features import Feature, Registry, discover
from handlers.dialogs import engine
from storage.db import Sessions
from storage.repositories.dialogs import DialogRepository
from storage.repositories.events import HandledEventRepository
from storage.repositories.members import MemberRepository
from storage.repositories.orgs import OrgRepository
from storage.types import utcnow

log = logging.getLogger(__name__)

def _parse_command(text: str) -> tuple[str, str] | None:
    if not text.startswith("/"):
        return None
    head, _, args = text[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    return (name, args.strip()) if name else None


class Core:
    """Platform-neutral bot logic. Adapters call ``handle`` for every event."""

    def __init__(self, sessions: Sessions, config: CoreConfig,
                 features: list[Feature] | None = None) -> None:
        self.sessions = sessions
        self.config = config
        self.registry = Registry(discover() if features is None else features)
        self.on_enqueue: Callable[[], None] | None = None  # set by whoever delivers the outbox

    async def handle(self, event: Incoming) -> Outcome:
        async with self.sessions() as session:
            try:
                if event.event_id is not None and not await HandledEventRepository(
                        session).first_delivery(event.platform, event.event_id):
                    return Outcome()
                # Only a bound identity is a member: one bound by a roster account the platform
                # authenticated, or by an approved join request (a pending one has no row here).
                member = await MemberRepository(session).by_identity(event.platform, event.user_id)
                ctx = Context(session, event, member, self.config, utcnow(), self.registry)
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
                sorry = self.config.texts("error.internal")  # the user's language, as ctx.t
                return Outcome([Reply(sorry)] if event.is_private else [],
                               notice=sorry if event.callback_data else None)

    async def group_webhook(self, platform: str, chat_id: str) -> str | None:
        """Where a group chat's pushes go when the platform reaches it by a webhook (a WeCom group
        robot); None when it has none."""
        async with self.sessions() as session:
            group = await OrgRepository(session).group_for(platform, chat_id)
        return group.webhook_url if group is not None and group.webhook_url else None

    async def _dispatch(self, ctx: Context) -> Outcome:
        ev = ctx.event
        dialogs = DialogRepository(ctx.session)
        state = await dialogs.get(ev.platform, ev.user_id) if ev.is_private or ev.callback_data else None
        expired: list[Reply] = []
        if state is not None and state.expires_at <= ctx.now:
            await dialogs.clear(ev.platform, ev.user_id)
            state = None
            expired = [Reply(ctx.t("dialog.expired"))] if ev.is_private else []

        if ev.callback_data is not None:
            pressed = buttons.unpack(ev.callback_data)
            if isinstance(pressed, DialogChoice) and state is not None:
                return await engine.on_button(ctx, self.registry.dialogs.get(state.dialog), state,
                                              pressed)
            handled = await self.registry.press(ctx, pressed) if pressed is not None else None
            if handled is not None:
                return handled
            return Outcome(expired, notice=ctx.t("button.stale"))

        if ev.text is None and ev.file is None and ev.accounts:  # only accounts: a shared contact
            attested = self.registry.attested
            return Outcome(await attested(ctx) if attested is not None and ev.is_private else [])

        command = _parse_command((ev.text or "").strip())
        if command is not None:
            name, args = command
            if state is not None and ev.is_private and name not in self.registry.commands:
                again = await engine.ask_again(ctx, self.registry.dialogs.get(state.dialog), state)
                return Outcome([Reply(ctx.t("command.unknown", name=name))] + ([again] if again else []))
            return Outcome(expired + await self.registry.command(ctx, name, args))
        if not ev.is_private:
            return Outcome()  # the bot does not read group conversation
        if state is not None:
            return Outcome(await engine.on_text(ctx, self.registry.dialogs.get(state.dialog), state,
                                                ev.text or ""))
        return Outcome(expired or [Reply(ctx.t("help.hint"))])
