"""Guided dialogs: declarative steps, state in the database, buttons first.

A dialog is a list of ``Step``s and a ``finish`` coroutine. The engine asks each step in turn
(buttons for its choices, typed text through its parser), shows a confirmation card when the dialog
wants one (确认 / 修改 / 取消), and lets the user change any field from that card.

Every button carries a ``DialogChoice``: the step's nonce and the choice's index (or name). The
nonce is renewed at every step, and the index points into the choices the server computes again
when the button comes back, so a stale or forged button can only ever select a choice that the
current step really offers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from handlers.core.buttons import DialogChoice
from handlers.core.context import Context
from handlers.core.events import Answered, Button, Outcome, Reply
from handlers.core.i18n import Text, Translator
from handlers.core.parsing import InvalidInput, normalize
from storage.repositories.dialogs import DialogRepository, DialogState

CONFIRM = "_confirm"
FIELDS = "_fields"
EDITING = "_editing"
RECORD_ID = "_record_id"

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
    state = await _save(ctx, dialog, first, data)
    return [await _prompt(ctx, dialog, state)]


async def _save(ctx: Context, dialog: Dialog, step: str, data: dict[str, Any]) -> DialogState:
    ev = ctx.event
    return await _repo(ctx).put(ev.platform, ev.user_id, dialog=dialog.name, step=step, data=data,
                                expires_at=ctx.now + ctx.config.dialog_timeout)


async def _buttons(ctx: Context, dialog: Dialog, state: DialogState) -> list[tuple[str, Choice]]:
    """The (choice name, choice) pairs the current step offers, in display order."""
    if state.step == CONFIRM:
        return [("ok", Choice(ctx.t("dialog.confirm"))), ("edit", Choice(ctx.t("dialog.edit"))),
                ("x", Choice(ctx.t("dialog.cancel")))]
    if state.step == FIELDS:
        asked = [s for s in dialog.steps if s.applies(state.data)]
        return [(f"f{i}", Choice(ctx.t(s.label), s.key)) for i, s in enumerate(asked)] + [
            ("back", Choice(ctx.t("dialog.back")))]
    step = dialog.step(state.step)
    pairs = [(str(i), c) for i, c in enumerate(await step.options(ctx, state.data))]
    if step.files and state.data.get(step.key):
        pairs.append(("done", Choice(ctx.t("dialog.files_done"))))
    elif step.optional:
        pairs.append(("skip", Choice(ctx.t("dialog.skip"))))
    pairs.append(("x", Choice(ctx.t("dialog.cancel"))))
    return pairs


def _rows(t: Translator, pairs: list[tuple[str, Choice]], nonce: str,
          columns: int) -> tuple[tuple[Button, ...], ...]:
    """Lay out choices ``columns`` to a row; 跳过/取消/返回 share the last row."""
    main = [(s, c) for s, c in pairs if s not in ("skip", "x", "back")]
    tail = [(s, c) for s, c in pairs if s in ("skip", "x", "back")]
    rows = [main[i:i + columns] for i in range(0, len(main), columns)] + ([tail] if tail else [])
    return tuple(tuple(Button(t.shown(c.label), data=DialogChoice(nonce, s).pack()) for s, c in row)
                 for row in rows)


def card(t: Translator, dialog: Dialog, data: dict[str, Any]) -> str:
    lines = [t("dialog.card_title", title=t(dialog.title))]
    for step in dialog.steps:
        if step.applies(data):
            value = data.get(step.key)
            shown = t("dialog.empty_value") if value in (None, "") else step.show(value, t)
            lines.append(f"{t(step.label)}：{shown}")
    return "\n".join(lines)


async def _prompt(ctx: Context, dialog: Dialog, state: DialogState, prefix: str = "") -> Reply:
    if state.step == CONFIRM:
        note = dialog.note(state.data, ctx.t) + "\n" if dialog.note else ""
        text, columns = card(ctx.t, dialog, state.data) + "\n" + note + ctx.t("dialog.confirm_question"), 3
    elif state.step == FIELDS:
        text, columns = ctx.t("dialog.which_field"), 2
    else:
        step = dialog.step(state.step)
        text = step.prompt(state.data, ctx.t) if callable(step.prompt) else ctx.t(step.prompt)
        columns = step.columns
    rows = _rows(ctx.t, await _buttons(ctx, dialog, state), state.nonce, columns)
    return Reply(prefix + text, buttons=rows)


def _answered(question: str, label: str, replies: list[Reply]) -> list[Reply]:
    """The pressed message answered, followed in the same reply by what comes next (one edit
    instead of an edit and a new message; the old buttons go away)."""
    answered = Answered(question, label)
    if replies and replies[0].document is None and replies[0].chat_id is None:
        first, *rest = replies
        return [replace(first, answered=answered, edit=True), *rest]
    return [Reply(answered=answered, edit=True), *replies]


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
    state = await _save(ctx, dialog, nxt, data)
    return [await _prompt(ctx, dialog, state)]


async def _finish(ctx: Context, dialog: Dialog, state: DialogState) -> list[Reply]:
    data = dict(state.data)
    if not await _repo(ctx).claim(state):
        return [Reply(ctx.t("button.stale"))]
    return await dialog.finish(ctx, data)


async def ask_again(ctx: Context, dialog: Dialog | None, state: DialogState) -> Reply | None:
    """The current question again (after something that did not answer it)."""
    return None if dialog is None else await _prompt(ctx, dialog, state)


async def cancel(ctx: Context) -> bool:
    return await _repo(ctx).clear(ctx.event.platform, ctx.event.user_id)


async def on_button(ctx: Context, dialog: Dialog | None, state: DialogState,
                    pressed: DialogChoice) -> Outcome:
    """A press on ``state``'s step (``dialog`` None: one no feature declares any more)."""
    if dialog is None or pressed.nonce != state.nonce:
        return Outcome(notice=ctx.t("button.stale"))
    pairs = dict(await _buttons(ctx, dialog, state))
    suffix = pressed.choice
    choice = pairs.get(suffix)
    if choice is None:
        return Outcome(notice=ctx.t("button.stale"))
    question = (await _prompt(ctx, dialog, state)).text
    if choice.asks_typing:
        hint = dialog.step(state.step).typing_hint or "dialog.type_answer"
        return Outcome([Reply(ctx.t(hint))])
    return Outcome(_answered(question, ctx.t.shown(choice.label),
                             await _chosen(ctx, dialog, state, suffix, choice)))


