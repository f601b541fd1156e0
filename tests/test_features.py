"""Features declare themselves: every dialog is declared once, every declared text exists, the
policy is checked for every command and button, /help and the Telegram menus come from the same
declarations."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from telegram import Bot

import handlers
from bot.adapters.telegram.run import set_menus
from bot.runtime.app import App
from handlers.core.features import Command, Feature, Registry, discover
from handlers.core.i18n import DEFAULT_TEXTS as t
from handlers.core.policy import LEADERS, PERSONAL, Policy
from handlers.core.texts_zh import TEXTS
from handlers.dialogs.engine import Dialog
from storage.models import Role
from tests.botapi import FakeBotApi
from tests.chat_driver import CoreChat
from tests.conftest import Branch
from tests.test_dialogs import joined
from tests.test_shuxue import secretary_chat


def _every_module() -> list[object]:
    return [importlib.import_module(info.name)
            for info in pkgutil.walk_packages(handlers.__path__, "handlers.")]


def test_every_dialog_is_declared_by_exactly_one_feature() -> None:
    registry = Registry(discover())
    defined = {id(value): value for module in _every_module() for value in vars(module).values()
               if isinstance(value, Dialog)}
    declared = {id(dialog) for dialog in registry.dialogs.values()}
    assert sorted(d.name for i, d in defined.items() if i not in declared) == []
    assert len(declared) == len(registry.dialogs)


def test_every_text_a_declaration_names_exists() -> None:
    keys: set[str] = set()
    for feature in discover():
        for command in feature.commands:
            keys |= {command.help, command.policy.elsewhere, command.policy.refused}
        for press in feature.presses:
            keys.add(press.policy.refused)
        keys |= {dialog.title for dialog in feature.dialogs}
        keys |= {step.label for dialog in feature.dialogs for step in dialog.steps}
    assert sorted(k for k in keys - {None} if k not in TEXTS) == []


def test_a_name_declared_twice_is_refused() -> None:
    async def run(_ctx: object, _args: str) -> list[object]:
        return []

    twice = [Feature("a", 1, commands=(Command("x", run, PERSONAL),)),  # type: ignore[arg-type]
             Feature("b", 2, commands=(Command("x", run, PERSONAL),))]  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="x"):
        Registry(twice)


def test_a_policy_that_limits_roles_says_what_the_others_hear() -> None:
    with pytest.raises(ValueError):
        Policy(roles=LEADERS)


async def test_help_shows_each_member_the_commands_of_their_role(app: App, branch: Branch) -> None:
    member = await joined(app, branch)
    await member.say("/help")
    shown = member.text.splitlines()
    assert shown[0] == t("help.head") and f"/study {t('help.study')}" in shown
    assert t("help.leaders_head") not in shown and not any("/problems" in s for s in shown)
    secretary = await secretary_chat(app, branch)
    await secretary.say("/help")
    shown = secretary.text.splitlines()
    leaders = shown[shown.index(t("help.leaders_head")) + 1:]
    assert {line.split()[0] for line in leaders} == {"/problems", "/schedule", "/pending", "/bindgroup", "/template"}
    assert len(shown) == len(set(shown))  # each command once


async def test_the_policy_is_checked_for_commands_and_buttons(app: App, branch: Branch) -> None:
    stranger = CoreChat(app.core, "nobody", "陌生人")
    await stranger.say("/study")
    assert stranger.text == t("auth.not_member")
    group = CoreChat(app.core, "nobody", "陌生人", chat_id="-5", private=False)
    await group.say("/schedule")
    assert group.replies == []  # a stranger in a group hears nothing
    await group.say("/study")
    assert group.text == t("group.go_private") and group.replies[0].buttons[0][0].start == "study"
    member = await joined(app, branch)
    await member.say("/problems")
    assert member.text == t("problem.board_not_allowed")
    await member.press_data(f"r:b:{branch.org.id}:range:20231001:20231031:1")
    assert member.notice == t("report.not_allowed")
    await stranger.say("/start study")  # a deep link runs the command under its own policy
    assert stranger.text == t("auth.not_member")


async def test_the_telegram_menus_come_from_the_declarations(api: FakeBotApi) -> None:
    registry = Registry(discover())
    async with Bot(api.token, base_url=api.base_url) as bot:
        await set_menus(bot, registry, t)
    private = api.commands[('{"type": "all_private_chats"}', "")]
    group = api.commands[('{"type": "all_group_chats"}', "")]
    assert [c["command"] for c in private][:3] == ["study", "visit", "problem"]
    assert {"start", "join", "bindgroup"}.isdisjoint(c["command"] for c in private)
    assert {c["command"] for c in group} == {"schedule", "cancel", "help", "bindgroup"}
    assert all(c["description"] == t(f"help.{c['command']}") for c in private + group)


def test_only_leaders_see_the_leaders_lines() -> None:
    registry = Registry(discover())
    audiences = {c.name: c.audience for f in registry.features for c in f.commands}
    assert audiences["schedule"] == audiences["bindgroup"] == LEADERS
    # /problems: the 支委 too, who decide the closure of a problem their secretary owns
    assert audiences["problems"] == LEADERS | {Role.committee}
    assert Role.member not in LEADERS and audiences["study"] == frozenset()


def test_each_record_kind_is_declared_once_with_a_declared_dialog() -> None:
    registry = Registry(discover())
    logged = ["study", "visit", "problem", "commitment"]
    assert [name for name in registry.records if name in logged] == logged  # /mine's order
    for name, kind in registry.records.items():
        assert kind.model.entity == name and hasattr(kind.model, kind.model.owner)
        assert registry.dialogs[kind.dialog.name] is kind.dialog
