"""The one catalogue of user-facing text.

Every string a user reads comes from here via ``t(key, **params)``. Another language is a
second dict with the same keys; the active one is chosen by ``set_language``.
"""

from __future__ import annotations

from handlers.core.texts_zh import TEXTS as ZH_CN

_CATALOGUES: dict[str, dict[str, str]] = {"zh_CN": ZH_CN}
_active: dict[str, str] = ZH_CN


def set_language(code: str) -> None:
    global _active
    _active = _CATALOGUES[code]


def t(key: str, **params: object) -> str:
    """Look up ``key`` and fill ``{placeholders}`` from ``params``."""
    text = _active[key]
    return text.format(**params) if params else text
