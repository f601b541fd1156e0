"""End-to-end tests of the Feishu adapter: the real long connection (or HTTP callback) and bot
against the fake Feishu in ``tests/fakes/feishu`` (protobuf frames, the OpenAPI, card presses
answered with the updated card), and a member's side that reads what reached their chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bot.adapters.feishu.run import FeishuAdapter, feishu_settings
from bot.config import Settings
from bot.runtime.app import App, build_app
from tests.adapter_support import started
from tests.conftest import make_settings
from tests.fakes.feishu.server import (
    APP_ID, APP_SECRET, ENCRYPT_KEY, VERIFICATION_TOKEN, FakeFeishu, Sent,
)
from tests.wecom_support import numbered_choice

USER = "ou_lina0000000001"
BOT_OPEN_ID = "ou_branchbot000001"
GROUP = "oc_firstbranchgroup01"


def feishu_settings_for(db_url: str, fake: FakeFeishu, **extra: Any) -> Settings:
    return make_settings(db_url, platform="feishu", feishu_app_id=APP_ID,
                         feishu_app_secret=APP_SECRET, feishu_verification_token=VERIFICATION_TOKEN,
                         feishu_encrypt_key=ENCRYPT_KEY, feishu_api_base_url=fake.base_url,
                         feishu_port=1, **extra)


@asynccontextmanager
async def serving(db_url: str, fake: FakeFeishu, *, mode: str = "ws",
                  ) -> AsyncIterator[tuple[App, FeishuAdapter]]:
    """The adapter on ``fake`` (no scheduled pushes): by long connection, or in ``http`` mode
    on a free loopback port that the fake posts to."""
    settings = feishu_settings_for(db_url, fake, feishu_event_mode=mode)
    config = feishu_settings(settings).model_copy(update={"port": 0})
    bot_app = build_app(settings)
    try:
        async with started(FeishuAdapter(bot_app, config)) as served:
            if mode == "ws":
                await fake.wait_connected()
            else:
                fake.callback_url = served.callback_url
            yield bot_app, served
    finally:
        await bot_app.close()


def text_of(sent: Sent) -> str:
    content = sent.current
    if sent.msg_type == "text":
        return str(content["text"])
    if sent.msg_type == "file":
        return str(content["file_key"])
    lines = []
    for element in content.get("elements", []):
        if element.get("tag") == "div":
            lines.append(element["text"]["content"])
        elif element.get("tag") == "note":
            lines.extend(e["content"] for e in element["elements"])
    return "\n".join(lines)


def buttons(sent: Sent) -> dict[str, Any]:
    """A card's buttons now: label → the value it sends back."""
    if sent.msg_type != "interactive":
        return {}
    return {action["text"]["content"]: action["value"] for element in sent.current.get("elements", [])
            if element.get("tag") == "action" for action in element["actions"]}


@dataclass
class Chat:
    """One chat (a member's 1:1, or a group as ``user`` sees it), and acting in it."""

    fake: FakeFeishu
    served: FeishuAdapter
    user: str = USER
    group: str | None = None

    def _chat(self) -> str:
        return self.group or self.fake.p2p_chat(self.user)

    def items(self) -> list[Sent]:
        return [sent for sent in self.fake.sent.values() if sent.chat_id == self._chat()]

    async def _after(self, act: Any) -> list[Sent]:
        before = set(self.fake.sent)
        await act
        await self.served.bot.drain()
        return [sent for sent in self.items() if sent.message_id not in before]

    async def _event(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        """An event as Feishu delivers it in the adapter's mode; the answer's JSON."""
        if self.served.callback_url is None:
            answer = await self.fake.push(payload)
            return answer.data if answer is not None else None
        posted = await self.fake.post_callback(payload)
        assert posted.status == 200, posted
        return posted.body if isinstance(posted.body, dict) else None

    async def say(self, text: str) -> list[Sent]:
        if self.group is None:
            return await self._after(self._event(self.fake.message_event(text, sender=self.user)))
        mention = {"key": "@_user_1", "id": {"open_id": BOT_OPEN_ID}, "name": "支部助手"}
        return await self._after(self._event(self.fake.message_event(
            f"@_user_1 {text}", sender=self.user, chat_type="group", chat_id=self.group,
            mentions=[mention])))

    async def _press(self, sent: Sent, value: Any) -> None:
        """A press; an answer with a card replaces the card, as Feishu does."""
        answer = await self._event(self.fake.card_action_event(
            value, open_message_id=sent.message_id, operator=self.user))
        card = (answer or {}).get("card") or {}
        if card.get("type") == "raw":
            sent.updates.append(card["data"])

    async def press(self, label: str) -> list[Sent]:
        """Press ``label`` on the newest message offering it: a card's button, or its selector
        typed."""
        for sent in reversed(self.items()):
            offered = buttons(sent)
            if label in offered:
                return [sent, *await self._after(self._press(sent, offered[label]))]
            selector = numbered_choice(text_of(sent), label)
            if selector is not None:
                return await self.say(selector)
        raise AssertionError(f"no choice {label!r} offered in {self._chat()}")


def texts(items: list[Sent]) -> str:
    return "\n".join(text_of(sent) for sent in items)
