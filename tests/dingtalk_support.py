"""End-to-end tests of the DingTalk adapter: the real Stream client and bot against the fake
DingTalk in ``tests/fakes/dingtalk`` (WebSocket frames with ACKs, the robot OpenAPI, session
webhooks, interactive cards), and a member's side that reads what reached their chat."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bot.adapters.dingtalk.bot import DingTalkBot
from bot.adapters.dingtalk.run import DingTalkAdapter, dingtalk_config
from bot.config import Settings
from bot.runtime.app import App, build_app
from tests.adapter_support import started
from tests.conftest import make_settings
from tests.wecom_support import numbered_choice
from tests.fakes.dingtalk.openapi import FakeCard, Sent
from tests.fakes.dingtalk.server import CLIENT_ID, CLIENT_SECRET, ROBOT_CODE, TEMPLATE_ID, FakeDingTalk

USER = "lina01"
GROUP = "cidGroupFirstBranch=="
Item = Sent | FakeCard


def dingtalk_settings(db_url: str, fake: FakeDingTalk, *, cards: bool = True, **extra: Any) -> Settings:
    return make_settings(db_url, platform="dingtalk", dingtalk_client_id=CLIENT_ID,
                         dingtalk_client_secret=CLIENT_SECRET, dingtalk_robot_code=ROBOT_CODE,
                         dingtalk_api_base_url=fake.base_url, dingtalk_oapi_base_url=fake.base_url,
                         dingtalk_card_template_id=TEMPLATE_ID if cards else None, **extra)


@asynccontextmanager
async def serving(db_url: str, fake: FakeDingTalk, *, cards: bool = True,
                  ) -> AsyncIterator[tuple[App, DingTalkBot]]:
    """The adapter connected to ``fake`` (no scheduled pushes), until the block ends."""
    settings = dingtalk_settings(db_url, fake, cards=cards)
    bot_app = build_app(settings)
    try:
        async with started(DingTalkAdapter(bot_app, dingtalk_config(settings))) as adapter:
            await fake.gateway.wait_connections(1)
            yield bot_app, adapter.bot
    finally:
        await bot_app.close()


def text_of(item: Item) -> str:
    if isinstance(item, FakeCard):
        parts = [item.params.get("title", ""), item.params.get("text", ""), item.params.get("chosen", "")]
        return "\n".join(p for p in parts if p)
    param = item.param
    if "content" in param:
        return str(param["content"])
    if "fileName" in param:
        return str(param["fileName"])
    return "\n".join(str(param[k]) for k in ("title", "text") if param.get(k))


def links(item: Item) -> dict[str, str]:
    """An ActionCard's buttons: label → link."""
    if isinstance(item, FakeCard):
        return {}
    param = item.param
    if "btns" in param:
        return {b["title"]: b["actionURL"] for b in param["btns"]}
    if "singleTitle" in param:
        return {param["singleTitle"]: param.get("singleURL") or param.get("singleUrl", "")}
    return {param[k]: param[k.replace("Title", "URL")] for k in param if re.fullmatch(r"actionTitle\d", k)}


def card_values(item: Item) -> dict[str, str]:
    if not isinstance(item, FakeCard) or item.params.get("chosen"):
        return {}
    return {b["text"]: b["value"] for b in json.loads(item.params.get("buttons", "[]"))}


@dataclass
class Chat:
    """What one chat (a member's 1:1, or a group as seen by ``staff``) shows, and acting in it."""

    fake: FakeDingTalk
    staff: str
    nick: str
    group: str | None = None

    def _mine(self, item: Item) -> bool:
        if isinstance(item, FakeCard):
            return (item.space_type, item.space_id) == (
                ("IM_GROUP", self.group) if self.group else ("IM_ROBOT", self.staff))
        return item.to in ((self.group,) if self.group else
                           (self.staff, self.fake.private_conversation(self.staff)))

    def items(self) -> list[Item]:
        return [item for item in self.fake.api.timeline if self._mine(item)]

    async def _after(self, act: Any) -> list[Item]:
        before = len(self.fake.api.timeline)
        pushed = await act
        if pushed.delivered and pushed.msg_id:  # a message: handled once its ACK came
            await self.fake.gateway.ack_for(pushed.message_id)
        return [item for item in self.fake.api.timeline[before:] if self._mine(item)]

    async def say(self, text: str) -> list[Item]:
        return await self._after(self.fake.say(self.staff, text, group=self.group, nick=self.nick))

    async def press(self, label: str) -> list[Item]:
        """Press ``label`` on the newest message offering it: a card button, an ActionCard link
        (tapped: the member's own message), or its selector typed."""
        for item in reversed(self.items()):
            values = card_values(item)
            if label in values:
                pressed = await self._after(self.fake.press(self.staff, item.out_track_id, values[label]))  # type: ignore[union-attr]
                return [item, *pressed]
            if label in links(item):
                return await self._after(self.fake.tap(self.staff, links(item)[label], group=self.group))
            selector = numbered_choice(text_of(item), label)
            if selector is not None:
                return await self.say(selector)
        raise AssertionError(f"no choice {label!r} offered in {self}")


def texts(items: list[Item]) -> str:
    return "\n".join(text_of(item) for item in items)
