"""One place where an event from either transport is deduplicated, handed to the bot and turned
into the answer Feishu expects.

Feishu redelivers an event it thinks was not handled in 3 seconds (and after a reconnect), and
each long-connection event goes to one random client: so an event id or message id seen here is
answered "done" without being handled again. Memory is bounded (the newest ids). Across several
processes only the core's own idempotency (the event id it stores) prevents a second handling.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.adapters.feishu.events import BadEvent, CardAction, MessageEvent, parse_event
from bot.adapters.feishu.messages import CardAnswer

log = logging.getLogger(__name__)
JSON = dict[str, Any]
CARD_DEADLINE = 2.5  # seconds: Feishu waits 3 for a card press's answer
MEMORY = 8192  # ids remembered


class RecentIds:
    """The newest ``capacity`` ids, oldest forgotten first."""

    def __init__(self, capacity: int = MEMORY) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, key: str) -> bool:
        return key in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._ids[key] = None
            self._ids.move_to_end(key)
        while len(self._ids) > self.capacity:
            self._ids.popitem(last=False)


@dataclass(frozen=True)
class Answer:
    ok: bool  # False: Feishu should deliver the event again
    body: JSON | None = None  # a card press's answer ({} for none); None for other events


MessageHandler = Callable[[MessageEvent], Awaitable[None]]
CardHandler = Callable[[CardAction], Awaitable[CardAnswer | None]]


class Dispatcher:
    """``on_message`` must return quickly (queue the work); ``on_card_action`` may take up to the
    deadline to answer with a card, after which the press is answered ``{}`` and the handler
    goes on in the background (it can still update the card by the API)."""

    def __init__(self, on_message: MessageHandler, on_card_action: CardHandler, *,
                 card_deadline: float = CARD_DEADLINE, memory: int = MEMORY) -> None:
        self.on_message, self.on_card_action = on_message, on_card_action
        self.card_deadline = card_deadline
        self.seen = RecentIds(memory)
        self._inflight: set[str] = set()
        self._late: set[asyncio.Task[CardAnswer | None]] = set()
        self.handled = 0
        self.duplicates = 0

    async def handle(self, payload: Mapping[str, Any]) -> Answer:
        try:
            event = parse_event(payload)
        except BadEvent as error:
            log.warning("dropped a malformed Feishu event: %s", error)
            return Answer(ok=True)
        if event is None:
            return Answer(ok=True)
        keys = event.dedupe_keys
        if any(key in self.seen or key in self._inflight for key in keys):
            self.duplicates += 1
            log.info("Feishu delivered %s again; not handled twice", keys[0])
            return Answer(ok=True, body={} if isinstance(event, CardAction) else None)
        self._inflight.update(keys)
        try:
            if isinstance(event, MessageEvent):
                await self.on_message(event)
                body = None
            else:
                body = await self._card(event)
        except Exception:
            log.exception("handling Feishu event %s failed; Feishu will deliver it again", keys[0])
            return Answer(ok=False)
        finally:
            self._inflight.difference_update(keys)
        self.seen.add(keys)
        self.handled += 1
        return Answer(ok=True, body=body)

    async def _card(self, action: CardAction) -> JSON:
        task = asyncio.create_task(self.on_card_action(action))
        done, _ = await asyncio.wait({task}, timeout=self.card_deadline)
        if task in done:
            answer = task.result()
            return answer.to_json() if answer is not None else {}
        log.warning("card press %s answered late; its answer goes by the API",
                    action.header.event_id)
        self._late.add(task)
        task.add_done_callback(self._late_done)
        return {}

    def _late_done(self, task: asyncio.Task[CardAnswer | None]) -> None:
        self._late.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a late card handler failed", exc_info=task.exception())
