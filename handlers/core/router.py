"""The core's front door: one neutral event in, replies out, one database session per event.

Every command and button goes through the application's ``Registry`` (the features' own
declarations, policy checked there); a dialog's typed answers and presses go to the engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from handlers.core import buttons, inputs, selectors
from handlers.core.buttons import DialogChoice
from handlers.core.context import Context, CoreConfig
from handlers.core.events import PUSH_PREFIX, Incoming, Outcome, Reply
from handlers.core.features import Feature, Registry, discover
from handlers.core.file_intake import Fetched, FileIntake
from handlers.core.selectors import Offer
from handlers.dialogs import engine
from storage.db import ConnectionLost, Session, Sessions, connection_lost
from storage.event_session import close, commit, open_session, rollback
from storage.locks import lock_member
from storage.queries.pushed import newest_push_buttons
from storage.queries.sender import sender
from storage.repositories.dialogs import DialogRepository, DialogState, StaleState
from storage.repositories.events import HandledEventRepository
from storage.repositories.orgs import OrgRepository
from storage.types import utcnow

log = logging.getLogger(__name__)
HANDLE_ATTEMPTS = 4  # a lost connection or a moved dialog: the event is handled again
RETRY_DELAY = 0.2  # seconds, times the attempt

class CommitUnknown(ConnectionLost):
    """The connection went away during COMMIT: the transaction may or may not have committed.
    Tried again, a take that finds nothing left means it had, and ``handled`` is the answer."""

    def __init__(self, handled: Handled) -> None:
        super().__init__("connection lost during commit")
        self.handled = handled


# Takes the event to handle, in the transaction that handles it (None: nothing to handle).
Take = Callable[[Session], Awaitable[Incoming | None]]


@dataclass
class Handled:
    """What ``Core.handle_taken`` did: the event it took (None: none) and the outcome."""

    event: Incoming | None
    outcome: Outcome
    lost: bool = False  # the database stayed out of reach: nothing was done, try again later


async def _rollback(session: Session) -> None:
    """Roll back; on a connection already gone there is nothing to roll back."""
    try:
        await rollback(session)
    except Exception as error:  # noqa: BLE001 - whatever the dead connection raises
        log.info("rollback after a failure failed too: %r", error)


def _parse_command(text: str) -> tuple[str, str] | None:
    if not text.startswith("/"):
        return None
    head, _, args = text[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    return (name, args.strip()) if name else None


class Core:
    """Platform-neutral bot logic. Adapters call ``handle`` for every event."""

    def __init__(self, sessions: Sessions, config: CoreConfig,
                 features: list[Feature] | None = None, files: FileIntake | None = None) -> None:
        self.sessions = sessions
        self.files = files  # adapters register their FileSource here
        self.config = config
        self.registry = Registry(discover() if features is None else features)
        self.on_enqueue: Callable[[], None] | None = None  # set by whoever delivers the outbox

    async def handle(self, event: Incoming) -> Outcome:
        """Handle one event handed straight in (deduplicated by its id, if it has one). A file
        it carries is fetched and kept first, before its transaction writes anything."""
        fetched = await self._fetch(event)

        async def deduplicated(session: Session) -> Incoming | None:
            if event.event_id is None or await HandledEventRepository(session).first_delivery(
                    event.platform, event.event_id):
                return event
            return None

        handled = await self.handle_taken(event.platform, event.user_id, deduplicated, fetched)
        return self._sorry(event) if handled.lost else handled.outcome

    async def handle_taken(self, platform: str, user_id: str, take: Take,
                           fetched: Fetched | None = None) -> Handled:
        """Handle the event ``take`` takes, in one transaction, after the earlier events of this
        user (a lock across processes on PostgreSQL). ``take`` runs first in that transaction:
        it records the event as handled (the dedupe row, or the inbox's row) and returns it, or
        None when there is nothing to handle (handled already). Tried again when the database
        connection was lost or the dialog moved under it (``StaleState``): what ``take``
        recorded rolled back with the rest. ``lost``: the connection stayed lost, nothing
        happened. ``fetched``: the event's file, already kept (else it is fetched once taken,
        and once only: a retry handles it with the file kept the first time)."""
        unconfirmed: Handled | None = None  # computed, but the commit's answer never came
        kept: dict[str | None, Fetched | None] = {}  # per event id: its file, fetched already
        for attempt in range(1, HANDLE_ATTEMPTS + 1):
            taken: list[Incoming] = []
            try:
                handled = await self._handle_once(platform, user_id, take, taken,
                                                  fetched, kept)
                if handled.event is None and unconfirmed is not None:
                    return unconfirmed  # it had committed: nothing left to take, so answer it
                return handled
            except (StaleState, ConnectionLost) as error:
                if isinstance(error, CommitUnknown):
                    unconfirmed = error.handled
                if attempt == HANDLE_ATTEMPTS:
                    log.error("gave up on %s of %s:%s after %d tries: %r", taken or "an event",
                              platform, user_id, attempt, error)
                    if isinstance(error, ConnectionLost) or not taken:
                        return Handled(taken[0] if taken else None, Outcome(), lost=True)
                    return Handled(taken[0], self._sorry(taken[0]))
                log.info("handling an event of %s:%s again (%r)", platform, user_id, error)
                await asyncio.sleep(RETRY_DELAY * attempt)
        raise AssertionError("unreachable")

    async def _fetch(self, event: Incoming) -> Fetched | None:
        if event.file is None or self.files is None:
            return None
        return await self.files.fetch(event.platform, event.file.file_id)

    async def _handle_once(self, platform: str, user_id: str, take: Take, taken: list[Incoming],
                           fetched: Fetched | None, kept: dict[str | None, Fetched | None]) -> Handled:
        session = await open_session(self.sessions)
        try:
            return await self._handle_in(session, platform, user_id, take, taken, fetched, kept)
        finally:
            await close(session)

    async def _handle_in(self, session: Session, platform: str, user_id: str, take: Take,
                         taken: list[Incoming], fetched: Fetched | None,
                         kept: dict[str | None, Fetched | None]) -> Handled:
        try:
            await lock_member(session, platform, user_id)
            event = await take(session)
            if event is None:
                return Handled(None, Outcome())
            taken.append(event)
            if fetched is None:  # taken from the inbox: its file is fetched now (once)
                if event.event_id not in kept:
                    kept[event.event_id] = await self._fetch(event)
                fetched = kept[event.event_id]
            # Only a bound identity is a member: one bound by a roster account the platform
            # authenticated, or by an approved join request (a pending one has no row here).
            # Their dialog state comes with it, in the same statement.
            member, state = await sender(session, event.platform, event.user_id)
            if member is not None and member.last_platform != event.platform:
                member.last_platform = event.platform  # where their pushes go next
            ctx = Context(session, event, member, self.config, utcnow(), self.registry,
                          files=self.files, fetched=fetched)
            outcome = await self._dispatch(ctx, state)
            try:
                await commit(session)
            except Exception as error:
                if connection_lost(error):
                    raise CommitUnknown(Handled(event, outcome)) from error
                raise
            if ctx.followup is not None:
                outcome.followup = ctx.followup(self.sessions)
            if ctx.enqueued and self.on_enqueue is not None:
                self.on_enqueue()
            return Handled(event, outcome)
        except (StaleState, CommitUnknown):
            await _rollback(session)
            raise
        except Exception as error:
            await _rollback(session)
            if connection_lost(error):
                raise ConnectionLost(str(error)) from error
            log.exception("failed to handle %s", taken or f"an event of {platform}:{user_id}")
            if not taken:
                raise
            return Handled(taken[0], self._sorry(taken[0]))

    def _sorry(self, event: Incoming) -> Outcome:
        sorry = self.config.texts("error.internal")  # the user's language, as ctx.t
        return Outcome([Reply(sorry)] if event.is_private else [],
                       notice=sorry if event.callback_data else None)

    async def group_webhook(self, platform: str, chat_id: str) -> str | None:
        """Where a group chat's pushes go when the platform reaches it by a webhook (a WeCom group
        robot); None when it has none."""
        async with self.sessions() as session:
            group = await OrgRepository(session).group_for(platform, chat_id)
        return group.webhook_url if group is not None and group.webhook_url else None

    async def _dispatch(self, ctx: Context, state: DialogState | None) -> Outcome:
        ctx.event = inputs.cleaned(ctx.event)
        outcome = await self._route(ctx, state)
        if ctx.event.is_private:
            await self._offer(ctx, outcome)
        return outcome

    async def _route(self, ctx: Context, state: DialogState | None) -> Outcome:
        ev = ctx.event
        dialogs = DialogRepository(ctx.session)
        if not (ev.is_private or ev.callback_data):  # a group's message: no dialog takes it
            state = None
        expired: list[Reply] = []
        if state is not None and state.expires_at <= ctx.now:
            menu = state.dialog == engine.MENU  # only a message's buttons: nothing was lost
            await dialogs.clear(ev.platform, ev.user_id)
            state = None
            expired = [Reply(ctx.t("dialog.expired"))] if ev.is_private and not menu else []

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
            replies = expired + await self.registry.command(ctx, name, args)
            if (state is not None and ev.is_private and state.dialog != engine.MENU
                    and not any(r.buttons or r.document for r in replies)):
                again = await self._still_asking(ctx, state)
                replies += [again] if again is not None else []
            return Outcome(replies)
        if not ev.is_private:  # the bot does not read group conversation, but answers an @
            return Outcome([Reply(ctx.t("help.group"))] if ev.addressed else [])
        return await self._typed(ctx, state, expired)

    async def _still_asking(self, ctx: Context, state: DialogState) -> Reply | None:
        """The dialog's question again after a command that only said something (/help,
        /start) and left the dialog where it was, so that its buttons are the last thing the
        member sees; None when the command moved it on (another dialog began, it was
        cancelled)."""
        ev = ctx.event
        now = await DialogRepository(ctx.session).get(ev.platform, ev.user_id)
        if now is None or now.nonce != state.nonce:
            return None
        return await engine.ask_again(ctx, self.registry.dialogs.get(state.dialog), state)

    async def _typed(self, ctx: Context, state: DialogState | None, expired: list[Reply]) -> Outcome:
        """A line typed in the private chat: a push's ``#k``, a choice of the message in progress
        (its selector or label), or the dialog step's answer (``handlers.core.selectors``)."""
        ev = ctx.event
        text = ev.text or ""
        typed = ev.file is None
        pushed = selectors.push_number(text) if typed else None
        if pushed is not None:
            offer = await self._pushed(ctx, pushed)
            if offer is None and state is not None:  # no such push button: go on where it was
                again = await engine.ask_again(ctx, self.registry.dialogs.get(state.dialog), state)
                return Outcome([Reply(ctx.t("button.stale"))] + ([again] if again else []))
            return await self._press_offer(ctx, offer)
        if state is None and ev.file is not None and self.registry.uploaded is not None:
            return Outcome(expired + await self.registry.uploaded(ctx))  # a file outside a dialog
        if state is None:
            return Outcome(expired or [Reply(ctx.t("help.hint"))])
        offer = selectors.match(state.offered, text) if typed else None
        if offer is not None and "c" not in offer:  # a button outside the dialog (a report's page)
            return await self._press_offer(ctx, offer)
        if state.dialog == engine.MENU:
            return Outcome([Reply(ctx.t("help.hint"))])
        return Outcome(await engine.on_text(ctx, self.registry.dialogs.get(state.dialog), state,
                                            text, offer))

    async def _pushed(self, ctx: Context, number: int) -> Offer | None:
        """Button ``#number`` of the newest push with buttons sent to this chat."""
        ev = ctx.event
        rows = await newest_push_buttons(ctx.session, ev.platform, ev.chat_id)
        wanted = f"{PUSH_PREFIX}{number}"
        for button in (b for row in rows or () for b in row):
            if button.get("selector") == wanted:
                return {"s": wanted, "l": button["label"], "d": button.get("data"),
                        "st": button.get("start")}
        return None

    async def _press_offer(self, ctx: Context, offer: Offer | None) -> Outcome:
        """A button pressed by typing: its ``start`` payload as ``/start``, or its data as a
        press. What a press would say in a toast is said as a message (no toast answers text)."""
        if offer is not None and offer.get("st") is not None:
            return Outcome(await self.registry.command(ctx, "start", offer["st"]))
        pressed = buttons.unpack(offer["d"]) if offer is not None and offer.get("d") else None
        handled = await self.registry.press(ctx, pressed) if pressed is not None else None
        if handled is None:
            return Outcome([Reply(ctx.t("button.stale"))])
        if handled.notice:
            handled.replies.append(Reply(handled.notice))
            handled.notice = None
        return handled

    async def _offer(self, ctx: Context, outcome: Outcome) -> None:
        """Number the buttons of a reply the dialog engine did not make (a report's pages), and
        keep them as the member's choices in progress, so that typing presses them too."""
        ev = ctx.event
        shown = [i for i, r in enumerate(outcome.replies)
                 if r.buttons and r.chat_id in (None, ev.chat_id)]
        if not shown or selectors.has_selectors(outcome.replies[shown[-1]].buttons):
            return
        reply = outcome.replies[shown[-1]]
        rows, offers = selectors.numbered(reply.buttons)
        outcome.replies[shown[-1]] = replace(reply, buttons=rows)
        dialogs = DialogRepository(ctx.session)
        if not await dialogs.offer(ev.platform, ev.user_id, offers):
            await dialogs.put(ev.platform, ev.user_id, dialog=engine.MENU, step=engine.MENU, data={},
                              expires_at=ctx.now + ctx.config.dialog_timeout, offered=offers)