async def _chosen(ctx: Context, dialog: Dialog, state: DialogState, suffix: str,
                  choice: Choice) -> list[Reply]:
    """What follows a valid press of ``choice`` on the current step."""
    if suffix == "x":
        await _repo(ctx).claim(state)
        return [Reply(ctx.t("dialog.cancelled"))]
    if state.step == CONFIRM:
        if suffix == "ok":
            return await _finish(ctx, dialog, state)
        state = await _save(ctx, dialog, FIELDS, state.data)
        return [await _prompt(ctx, dialog, state)]
    if state.step == FIELDS:
        data = dict(state.data)
        if suffix != "back":
            data[EDITING] = True
        state = await _save(ctx, dialog, CONFIRM if suffix == "back" else choice.value, data)
        return [await _prompt(ctx, dialog, state)]
    step = dialog.step(state.step)
    data = dict(state.data)
    if suffix != "done":  # 完成 keeps the files collected
        data[step.key] = None if suffix == "skip" else choice.value
    state.data = data
    return await _advance(ctx, dialog, state, step.key)


async def on_text(ctx: Context, dialog: Dialog | None, state: DialogState, text: str) -> list[Reply]:
    if dialog is None:
        await cancel(ctx)
        return [Reply(ctx.t("dialog.cancelled"))]
    if state.step in (CONFIRM, FIELDS):
        return [await _prompt(ctx, dialog, state, prefix=ctx.t("dialog.use_buttons") + "\n")]
    step = dialog.step(state.step)
    if step.files and ctx.event.file is not None:
        return [await _take_file(ctx, dialog, state)]
    typed = normalize(text)
    if step.files and state.data.get(step.key) and typed == normalize(ctx.t("dialog.files_done")):
        return await _advance(ctx, dialog, state, step.key)
    for choice in await step.options(ctx, state.data):
        if not choice.asks_typing and normalize(ctx.t.shown(choice.label)) == typed:
            value = choice.value
            break
    else:
        if step.optional and typed == normalize(ctx.t("dialog.skip")):
            value = None
        elif step.parse is None:
            return [await _prompt(ctx, dialog, state, prefix=ctx.t("dialog.use_buttons") + "\n")]
        else:
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
    files.append({"file_id": file.file_id, "name": file.name, "mime_type": file.mime_type})
    state = await _save(ctx, dialog, key, {**state.data, key: files})
    return await _prompt(ctx, dialog, state, prefix=ctx.t("dialog.file_received", count=len(files)) + "\n")
