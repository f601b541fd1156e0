"""Where a member known on several platforms is reached: one platform per member, so a push is
sent once. Their chosen platform (``members.preferred_platform``) if they have an identity there,
else the one they used last (``members.last_platform``), else the first of ``platforms`` (the
running ones, in the order configured) they have an identity on.

A branch's group pushes likewise go through one platform: the first of ``platforms`` it has a
group chat bound on. A branch has one 支部群; bound two ways into it (a WeCom group's robot and the
AI bot in the same group) it would otherwise read every prompt twice."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, select

from storage.models import Identity, Member


@dataclass(frozen=True)
class Reach:
    platform: str
    chat_id: str  # their private chat with the bot there


def names(platforms: Sequence[str]) -> list[str]:
    """The platforms as a list; one name alone is a mistake ("wecom" would be five letters)."""
    if isinstance(platforms, str):
        raise TypeError(f"platforms is a sequence of names, not the name {platforms!r}")
    return list(platforms)


def identities_on(platforms: Sequence[str]) -> Select[tuple[int, str, str, str | None, str | None]]:
    """(member id, platform, chat id, preferred, last) of the active members' identities on
    ``platforms``; the caller adds its own columns' filters (``where``) and joins."""
    return (select(Member.id, Identity.platform, Identity.platform_user_id,
                   Member.preferred_platform, Member.last_platform)
            .join(Identity, Identity.member_id == Member.id)
            .where(Identity.platform.in_(names(platforms)), Member.active))


def choose(rows: Iterable[tuple[int, str, str, str | None, str | None]],
           platforms: Sequence[str]) -> dict[int, Reach]:
    """Each member's one ``Reach`` from the rows of ``identities_on``."""
    found: dict[int, dict[str, str]] = {}
    wanted: dict[int, tuple[str | None, str | None]] = {}
    for member_id, platform, chat_id, preferred, last in rows:
        found.setdefault(member_id, {})[platform] = chat_id
        wanted[member_id] = (preferred, last)
    reach: dict[int, Reach] = {}
    for member_id, chats in found.items():
        preferred, last = wanted[member_id]
        platform = next(p for p in (preferred, last, *platforms) if p is not None and p in chats)
        reach[member_id] = Reach(platform, chats[platform])
    return reach


def one_platform_per_branch(groups: Iterable[tuple[int, str, str]],
                            platforms: Sequence[str]) -> list[tuple[int, str, str]]:
    """The (branch id, platform, chat id) group chats a branch's group pushes go to: those on the
    first of ``platforms`` the branch has any on, in the order given."""
    groups = list(groups)
    bound: dict[int, set[str]] = {}
    for org_id, platform, _ in groups:
        bound.setdefault(org_id, set()).add(platform)
    first = {org_id: next(p for p in names(platforms) if p in on) for org_id, on in bound.items()}
    return [group for group in groups if group[1] == first[group[0]]]
