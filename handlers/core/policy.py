"""Who may use a command or a button, as data the router checks once for every event; and the
named checks for what depends on the data at hand (the secretary *of this branch*).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from storage.models import Member, Role

LEADERS: frozenset[Role] = frozenset({Role.secretary, Role.office})


class Where(enum.Enum):
    private = "private"  # the member's private chat with the bot
    group = "group"  # a group chat
    anywhere = "anywhere"


@dataclass(frozen=True)
class Policy:
    """``where`` it may be used (``elsewhere``: what the wrong kind of chat is told, with a button
    into the private chat when ``offer_private``); whether only a member who joined may (a
    stranger is told so in private, and nothing in a group); which ``roles`` (none: every role;
    ``refused``: what the others are told). A button's refusals are its ``refused`` notice."""

    where: Where = Where.private
    elsewhere: str = "group.go_private"
    offer_private: bool = False
    member: bool = True
    roles: frozenset[Role] = frozenset()
    refused: str | None = None

    def __post_init__(self) -> None:
        if self.roles and self.refused is None:
            raise ValueError("a policy that limits roles says what the others are told")

    def fits_chat(self, is_private: bool) -> bool:
        return self.where is Where.anywhere or (self.where is Where.private) == is_private

    def lets_in(self, member: Member | None) -> bool:
        """Whether ``member`` (None: a stranger) passes the member and role conditions."""
        if member is None:
            return not self.member
        return not self.roles or member.role in self.roles


# Commands that collect or show a member's own data: their private chat, members only; in a
# group, a button that opens the private chat with the same command.
PERSONAL = Policy(offer_private=True)
ANYONE = Policy(where=Where.anywhere, member=False)


def sees_every_branch(member: Member) -> bool:
    """The campaign office reads every branch's lists and figures."""
    return member.role is Role.office


def leads(member: Member, org_id: int | None) -> bool:
    """Whether ``member`` acts for branch ``org_id`` (None: every branch together): the office for
    any, a secretary for their own."""
    if sees_every_branch(member):
        return True
    return member.role is Role.secretary and org_id is not None and member.org_id == org_id


# Roster rows whose joining the campaign office decides (a branch's secretary decides the rest).
OFFICE_APPROVES: frozenset[Role] = frozenset({Role.secretary, Role.committee, Role.office})


def office_approves(row_role: Role | None) -> bool:
    """Whether a join request for a roster row of ``row_role`` (None: a name not on the roster,
    to join as 党员) is the office's to decide."""
    return row_role in OFFICE_APPROVES


def approves_join(member: Member, org_id: int, row_role: Role | None) -> bool:
    """Whether ``member`` may decide a request to join branch ``org_id`` as a row of ``row_role``:
    the office any; the branch's secretary those of its 党员 and of names not on the roster."""
    if office_approves(row_role):
        return sees_every_branch(member)
    return leads(member, org_id)
