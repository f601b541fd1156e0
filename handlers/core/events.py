"""The neutral contract between adapters and the core.

An adapter turns a platform event into an ``Incoming``; the core answers with ``Reply`` objects
that the adapter renders as well as its platform can (inline keyboard, template card, numbered list).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from storage.files.names import sanitize_file_name

PUSH_PREFIX = "#"  # a push's buttons are typed as #1, #2 … (``handlers.core.selectors``)


@dataclass(frozen=True)
class FileRef:
    """A file a user sent: the platform's id for it, and what we know of it."""

    file_id: str
    name: str | None = None
    mime_type: str | None = None


@dataclass(frozen=True)
class Account:
    """An account of the sender that the platform vouches for with this event: ``kind`` is one of
    ``storage.models.AccountKind``'s values ("wecom": the userid WeCom authenticated; "telegram":
    the numeric id; "telegram_username": the @username Telegram reports now; "phone": a number
    the platform attests is the sender's, such as their own shared contact; "dingtalk": the
    userid DingTalk sends as senderStaffId; "feishu": the tenant's user_id Feishu sends). Never
    typed text."""

    kind: str
    value: str


@dataclass(frozen=True)
class Incoming:
    platform: str  # "telegram" | "console" | "wecom"
    user_id: str  # the platform's id of the sender
    user_name: str  # the sender's display name on the platform
    chat_id: str
    is_private: bool
    text: str | None = None
    callback_data: str | None = None  # set when a button was pressed
    message_id: str | None = None  # the message that carried the pressed button
    file: FileRef | None = None
    chat_title: str | None = None
    event_id: str | None = None  # the platform's id of this event, to drop a redelivered one
    accounts: tuple[Account, ...] = ()  # what the platform authenticates of the sender
    # A group message the platform delivers because it names the bot (an @): answered even when
    # it is no command. The bot reads nothing else of a group's conversation.
    addressed: bool = False


@dataclass(frozen=True)
class Button:
    """A choice under a message: either a callback (``data``, made by ``handlers.core.buttons``
    and sent back by the adapter as it is) or a link into a private chat with the bot that
    starts with ``start`` (a Telegram deep link, a WeCom app link...)."""

    label: str
    data: str | None = None
    start: str | None = None
    selector: str | None = None  # what typing presses it ("2", "B", "#1"), set by the core


@dataclass(frozen=True)
class OutDocument:
    """A file to send. Its name may be made from user data (a member's name): it is sanitized
    here, once, so an adapter may use it as a path or a header as it is."""

    file_name: str
    content: bytes

    def __post_init__(self) -> None:
        safe = sanitize_file_name(self.file_name) or "file"
        if safe != self.file_name:
            object.__setattr__(self, "file_name", safe)


@dataclass(frozen=True)
class Answered:
    """The question of the message whose button was pressed, and the answer chosen. Each adapter
    shows it its own way (Telegram edits the message to "question → answer"; the console prints
    the answer; WeCom updates the pressed card)."""

    question: str
    answer: str


@dataclass(frozen=True)
class Reply:
    text: str = ""  # the body: a prompt, a notice, a caption; may be empty when ``answered`` says all
    buttons: tuple[tuple[Button, ...], ...] = ()
    answered: Answered | None = None  # a press answered: shown before ``text``, in the pressed message
    edit: bool = False  # edit the pressed message (or a long job's last one) instead of sending anew
    progress: str | None = None  # a long job's newest step, for a client that cannot edit a message
    document: OutDocument | None = None
    chat_id: str | None = None  # None: the chat the event came from
    # A button asking the user to share their own phone number, on a platform that has one
    # (Telegram's contact request; it comes back as an ``Account("phone", …)``); others show none.
    share_contact: str | None = None


def payload(text: str, buttons: tuple[tuple[Button, ...], ...] = ()) -> dict[str, Any]:
    """A message to send later, as the outbox stores it (JSON). Its buttons are typed as ``#1``,
    ``#2`` … (``handlers.core.selectors``): a push never takes the numbers of a dialog."""
    counter = iter(range(1, 1000))
    return {"text": text, "buttons": [[{"label": b.label, "data": b.data, "start": b.start,
                                        "selector": f"{PUSH_PREFIX}{next(counter)}"}
                                       for b in row] for row in buttons]}


def from_payload(stored: dict[str, Any]) -> Reply:
    """The reply an outbox message stands for (``payload`` read back)."""
    rows = tuple(tuple(Button(b["label"], data=b.get("data"), start=b.get("start"),
                              selector=b.get("selector")) for b in row)
                 for row in stored.get("buttons", []))
    return Reply(stored["text"], buttons=rows)


@dataclass
class Outcome:
    """What the core did with one event: the replies, and the toast for a pressed button."""

    replies: list[Reply] = field(default_factory=list)
    notice: str | None = None
    # A long job's further replies, for the adapter to send after ``replies`` (its own database
    # sessions, heavy work off the event loop). One with ``edit`` edits the message that
    # ``replies`` or an earlier follow-up reply put up last ("正在生成…" as it goes).
    followup: AsyncIterator[Reply] | None = None
