"""The layers keep to their side: handlers/ and storage/ import no platform, handlers/ no
SQLAlchemy (queries live in storage/), storage/ nothing of the bot, adapters no storage."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLATFORMS = ("telegram", "starlette", "uvicorn", "httpx", "defusedxml", "cryptography", "bot")


def _imports(folder: str) -> list[tuple[str, str]]:
    """(file, imported module) for every import under ``folder``."""
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(str(path.relative_to(ROOT)), alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append((str(path.relative_to(ROOT)), node.module))
    return found


def _offending(folder: str, prefixes: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(file, module) for file, module in _imports(folder)
            if module.split(".")[0] in prefixes]


@pytest.mark.parametrize("folder", ["handlers", "storage"])
def test_the_core_and_storage_import_no_platform(folder: str) -> None:
    assert _offending(folder, PLATFORMS) == []


def test_handlers_leave_sql_to_storage() -> None:
    assert _offending("handlers", ("sqlalchemy",)) == []


def test_storage_knows_nothing_of_the_handlers() -> None:
    assert _offending("storage", ("handlers",)) == []


def test_adapters_never_touch_the_database() -> None:
    assert _offending("bot/adapters", ("storage", "sqlalchemy")) == []
