"""Platform accounts, read the same way from a roster cell and from what a platform attests,
so that they match: a WeCom userid, a Telegram id or @username, a mobile number, a DingTalk
userid, a Feishu user_id.

A typed value never counts as an account: only ``Incoming.accounts`` (what the adapter says the
platform authenticated) is matched against the roster.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from handlers.core.events import Incoming
from storage.models import AccountKind

Claim = tuple[AccountKind, str]

# A tenant's account id: WeCom's userid (case-insensitive), a DingTalk userid (1–64 characters), a
# Feishu user_id (up to 64, no spaces): an office's own ids or generated ones. Only WeCom documents
# its ids as case-insensitive, so the other two are compared exactly; a spreadsheet's number in
# exponent form is refused.
_TENANT_ID = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
_TELEGRAM_ID = re.compile(r"[1-9][0-9]{0,15}")
_TELEGRAM_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")  # 4–32 (fragment.com sells 4)
_SEPARATORS = re.compile(r"[\s\-()（）]")
_MAINLAND_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_INTERNATIONAL = re.compile(r"[1-9][0-9]{7,14}")  # E.164: up to 15 digits with the country code
_OPEN_ID_PREFIX = "ou_"  # Feishu's per-app open_id, never what an office means by 用户ID


def _exact(text: str) -> str | None:
    value = text.strip()
    return value if _TENANT_ID.fullmatch(value) else None


def wecom(text: str) -> str | None:
    value = _exact(text)
    return None if value is None else value.lower()


def dingtalk(text: str) -> str | None:
    """A DingTalk userid (staffId), case kept."""
    return _exact(text)


def feishu(text: str) -> str | None:
    """A Feishu user_id, case kept; an open_id (``ou_…``, per app) is refused."""
    value = _exact(text)
    return None if value is None or value.startswith(_OPEN_ID_PREFIX) else value


def telegram(text: str) -> Claim | None:
    """A roster's Telegram cell: a numeric id, or a username (with or without @, or a t.me link)."""
    value = text.strip()
    for prefix in ("https://t.me/", "http://t.me/", "t.me/", "@"):
        if value.lower().startswith(prefix):
            value = value[len(prefix):]
            break
    else:
        if _TELEGRAM_ID.fullmatch(value):
            return AccountKind.telegram, value
    return (AccountKind.telegram_username, value.lower()) if _TELEGRAM_NAME.fullmatch(value) else None


def phone(text: str, *, international: bool = False) -> str | None:
    """A mobile number as ``+<country><number>``. A roster's bare 11-digit mainland number is
    +86; a platform's number (``international``) always carries its country code, "+" or not."""
    value = _SEPARATORS.sub("", text.strip())
    if value.startswith("00"):
        value = "+" + value[2:]
    if value.startswith("+"):
        digits = value[1:]
    elif international:
        digits = value
    elif _MAINLAND_MOBILE.fullmatch(value):
        digits = "86" + value
    else:
        digits = value if value.startswith("86") and _MAINLAND_MOBILE.fullmatch(value[2:]) else ""
    return "+" + digits if _INTERNATIONAL.fullmatch(digits) else None


def _telegram_id(value: str) -> str | None:
    return value if _TELEGRAM_ID.fullmatch(value) else None


def _telegram_name(value: str) -> str | None:
    name = value.lstrip("@")
    return name.lower() if _TELEGRAM_NAME.fullmatch(name) else None


def _platform_phone(value: str) -> str | None:
    return phone(value, international=True)


# How each kind reads as a platform sends it.
_ATTESTED: dict[AccountKind, Callable[[str], str | None]] = {
    AccountKind.wecom: wecom, AccountKind.telegram: _telegram_id,
    AccountKind.telegram_username: _telegram_name, AccountKind.phone: _platform_phone,
    AccountKind.dingtalk: dingtalk, AccountKind.feishu: feishu}
_KINDS = {kind.value: kind for kind in _ATTESTED}


def attested(event: Incoming) -> list[Claim]:
    """The sender's accounts the platform vouched for with ``event``, normalized."""
    claims: list[Claim] = []
    for account in event.accounts:
        kind = _KINDS.get(account.kind)
        value = _ATTESTED[kind](account.value) if kind is not None else None
        if kind is not None and value is not None:
            claims.append((kind, value))
    return claims


def shown(kind: AccountKind, value: str) -> str:
    """How an account reads to an approver."""
    return "@" + value if kind is AccountKind.telegram_username else value
