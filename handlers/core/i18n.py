"""The catalogues of user-facing text, and the translator that looks texts up for one language.

Every string a user reads comes from a catalogue (``texts_zh.py``; another language is a second
dict with the same keys). Nothing is looked up at import: code that is not rendering a reply yet
names a text by its key (``Text``), and the reply is rendered with the translator of the user's
language (``ctx.t``; the planner's, the reports' and the adapters' are given theirs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from handlers.core.texts_zh import TEXTS as ZH_CN

DEFAULT_LANGUAGE = "zh_CN"
CATALOGUES: Mapping[str, Mapping[str, str]] = MappingProxyType({"zh_CN": MappingProxyType(ZH_CN)})


@dataclass(frozen=True)
class Text:
    """A catalogue text not looked up yet: its key and its ``{placeholders}``' values."""

    key: str
    params: tuple[tuple[str, object], ...] = ()

    @classmethod
    def of(cls, key: str, **params: object) -> Text:
        return cls(key, tuple(params.items()))


class Translator:
    """The texts of one language: ``t(key, **params)``."""

    def __init__(self, language: str, texts: Mapping[str, str]) -> None:
        self.language = language
        self._texts = texts

    @classmethod
    def of(cls, language: str) -> Translator:
        """The translator of one of the ``CATALOGUES``."""
        if language not in CATALOGUES:
            raise ValueError(f"no texts in {language!r} (there are: {', '.join(CATALOGUES)})")
        return cls(language, CATALOGUES[language])

    def __call__(self, key: str, **params: object) -> str:
        """Look up ``key`` and fill its ``{placeholders}`` (a ``Text`` value is looked up too)."""
        text = self._texts[key]
        if not params:
            return text
        return text.format(**{k: self.shown(v) if isinstance(v, Text) else v
                              for k, v in params.items()})

    def shown(self, label: str | Text) -> str:
        """A label as it reads: text as it is, a ``Text`` looked up."""
        if isinstance(label, str):
            return label
        return self(label.key, **dict(label.params))

    def __repr__(self) -> str:
        return f"Translator({self.language!r})"


# The default language's texts: for what no user reads in their own (log lines, the command
# line's help, which is shown before any settings are read). A reply uses ``ctx.t``.
DEFAULT_TEXTS = Translator.of(DEFAULT_LANGUAGE)
