"""Guided dialogs: declarative steps, state in the database, buttons first.

A dialog is a list of ``Step``s and a ``finish`` coroutine. The engine asks each step in turn
(buttons for its choices, typed text through its parser), shows a confirmation card when the dialog
wants one (确认 / 修改 / 取消), and lets the user change any field from that card.

Every button carries a ``DialogChoice``: the step's nonce and the choice's index (or name). The
nonce is renewed at every step, and the choices a step's message offers are saved with the step
(``DialogState.offered``, with their selectors: ``handlers.core.selectors``), so a press or a
typed selector picks what was shown, and a stale or forged button nothing at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from handlers.core import selectors
from handlers.core.buttons import DialogChoice
from handlers.core.context import Context
from handlers.core.events import Answered, Button, Outcome, Reply
from handlers.core.i18n import Text, Translator
from handlers.core.parsing import InvalidInput
from handlers.core.selectors import Offer
from storage.repositories.dialogs import DialogRepository, DialogState

MENU = ""  # a state with no dialog: only the buttons of a message (a report's pages) to type
CONFIRM = "_confirm"
FIELDS = "_fields"
EDITING = "_editing"
RECORD_ID = "_record_id"
CARD_VALUE_CHARS = 200  # a field's value on the confirmation card (ten fields stay well in 4,096)
MAX_FILES = 20  # photos or files one step keeps

ChoiceSource = Callable[[Context, dict[str, Any]], Awaitable[Sequence["Choice"]]]
Parser = Callable[[str, Context], Any]


def _as_text(value: Any, _t: Translator) -> str:
    return str(value)


def prepared(data: dict[str, Any], _t: Translator) -> str:
    """The prompt a dialog's data carries (written, in the user's language, when it started)."""
    return data["text"]


@dataclass(frozen=True)
class Choice:
    label: str | Text  # shown as it is (a name, a number), or a catalogue text
    value: Any = None  # stored in the dialog data (JSON)
    asks_typing: bool = False  # "其他…": the step's typing hint is shown instead of a value
    selector: str | None = None  # what typing picks it, when it must be this (a list's number)


@dataclass(frozen=True)
class Step:
    key: str
    label: str  # catalogue key of the field name (confirmation card, edit menu)
    prompt: str | Callable[[dict[str, Any], Translator], str]  # catalogue key, or made from the data
    choices: tuple[Choice, ...] | ChoiceSource = ()
    parse: Parser | None = None  # typed answers; None: buttons only
    optional: bool = False  # offers 跳过
    typing_hint: str | None = None  # catalogue key shown by a Choice(asks_typing=True)
    columns: int = 2
    show: Callable[[Any, Translator], str] = _as_text  # how a stored value reads on the card
    when: Callable[[dict[str, Any]], bool] | None = None  # ask only if true for the data so far
    files: bool = False  # takes photos/documents: each one sent is added to a list, 完成 moves on
    max_len: int | None = None  # the most characters a typed text answer may have (its column's)

    async def options(self, ctx: Context, data: dict[str, Any]) -> Sequence[Choice]:
        if callable(self.choices):
            return await self.choices(ctx, data)
        return self.choices

    def applies(self, data: dict[str, Any]) -> bool:
        return self.when is None or self.when(data)


@dataclass
class Dialog:
    name: str
    title: str  # catalogue key, e.g. "学习记录"
    steps: tuple[Step, ...]
    finish: Callable[[Context, dict[str, Any]], Awaitable[list[Reply]]]
    confirm: bool = True
    note: Callable[[dict[str, Any], Translator], str] | None = None  # a warning under the card

    def step(self, key: str) -> Step:
        return next(s for s in self.steps if s.key == key)

    def next_step(self, data: dict[str, Any], after: str | None) -> str | None:
        keys = [s.key for s in self.steps]
        start = 0 if after is None else keys.index(after) + 1
        for step in self.steps[start:]:
            if step.applies(data):
                return step.key
        return None


def _repo(ctx: Context) -> DialogRepository:
    return DialogRepository(ctx.session)


async def start(ctx: Context, dialog: Dialog, data: dict[str, Any] | None = None) -> list[Reply]:
    """Begin ``dialog`` (replacing any dialog in progress) and ask its first question. The
    dialog must be one a feature declares: its next step is looked up by name."""
    if ctx.registry.dialogs.get(dialog.name) is not dialog:
        raise LookupError(f"dialog {dialog.name!r} is not declared by any feature")
    data = dict(data or {})
    first = CONFIRM if data.get(RECORD_ID) and dialog.confirm else dialog.next_step(data, None)
    if first is None:
        return await dialog.finish(ctx, data)
    return [await _ask(ctx, dialog, first, data)]


async def _pairs(ctx: Context, dialog: Dialog, step: str,
                 data: dict[str, Any]) -> list[tuple[str, Choice]]:
    """The (choice name, choice) pairs ``step`` offers, in display order: its choices, then
    完成/跳过 and 取消 (or 返回) in the last row."""
    if step == CONFIRM:
        return [("ok", Choice(ctx.t("dialog.confirm"))), ("edit", Choice(ctx.t("dialog.edit"))),
                ("x", Choice(ctx.t("dialog.cancel")))]
    if step == FIELDS:
        asked = [s for s in dialog.steps if s.applies(data)]
        return [(f"f{i}", Choice(ctx.t(s.label), s.key)) for i, s in enumerate(asked)] + [
            ("back", Choice(ctx.t("dialog.back")))]
    current = dialog.step(step)
    pairs = [(str(i), c) for i, c in enumerate(await current.options(ctx, data))]
    if current.files and data.get(current.key):
        pairs.append(("done", Choice(ctx.t("dialog.files_done"))))
    elif current.optional:
        pairs.append(("skip", Choice(ctx.t("dialog.skip"))))
    pairs.append(("x", Choice(ctx.t("dialog.cancel"))))
    return pairs


def _takes_typing(dialog: Dialog, step: str) -> bool:
    return step not in (CONFIRM, FIELDS) and dialog.step(step).parse is not None


def _offers(t: Translator, dialog: Dialog, step: str,
            pairs: list[tuple[str, Choice]]) -> list[Offer]:
    """What the step's message offers, as typing selects it: numbers on a step that takes no
    typed answer, letters on one that does (so a typed number is a value), a list's own numbers
    where a choice names one."""
    chosen = selectors.assign([c.selector for _, c in pairs], _takes_typing(dialog, step))
    offers: list[Offer] = []
    for selector, (name, choice) in zip(chosen, pairs, strict=True):
        offer: Offer = {"s": selector, "l": t.shown(choice.label), "c": name, "v": choice.value}
        if choice.asks_typing:
            offer["t"] = True
        offers.append(offer)
    return offers


def _ordered(pairs: list[tuple[str, Choice]]) -> list[tuple[str, Choice]]:
    """跳过/取消/返回 after the step's own choices, as they are laid out."""
    return ([p for p in pairs if p[0] not in _TAIL] + [p for p in pairs if p[0] in _TAIL])


