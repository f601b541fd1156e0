"""Features declare themselves; the application collects them once, at start.

A feature's declaration (``FEATURE = Feature(...)`` in ``handlers/<package>/feature.py``, or in a
one-module feature ``handlers/<name>.py``) names its commands with who may use them, the button
kinds it answers, its dialogs and its record kinds (``handlers.records.kinds``). ``discover`` finds every declaration;
``Registry`` holds them for the application (``Core``): the router dispatches through it after
checking the policy, ``/help`` and the platforms' command menus are made from it. Nothing here is
a module-level registry: a registry is built per application.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from handlers.core.events import Button, Outcome, Reply
from handlers.core.i18n import Translator
from handlers.core.policy import Policy, Where
from storage.models import Member, Role

if TYPE_CHECKING:
    from handlers.core.context import Context
    from handlers.dialogs.engine import Dialog
    from handlers.records.kinds import RecordKind

CommandRun = Callable[["Context", str], Awaitable[list[Reply]]]
PressRun = Callable[["Context", Any], Awaitable[Outcome]]
AttestedRun = Callable[["Context"], Awaitable[list[Reply]]]
UploadedRun = AttestedRun  # the same shape: the event is in the context, replies come out


@dataclass(frozen=True)
class Command:
    """``/name args``: ``run(ctx, args)`` once ``policy`` lets the sender in."""

    name: str
    run: CommandRun
    policy: Policy
    help: str | None = None  # catalogue key: its line in /help, its description in the menu
    help_for: frozenset[Role] = frozenset()  # the roles its help line is for (none: the policy's)
    menu: bool = True  # listed in the platform's command menu
    deep_link: bool = False  # ``/start <name>`` (a button into the private chat) runs it

    @property
    def audience(self) -> frozenset[Role]:
        """Whose /help shows the line (empty: everyone the policy lets in)."""
        return self.help_for or self.policy.roles


@dataclass(frozen=True)
class Press:
    """A button kind of ``handlers.core.buttons`` and the handler its presses go to."""

    kind: type
    run: PressRun
    policy: Policy


@dataclass(frozen=True)
class Feature:
    name: str
    rank: int  # where its commands come in /help and the menus (lower first)
    commands: tuple[Command, ...] = ()
    presses: tuple[Press, ...] = ()
    dialogs: tuple[Dialog, ...] = ()
    records: tuple[RecordKind, ...] = ()  # the kinds of record members log with it
    # What an event that only vouches for the sender's accounts does (their own contact shared:
    # ``Incoming.accounts`` with no text, file or press); one feature at most declares it.
    attested: AttestedRun | None = None
    # What a file sent in the private chat outside any dialog does (an office's sheet); one
    # feature at most declares it.
    uploaded: UploadedRun | None = None


def discover() -> list[Feature]:
    """Every feature declared under ``handlers`` (imported once, at start)."""
    import handlers

    found: list[Feature] = []
    for info in pkgutil.iter_modules(handlers.__path__):
        name = f"handlers.{info.name}.feature" if info.ispkg else f"handlers.{info.name}"
        if info.ispkg and importlib.util.find_spec(name) is None:
            continue  # a package of shared code (core, dialogs), not a feature
        feature = getattr(importlib.import_module(name), "FEATURE", None)
        if isinstance(feature, Feature):
            found.append(feature)
    return found


class Registry:
    """The declarations of one application's features, indexed for dispatch."""

    def __init__(self, features: Iterable[Feature]) -> None:
        self.features = tuple(sorted(features, key=lambda f: (f.rank, f.name)))
        self.commands: dict[str, Command] = {}
        self.presses: dict[type, Press] = {}
        self.dialogs: dict[str, Dialog] = {}
        self.records: dict[str, RecordKind] = {}  # by ``RecordKind.name``, in feature order
        self.attested: AttestedRun | None = None
        self.uploaded: UploadedRun | None = None
        for feature in self.features:
            for command in feature.commands:
                _add(self.commands, command.name, command, feature)
            for press in feature.presses:
                _add(self.presses, press.kind, press, feature)
            for dialog in feature.dialogs:
                _add(self.dialogs, dialog.name, dialog, feature)
            for kind in feature.records:
                _add(self.records, kind.name, kind, feature)
            if feature.attested is not None:
                if self.attested is not None:
                    raise ValueError(f"feature {feature.name} declares the attested accounts again")
                self.attested = feature.attested
            if feature.uploaded is not None:
                if self.uploaded is not None:
                    raise ValueError(f"feature {feature.name} declares the uploaded files again")
                self.uploaded = feature.uploaded

    async def command(self, ctx: Context, name: str, args: str) -> list[Reply]:
        """``/name args`` from ``ctx``'s sender: refused as its policy says, or run."""
        command = self.commands.get(name)
        if command is None:
            return [Reply(ctx.t("command.unknown", name=name))] if ctx.event.is_private else []
        policy, ev = command.policy, ctx.event
        if not policy.fits_chat(ev.is_private):
            offer = ((Button(ctx.t("group.open_private"), start=name),),) if policy.offer_private else ()
            return [Reply(ctx.t(policy.elsewhere), buttons=offer)]
        if not policy.lets_in(ctx.member):
            if ctx.member is None:
                return [Reply(ctx.t("auth.not_member"))] if ev.is_private else []
            assert policy.refused is not None
            return [Reply(ctx.t(policy.refused))]
        return await command.run(ctx, args)

    async def press(self, ctx: Context, pressed: object) -> Outcome | None:
        """A pressed button of a declared kind, refused or handled; None for a kind no feature
        declares."""
        press = self.presses.get(type(pressed))
        if press is None:
            return None
        if not press.policy.lets_in(ctx.member):
            assert press.policy.refused is not None
            return Outcome(notice=ctx.t(press.policy.refused))
        return await press.run(ctx, pressed)

    def help_text(self, t: Translator, member: Member) -> str:
        """What /help tells ``member``: the commands for everyone, then those for their role."""
        lines = [t("help.head")]
        leaders: list[str] = []
        for command in self._helped():
            if not command.audience:
                lines.append(_help_line(t, command))
            elif member.role in command.audience:
                leaders.append(_help_line(t, command))
        if leaders:
            lines += [t("help.leaders_head"), *leaders]
        return "\n".join(lines)

    def menu(self, t: Translator, where: Where) -> list[tuple[str, str]]:
        """(command, description) for the platform's command menu in private or group chats."""
        return [(c.name, t(c.help)) for c in self._helped()  # type: ignore[arg-type]
                if c.menu and c.policy.fits_chat(where is Where.private)]

    def _helped(self) -> list[Command]:
        return [c for f in self.features for c in f.commands if c.help is not None]


def _help_line(t: Translator, command: Command) -> str:
    assert command.help is not None
    return f"/{command.name} {t(command.help)}"


def _add(index: dict[Any, Any], key: object, value: object, feature: Feature) -> None:
    if key in index:
        raise ValueError(f"feature {feature.name} declares {key!r} again")
    index[key] = value
