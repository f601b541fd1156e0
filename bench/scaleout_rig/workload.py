"""Members who tap ahead: each /study dialog is sent as one burst of typed answers, every update
without waiting for the bot's answer to the one before (as on a slow network), then the member
waits for the confirmation card and presses ✅ 确认 on the newest one, as a hasty member does
(the card's button carries the step's nonce, so that press needs the card).

Every dialog has its own values (form, day, hours, content, reflection), so each saved record
can be told apart and checked field by field against what its dialog meant."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bench.scaleout_rig.project import CONFIRM_LABEL, DAY_WORDS, FORMS
from tests.botapi import Call, FakeBotApi, Message

HOURS = ("0.5", "1", "1.5", "2", "2.5", "3")
BOT_TIMEZONE = ZoneInfo("Asia/Shanghai")  # the bot's default BRANCHBOT_TIMEZONE


@dataclass(frozen=True)
class Intent:
    """What one dialog means to save."""

    user: int
    number: int  # the member's n-th dialog
    form: str
    days_back: int
    hours: str
    content: str
    reflection: str

    @property
    def minutes(self) -> int:
        return round(float(self.hours) * 60)

    def study_date(self, today: date) -> date:
        return today - timedelta(days=self.days_back)

    def texts(self) -> list[str]:
        """The burst: the command and every answer, in the dialog's order."""
        return ["/study", self.form, DAY_WORDS[self.days_back], self.hours, self.content,
                self.reflection]


def intents(users: list[int], dialogs: int) -> list[Intent]:
    return [Intent(user, n, FORMS[(u + n) % len(FORMS)], n % len(DAY_WORDS),
                   HOURS[(u * 7 + n) % len(HOURS)], f"第{n + 1}次学习：成员{user}的笔记",
                   f"心得{user}-{n + 1}：学以致用")
            for u, user in enumerate(users) for n in range(dialogs)]


def bot_today() -> date:
    return datetime.now(BOT_TIMEZONE).date()


@dataclass
class Traffic:
    """What the members sent and when, across all of them."""

    updates: int = 0
    dialogs_started: int = 0
    first_at: float | None = None
    gave_up: int = 0  # dialogs whose card never came
    stale_presses: int = 0  # 确认 answered with 按钮已失效 or not at all
    stories: list[str] = field(default_factory=list)  # what such a member saw last

    def sent(self, count: int) -> None:
        if self.first_at is None:
            self.first_at = time.monotonic()
        self.updates += count


@dataclass
class Members:
    api: FakeBotApi
    intents: list[Intent]
    #: how long a member waits for the bot's next move in its chat before giving the dialog up
    patience: float
    #: once the card is up, how long the chat must stay quiet before the member presses 确认
    settle: float = 0.3
    traffic: Traffic = field(default_factory=Traffic)
    on_dialog_started: Callable[[int], Awaitable[None]] | None = None

    async def run(self) -> None:
        by_user: dict[int, list[Intent]] = {}
        for intent in self.intents:
            by_user.setdefault(intent.user, []).append(intent)
        await asyncio.gather(*(self._member(own) for own in by_user.values()))

    async def _member(self, own: list[Intent]) -> None:
        for intent in own:
            self.traffic.dialogs_started += 1
            if self.on_dialog_started is not None:
                await self.on_dialog_started(self.traffic.dialogs_started)
            await self._dialog(intent)

    async def _dialog(self, intent: Intent) -> None:
        user = intent.user
        since = len(self.api.calls)
        for text in intent.texts():
            self.api.push_message(user, text, first_name=f"成员{user}")
        self.traffic.sent(len(intent.texts()))
        card = await self._card(user, since)
        if card is None:
            self.traffic.gave_up += 1
            self._story(user, intent, since, "no card")
            return
        button = next(b for row in card.buttons() for b in row if b.get("text") == CONFIRM_LABEL)
        pressed = len(self.api.calls)
        self.api.push_callback(user, button["callback_data"], message_id=card.message_id)
        self.traffic.sent(1)
        try:
            answer = await self.api.wait_for(
                lambda c: c.method == "answerCallbackQuery" and c.chat_id == user,
                timeout=self.patience, since=pressed)
        except TimeoutError:
            self.traffic.stale_presses += 1
            self._story(user, intent, since, "确认 not answered")
            return
        if answer.params.get("text"):  # a notice instead of the save: 按钮已失效 or an error
            self.traffic.stale_presses += 1
            self._story(user, intent, since, f"确认 answered {answer.params['text']!r}")
        await self._quiet(user, len(self.api.calls) - 1)

    def _story(self, user: int, intent: Intent, since: int, what: str) -> None:
        seen = [(c.method, (c.text or str(c.params.get("text") or ""))[:24])
                for c in self.api.calls[since:] if c.chat_id == user]
        self.traffic.stories.append(f"{user} dialog {intent.number + 1}: {what}; the bot's calls "
                                    f"since its burst: {seen[-4:]} ({len(seen)} in all)")

    async def _card(self, user: int, since: int) -> Message | None:
        """The newest confirmation card in the chat, once the bot has gone quiet after showing
        one; None if it stops answering before any card."""
        index = since - 1
        while True:
            found = await self._next_call(user, index + 1, self.patience)
            if found is None:
                return None
            index = found
            if self._is_card(self.api.calls[found]):
                await self._quiet(user, index)
                return self._newest_card(user)

    async def _quiet(self, user: int, index: int) -> None:
        while (found := await self._next_call(user, index + 1, self.settle)) is not None:
            index = found

    async def _next_call(self, user: int, since: int, timeout: float) -> int | None:
        try:
            call = await self.api.wait_for(lambda c: c.chat_id == user, timeout=timeout,
                                           since=since)
        except TimeoutError:
            return None
        return self.api.calls.index(call, since)

    @staticmethod
    def _is_card(call: Call) -> bool:
        return CONFIRM_LABEL in call.button_labels()

    def _newest_card(self, user: int) -> Message | None:
        return next((m for m in reversed(self.api.messages_in(user))
                     if CONFIRM_LABEL in m.button_labels()), None)