_TAIL = ("done", "skip", "x", "back")


def _rows(offers: list[Offer], nonce: str, columns: int) -> tuple[tuple[Button, ...], ...]:
    """Lay out the offers ``columns`` to a row; 完成/跳过/取消/返回 share the last row."""
    buttons = [Button(o["l"], data=DialogChoice(nonce, o["c"]).pack(), selector=o["s"]) for o in offers]
    main = [b for b, o in zip(buttons, offers, strict=True) if o["c"] not in _TAIL]
    tail = [b for b, o in zip(buttons, offers, strict=True) if o["c"] in _TAIL]
    rows = [tuple(main[i:i + columns]) for i in range(0, len(main), columns)]
    return tuple(rows + ([tuple(tail)] if tail else []))


def card(t: Translator, dialog: Dialog, data: dict[str, Any]) -> str:
    """The confirmation card: each field as it reads, a long one cut (the whole is saved), so
    the card fits in one message on every platform."""
    lines = [t("dialog.card_title", title=t(dialog.title))]
    for step in dialog.steps:
        if step.applies(data):
            value = data.get(step.key)
            shown = t("dialog.empty_value") if value in (None, "") else step.show(value, t)
            if len(shown) > CARD_VALUE_CHARS:
                shown = shown[:CARD_VALUE_CHARS] + t("dialog.card_more", length=len(shown))
            lines.append(f"{t(step.label)}：{shown}")
    return "\n".join(lines)


def _question(t: Translator, dialog: Dialog, step: str, data: dict[str, Any]) -> tuple[str, int]:
    """The text of ``step``'s message and how many buttons a row holds."""
    if step == CONFIRM:
        note = dialog.note(data, t) + "\n" if dialog.note else ""
        return card(t, dialog, data) + "\n" + note + t("dialog.confirm_question"), 3
    if step == FIELDS:
        return t("dialog.which_field"), 2
    current = dialog.step(step)
    return (current.prompt(data, t) if callable(current.prompt) else t(current.prompt)), current.columns


