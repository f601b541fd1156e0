"""Selectors: what a member types to press a button, assigned here and resolved here.

Adapters that cannot show buttons render ``[selector] label`` and pass typed text on unchanged;
the core decides what it means (``/work/notes/selectors_design.md``):

- ``1``, ``2`` … on a step that takes no typed answer;
- ``A``, ``B`` … on a step that also takes one, so a typed number is always a value;
- ``#1``, ``#2`` … on a push, so a push never changes what the dialog's numbers mean.

A button's label typed (emoji, punctuation, spaces and width aside) works like its selector.
The offers of the message in progress are kept in the dialog state as ``Offer`` dicts (JSON).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

from handlers.core.events import PUSH_PREFIX, Button

Offer = dict[str, Any]  # {"s": selector, "l": label, and "c"/"v"/"t" or "d"/"st"}; see the note
Rows = tuple[tuple[Button, ...], ...]

_PUSH = re.compile(r"#([1-9][0-9]{0,2})")
_LETTERS = re.compile(r"[A-Z]{1,3}")
# Dropped when comparing a typed line with a label: spaces, punctuation, symbols (emoji), format
# characters and marks (the emoji variation selector).
_IGNORED = frozenset(("Zs", "Zl", "Zp", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc",
                      "Sk", "So", "Cc", "Cf", "Mn", "Me"))


def numbers(start: int = 1) -> Iterator[str]:
    n = start
    while True:
        yield str(n)
        n += 1


def letters() -> Iterator[str]:
    """A, B … Z, AA, AB … (as spreadsheet columns)."""
    n = 0
    while True:
        n += 1
        name, rest = "", n
        while rest:
            rest, digit = divmod(rest - 1, 26)
            name = chr(ord("A") + digit) + name
        yield name


def assign(explicit: Sequence[str | None], lettered: bool) -> list[str]:
    """A selector for each position: the explicit one where given (a list's own numbers), else
    the next free number (or letter when ``lettered``)."""
    taken = {s for s in explicit if s is not None}
    free = (s for s in (letters() if lettered else numbers()) if s not in taken)
    return [s if s is not None else next(free) for s in explicit]


def _other_numbers(text: str) -> bool:
    """Superscript, circled, fraction digits …: NFKC would make "²" a 2, and it is not one."""
    return not text.isascii() and any(unicodedata.category(c) in ("No", "Nl") and c != "〇"
                                      for c in text)


@lru_cache(maxsize=2048)  # labels come back at every step: 取消, 跳过, the forms, the books …
def key(text: str) -> str:
    """A label or a typed line as compared: NFKC, case-folded, only letters and digits kept
    (nothing, so matching nothing, for a text with a superscript or circled digit)."""
    if _other_numbers(text):
        return ""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in folded if unicodedata.category(c) not in _IGNORED)


def _selector_of(typed: str) -> str:
    """A typed line as a selector: width and case aside ("ａ" is "A"); "²" is none."""
    if _other_numbers(typed):
        return ""
    return " ".join(unicodedata.normalize("NFKC", typed).split()).upper()


def match(offers: Iterable[Offer] | None, typed: str) -> Offer | None:
    """The offer ``typed`` stands for: its selector, or its label as compared by ``key``."""
    if not offers or len(typed) > 2000:  # no label is that long
        return None
    offers = list(offers)
    wanted = _selector_of(typed)
    for offer in offers:
        if offer["s"] == wanted:
            return offer
    typed_key = key.__wrapped__(typed)  # a typed line is seldom typed again: not cached
    if not typed_key:
        return None
    return next((offer for offer in offers if key(offer["l"]) == typed_key), None)


def typed_selector(offer: Offer, typed: str) -> bool:
    """Whether ``typed`` is ``offer``'s selector (rather than its label)."""
    return offer["s"] == _selector_of(typed)


def push_number(typed: str) -> int | None:
    """``k`` when ``typed`` is a push's selector ``#k``; None otherwise."""
    found = _PUSH.fullmatch(_selector_of(typed)) if PUSH_PREFIX in typed or "＃" in typed else None
    return int(found[1]) if found else None


def numbered(rows: Rows) -> tuple[Rows, list[Offer]]:
    """Buttons the engine did not make (a report's pages), numbered, and their offers."""
    counter = numbers()
    shown = tuple(tuple(replace(b, selector=next(counter)) for b in row) for row in rows)
    offers: list[Offer] = []
    for row in shown:
        for b in row:
            offer: Offer = {"s": b.selector, "l": b.label}
            if b.start is not None:
                offer["st"] = b.start
            else:
                offer["d"] = b.data
            offers.append(offer)
    return shown, offers


def has_selectors(rows: Rows) -> bool:
    return any(b.selector is not None for row in rows for b in row)


# --- rendering, for adapters that cannot show buttons ---------------------------------------------

def line(button: Button) -> str:
    """``[2] 自学``; ``[3]`` when the label is the number itself; the label alone without one."""
    if button.selector is None:
        return button.label
    if button.label == button.selector:
        return f"[{button.selector}]"
    return f"[{button.selector}] {button.label}"


def hint(rows: Rows) -> str:
    """The catalogue key telling what to type for these buttons."""
    chosen = [b.selector for row in rows for b in row if b.selector is not None]
    if any(s.startswith(PUSH_PREFIX) for s in chosen):
        return "select.push"
    if any(_LETTERS.fullmatch(s) for s in chosen):
        return "select.letters"
    return "select.numbers"
