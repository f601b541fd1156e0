"""Button data, made and read here only, for every kind of button the bot shows.

Each kind is a frozen dataclass. ``pack`` writes one as the string a platform carries with the
button (at most ``CALLBACK_BYTES``: Telegram's limit for ``callback_data``) and refuses to make a
longer one; ``unpack`` reads any string back into the kind it names, or gives None for anything
malformed, forged or out of range, so a handler only ever sees values of the right types. The
formats are the ones earlier versions wrote, so buttons already sent keep working after an
upgrade. Adapters never look inside: they send the string back as they got it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from handlers.core.parsing import MAX_YEAR, MIN_YEAR

CALLBACK_BYTES = 64
MAX_ID = 2**31 - 1  # an id the database's integer columns can hold
MAX_PAGE = 9999

_TOKEN = re.compile(r"[0-9a-z]{1,16}")
_KIND = re.compile(r"[a-z_]{1,16}")
_NUMBER = re.compile(r"[0-9]{1,10}")
_COMPACT_DAY = re.compile(r"[0-9]{8}")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _compact(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _checked(data: str) -> str:
    if len(data.encode()) > CALLBACK_BYTES:
        raise ValueError(f"button data over {CALLBACK_BYTES} bytes: {data!r}")
    return data


@dataclass(frozen=True)
class DialogChoice:
    """A choice on the dialog step whose nonce it carries: ``d:<nonce>:<choice>``."""

    nonce: str
    choice: str  # the engine's name for the choice: "0", "ok", "skip", "f2" …

    def pack(self) -> str:
        return _checked(f"d:{self.nonce}:{self.choice}")


@dataclass(frozen=True)
class ReportPage:
    """A page of a branch's summary (``r:b:<org>:<kind>:<start>:<end>:<page>``) or of every
    branch side by side (``org_id`` None: ``r:a:<kind>:<start>:<end>:<page>``)."""

    org_id: int | None
    kind: str  # the period's kind (handlers.reports.periods.KINDS), checked by the reports
    start: date
    end: date
    page: int

    def pack(self) -> str:
        head = "r:a" if self.org_id is None else f"r:b:{self.org_id}"
        return _checked(f"{head}:{self.kind}:{_compact(self.start)}:{_compact(self.end)}:{self.page}")


@dataclass(frozen=True)
class RemindAgain:
    """再提醒一次 under a branch's 述学 digest: ``n:<org>:<period start>``."""

    org_id: int
    period: date

    def pack(self) -> str:
        return _checked(f"n:{self.org_id}:{self.period.isoformat()}")


@dataclass(frozen=True)
class JoinDecision:
    """同意 / 拒绝 under a join request sent to its approvers: ``j:<request>:y`` or ``j:<request>:n``."""

    request_id: int
    approve: bool

    def pack(self) -> str:
        return _checked(f"j:{self.request_id}:{'y' if self.approve else 'n'}")


ButtonData = DialogChoice | ReportPage | RemindAgain | JoinDecision


def _id(text: str) -> int | None:
    if not _NUMBER.fullmatch(text):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def _day(text: str, pattern: re.Pattern[str]) -> date | None:
    """A real day in the years any date the bot takes can be in (so a period's arithmetic stays
    within what ``date`` holds)."""
    if not pattern.fullmatch(text):
        return None
    digits = text.replace("-", "")
    try:
        day = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:  # no such day
        return None
    return day if MIN_YEAR <= day.year <= MAX_YEAR else None


def _dialog_choice(parts: list[str]) -> DialogChoice | None:
    if len(parts) != 2 or not all(_TOKEN.fullmatch(p) for p in parts):
        return None
    return DialogChoice(parts[0], parts[1])


def _report_page(parts: list[str]) -> ReportPage | None:
    if parts[:1] == ["b"] and len(parts) == 6:
        org_id: int | None = _id(parts[1])
        if org_id is None:
            return None
        kind, start_text, end_text, page_text = parts[2:]
    elif parts[:1] == ["a"] and len(parts) == 5:
        org_id, (kind, start_text, end_text, page_text) = None, parts[1:]
    else:
        return None
    start, end = _day(start_text, _COMPACT_DAY), _day(end_text, _COMPACT_DAY)
    page = _id(page_text)
    if (not _KIND.fullmatch(kind) or start is None or end is None or end < start
            or page is None or page > MAX_PAGE):
        return None
    return ReportPage(org_id, kind, start, end, page)


def _remind_again(parts: list[str]) -> RemindAgain | None:
    if len(parts) != 2:
        return None
    org_id, period = _id(parts[0]), _day(parts[1], _ISO_DAY)
    return None if org_id is None or period is None else RemindAgain(org_id, period)


def _join_decision(parts: list[str]) -> JoinDecision | None:
    if len(parts) != 2 or parts[1] not in ("y", "n"):
        return None
    request_id = _id(parts[0])
    return None if request_id is None else JoinDecision(request_id, parts[1] == "y")


_READERS = {"d": _dialog_choice, "r": _report_page, "n": _remind_again, "j": _join_decision}


def unpack(data: str) -> ButtonData | None:
    """The button ``data`` stands for; None when it is not one this bot makes."""
    if len(data.encode()) > CALLBACK_BYTES:
        return None
    head, _, rest = data.partition(":")
    reader = _READERS.get(head)
    return None if reader is None else reader(rest.split(":"))
