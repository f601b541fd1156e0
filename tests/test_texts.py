"""Every text key the code asks for exists in the catalogue, and every placeholder is filled."""

from __future__ import annotations

import re
import string
from pathlib import Path

from handlers.core.texts_zh import TEXTS

ROOT = Path(__file__).resolve().parents[1]
KEY_CALL = re.compile(r"""\b(?:t|Text\.of|DEFAULT_TEXTS)\(\s*["']([a-z_]+\.[a-z_]+)["']""")
KEY_LITERAL = re.compile(r"""["']((?:input|dialog|date|deadline|field|study|visit|problem|commit|mine|record|join|start|auth|group|bindgroup|command|help|button|error|roster|cli|meeting)\.[a-z_]+)["']""")


def used_keys() -> set[str]:
    keys: set[str] = set()
    for folder in ("bot", "handlers", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "texts_zh.py":
                continue
            source = path.read_text(encoding="utf-8")
            keys |= set(KEY_CALL.findall(source)) | set(KEY_LITERAL.findall(source))
    return keys


def test_every_used_key_exists() -> None:
    missing = sorted(used_keys() - TEXTS.keys())
    assert missing == []


def test_texts_are_valid_format_strings() -> None:
    for key, text in TEXTS.items():
        fields = [name for _, name, _, _ in string.Formatter().parse(text) if name]
        assert all(name.isidentifier() for name in fields), key