async def _ask(ctx: Context, dialog: Dialog, step: str, data: dict[str, Any],
               prefix: str = "", after: DialogState | None = None) -> Reply:
    """Move to ``step`` (a fresh nonce: older buttons go stale) and ask it; its choices are saved
    with it, as typing will select them. ``after``: the state this step follows, saved over only
    if nothing moved it meanwhile (``StaleState``)."""
    offers = _offers(ctx.t, dialog, step, _ordered(await _pairs(ctx, dialog, step, data)))
    ev = ctx.event
    state = await _repo(ctx).put(ev.platform, ev.user_id, dialog=dialog.name, step=step, data=data,
                                 expires_at=ctx.now + ctx.config.dialog_timeout, offered=offers,
                                 after=after)
    return _message(ctx.t, dialog, state, offers, prefix)


def _message(t: Translator, dialog: Dialog, state: DialogState, offers: list[Offer],
             prefix: str) -> Reply:
    text, columns = _question(t, dialog, state.step, state.data)
    return Reply(prefix + text, buttons=_rows(offers, state.nonce, columns))


async def _prompt(ctx: Context, dialog: Dialog, state: DialogState, prefix: str = "") -> Reply:
    """The current step asked again (same nonce); what typing selects is what it shows."""
    offers = _offers(ctx.t, dialog, state.step,
                     _ordered(await _pairs(ctx, dialog, state.step, state.data)))
    if offers != state.offered:  # another message's buttons came since, or the choices changed
        state.offered = offers
        await _repo(ctx).offer(state.platform, state.user_id, offers)
    return _message(ctx.t, dialog, state, offers, prefix)


def _answered(question: str, label: str, replies: list[Reply], pressed: bool = True) -> list[Reply]:
    """The pressed message answered, followed in the same reply by what comes next (one edit
    instead of an edit and a new message; the old buttons go away). A selector typed is answered
    the same way, without an edit (no message was pressed): "B" reads back as "昨天"."""
    answered = Answered(question, label)
    if replies and replies[0].document is None and replies[0].chat_id is None:
        first, *rest = replies
        return [replace(first, answered=answered, edit=pressed), *rest]
    return [Reply(answered=answered, edit=pressed), *replies]


async def _advance(ctx: Context, dialog: Dialog, state: DialogState, answered: str) -> list[Reply]:
    data = state.data
    if data.pop(EDITING, False) and dialog.confirm:
        nxt: str | None = CONFIRM
    else:
        nxt = dialog.next_step(data, answered)
        if nxt is None and dialog.confirm:
            nxt = CONFIRM
    if nxt is None:
        return await _finish(ctx, dialog, state)
    return [await _ask(ctx, dialog, nxt, data, after=state)]


async def _finish(ctx: Context, dialog: Dialog, state: DialogState) -> list[Reply]:
    data = dict(state.data)
    if not await _repo(ctx).claim(state):
        return [Reply(ctx.t("button.stale"))]
    return await dialog.finish(ctx, data)


async def ask_again(ctx: Context, dialog: Dialog | None, state: DialogState) -> Reply | None:
    """The current question again (after something that did not answer it)."""
    return None if dialog is None else await _prompt(ctx, dialog, state)


async def cancel(ctx: Context) -> bool:
    """Leave the dialog in progress; False when there was none (only a message's buttons, or
    nothing at all)."""
    ev = ctx.event
    state = await _repo(ctx).get(ev.platform, ev.user_id)
    return state is not None and await _repo(ctx).clear(ev.platform, ev.user_id) and state.dialog != MENU


async def _offered(ctx: Context, dialog: Dialog, state: DialogState, name: str) -> Offer | None:
    """The offer named ``name`` on the state's step: as it was shown, or (a row saved before
    offers were kept, or one whose offers another message replaced) as the step offers it now."""
    for offer in state.offered or ():
        if offer.get("c") == name:
            return offer
    pairs = _ordered(await _pairs(ctx, dialog, state.step, state.data))
    return next((o for o in _offers(ctx.t, dialog, state.step, pairs) if o["c"] == name), None)


async def on_button(ctx: Context, dialog: Dialog | None, state: DialogState,
                    pressed: DialogChoice) -> Outcome:
    """A press on ``state``'s step (``dialog`` None: one no feature declares any more)."""
    if dialog is None or pressed.nonce != state.nonce:
        return Outcome(notice=ctx.t("button.stale"))
    offer = await _offered(ctx, dialog, state, pressed.choice)
    if offer is None:
        return Outcome(notice=ctx.t("button.stale"))
    if offer.get("t"):
        return Outcome([_typing_hint(ctx, dialog, state)])
    question, _ = _question(ctx.t, dialog, state.step, state.data)
    return Outcome(_answered(question, offer["l"],
                             await _chosen(ctx, dialog, state, offer["c"], offer.get("v"))))


