"""Texts are looked up when a reply is built, in the user's language: a second catalogue reaches
every prompt and every button, those the dialogs declare as catalogue keys included; nothing in
the core looks a text up at import."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

from bot.runtime.app import App
from handlers.core.i18n import CATALOGUES, DEFAULT_LANGUAGE, Text, Translator
from handlers.core.policy import Where
from storage.models import StudyRecord
from tests.conftest import Branch
from tests.test_dialogs import joined, rows

ROOT = Path(__file__).resolve().parents[1]


def marked() -> Translator:
    """A second language: the default one's texts, each in «»."""
    return Translator("xx", {key: f"«{text}»" for key, text in CATALOGUES[DEFAULT_LANGUAGE].items()})


async def test_a_second_language_reaches_prompts_and_buttons(app: App, branch: Branch) -> None:
    chat = await joined(app, branch)
    app.core.config = replace(app.core.config, texts=marked())
    t = app.core.config.texts
    await chat.say("/study")
    assert chat.text.startswith("«") and "集中学习" in chat.labels  # a stored term stays as is
    await chat.press("集中学习")
    assert chat.replies[0].answered is not None and chat.replies[0].text == t("study.ask_date")
    assert chat.labels[:3] == [t("date.today"), t("date.yesterday"), t("date.day_before")]
    await chat.press(t("date.today"))
    hours = t.shown(Text.of("field.hours_value", hours="2"))
    assert hours in chat.labels and hours.startswith("«")
    await chat.press(hours)
    await chat.press(chat.labels[0])  # the first of the branch's books
    await chat.press(t("dialog.skip"))
    assert t("dialog.confirm") in chat.labels and chat.text.startswith(t("dialog.card_title", title=t("study.title")))
    await chat.press(t("dialog.confirm"))
    assert chat.text == t("study.saved")
    (record,) = await rows(app, StudyRecord)
    assert record.minutes == 120
    await chat.say("/help")
    assert chat.text.splitlines()[:2] == [t("help.head"), f"/study {t('help.study')}"]


def test_the_menus_speak_the_language_they_are_given(app: App) -> None:
    t = marked()
    assert all(description.startswith("«") for _, description in app.core.registry.menu(t, Where.private))


def _texts_at_import(path: Path) -> list[int]:
    """Lines where a module calls a translator outside any function (at import)."""
    found = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(child, ast.Call):
                func = child.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in ("t", "DEFAULT_TEXTS"):
                    found.append(child.lineno)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def test_nothing_in_the_core_looks_a_text_up_at_import() -> None:
    found = {str(p.relative_to(ROOT)): lines for p in sorted((ROOT / "handlers").rglob("*.py"))
             if (lines := _texts_at_import(p))}
    assert found == {}