def _typing_hint(ctx: Context, dialog: Dialog, state: DialogState) -> Reply:
    return Reply(ctx.t(dialog.step(state.step).typing_hint or "dialog.type_answer"))


async def _chosen(ctx: Context, dialog: Dialog, state: DialogState, name: str,
                  value: Any) -> list[Reply]:
    """What follows choosing ``name`` (its ``value``) on the current step, pressed or typed."""
    if name == "x":
        await _repo(ctx).claim(state)
        return [Reply(ctx.t("dialog.cancelled"))]
    if state.step == CONFIRM:
        if name == "ok":
            return await _finish(ctx, dialog, state)
        return [await _ask(ctx, dialog, FIELDS, state.data, after=state)]
    if state.step == FIELDS:
        data = dict(state.data)
        if name != "back":
            data[EDITING] = True
        return [await _ask(ctx, dialog, CONFIRM if name == "back" else value, data, after=state)]
    step = dialog.step(state.step)
    data = dict(state.data)
    if name != "done":  # 完成 keeps the files collected
        data[step.key] = None if name == "skip" else value
    state.data = data
    return await _advance(ctx, dialog, state, step.key)


async def on_text(ctx: Context, dialog: Dialog | None, state: DialogState, text: str,
                  offer: Offer | None = None) -> list[Reply]:
    """Typed text on ``state``'s step: ``offer`` is the choice it selects (a selector or a label
    typed, as ``handlers.core.selectors.match`` found it), else the step's typed answer."""
    if dialog is None:
        await cancel(ctx)
        return [Reply(ctx.t("dialog.cancelled"))]
    if offer is not None and "c" in offer:
        if offer.get("t"):
            return [_typing_hint(ctx, dialog, state)]
        question, _ = _question(ctx.t, dialog, state.step, state.data)
        replies = await _chosen(ctx, dialog, state, offer["c"], offer.get("v"))
        if not selectors.typed_selector(offer, text):  # the label itself typed: nothing to echo
            return replies
        return _answered(question, offer["l"], replies, pressed=False)
    if state.step in (CONFIRM, FIELDS):
        return [await _prompt(ctx, dialog, state, prefix=ctx.t("dialog.use_buttons") + "\n")]
    step = dialog.step(state.step)
    if step.files and ctx.event.file is not None:
        return [await _take_file(ctx, dialog, state)]
    if step.parse is None:
        return [await _prompt(ctx, dialog, state, prefix=ctx.t("dialog.use_buttons") + "\n")]
    try:
        value = step.parse(text, ctx)
    except InvalidInput as error:
        return [await _prompt(ctx, dialog, state, prefix=error.text(ctx.t) + "\n")]
    data = dict(state.data)
    data[step.key] = value
    state.data = data
    return await _advance(ctx, dialog, state, step.key)


async def _take_file(ctx: Context, dialog: Dialog, state: DialogState) -> Reply:
    """Add the file just sent to the step's list and ask the same step again (more, or 完成)."""
    file = ctx.event.file
    assert file is not None
    key = state.step
    files = list(state.data.get(key) or [])
    if len(files) >= MAX_FILES:
        return await _prompt(ctx, dialog, state, prefix=ctx.t("dialog.files_full", max=MAX_FILES) + "\n")
    entry: dict[str, Any] = {"file_id": file.file_id, "name": file.name,
                             "mime_type": file.mime_type, "platform": ctx.event.platform,
                             "at": ctx.now.isoformat()}
    note = ""
    if ctx.files is not None and ctx.fetched is not None:  # kept; refused; or fetched later
        received = await ctx.files.receive(ctx.session, ctx.fetched)
        if received.refused is not None:
            refusal = ctx.t(f"file.{received.refused.code}", **received.refused.params())
            return await _prompt(ctx, dialog, state, prefix=refusal + "\n")
        if received.gone:
            return await _prompt(ctx, dialog, state, prefix=ctx.t("file.download_failed") + "\n")
        entry["stored"] = received.stored_file_id
        if received.stored_file_id is None:
            note = ctx.t("file.download_pending")
    files.append(entry)
    return await _ask(ctx, dialog, key, {**state.data, key: files},
                      prefix=ctx.t("dialog.file_received", count=len(files))
                      + ("\n" + note if note else "") + "\n", after=state)
