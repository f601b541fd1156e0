"""Shared pieces for end-to-end tests of the WeCom AI bot adapter: the real adapter (lease,
connection, handling) against the fake long-connection server of ``tests/fakes/wecom_aibot``,
and a member's chat with it, 1:1 or in a group, read back from the frames the fake received."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from bot.adapters.wecom_bot.backoff import Backoff
from bot.adapters.wecom_bot.connection import AiBotConnection
from bot.adapters.wecom_bot.run import WeComAiBotAdapter
from bot.runtime.app import App, build_app
from bot.runtime.leadership import Leadership
from tests.conftest import make_settings
from tests.fakes.wecom_aibot.server import BOT_ID, BOT_NAME, SECRET, FakeAiBot, Pushed, Received

USER = "LiNa"  # the roster carries this WeCom userid (the ``branch`` fixture)
SECRETARY = "WangShuJi"
GROUP = "wrkSFfCgAAxxxxGroup1"


def aibot_settings(db_url: str, fake: FakeAiBot, **extra: object) -> Any:
    return make_settings(db_url, platform="wecom_bot", wecom_bot_id=BOT_ID,
                         wecom_bot_secret=SECRET, wecom_bot_ws_url=fake.url,
                         wecom_bot_name=BOT_NAME, **extra)


def adapter_for(app: App, fake: FakeAiBot) -> WeComAiBotAdapter:
    """The adapter as ``run`` builds it, with a quick heartbeat, backoff and lock."""
    connection = AiBotConnection(BOT_ID, SECRET, fake.url, bot_name=BOT_NAME, heartbeat=0.5,
                                 ack_timeout=2.0, backoff=Backoff(base=0.05, cap=0.2))
    leadership = Leadership(app.settings.database_url, f"wecom_bot:{BOT_ID}", interval=0.2)
    return WeComAiBotAdapter(app, connection=connection, leadership=leadership)


@asynccontextmanager
async def running(db_url: str, fake: FakeAiBot, **extra: object) -> AsyncIterator[WeComAiBotAdapter]:
    """The adapter started and subscribed (without scheduled pushes)."""
    app = build_app(aibot_settings(db_url, fake, **extra))
    adapter = adapter_for(app, fake)
    await adapter.start()
    try:
        await asyncio.wait_for(adapter.connection.wait_live(), 10)
        yield adapter
    finally:
        await adapter.stop()
        await app.close()


def frame_text(body: dict[str, Any]) -> str:
    """What a frame shows: a stream's or a markdown's content, or a card's title, body and
    buttons (as ``[label]`` lines)."""
    for part in ("stream", "markdown", "text"):
        if isinstance(body.get(part), dict):
            return str(body[part].get("content", ""))
    card = body.get("template_card")
    if isinstance(card, dict):
        lines = [card.get("main_title", {}).get("title", ""), card.get("sub_title_text", "")]
        return "\n".join(filter(None, lines))
    return ""


def card_keys(body: dict[str, Any]) -> dict[str, str]:
    card = body.get("template_card")
    if not isinstance(card, dict) or body.get("response_type"):
        return {}
    return {b["text"]: b["key"] for b in card.get("button_list", [])}


@dataclass
class Chat:
    """A member's conversation with the bot: 1:1 (``group`` None) or in a group."""

    fake: FakeAiBot
    adapter: WeComAiBotAdapter
    user: str = USER
    group: str | None = None
    pushed: dict[str, str] = field(default_factory=dict)  # callback req_id → conversation

    @property
    def conversation(self) -> str:
        return self.group or self.user

    def where(self, group: str | None) -> Chat:
        """The same member in another conversation (sharing what was pushed)."""
        return Chat(self.fake, self.adapter, self.user, group, self.pushed)

    def to_here(self, frame: Received) -> bool:
        if frame.cmd == "aibot_send_msg":
            return frame.body.get("chatid") == self.conversation
        return frame.cmd == "aibot_respond_msg" and self.pushed.get(frame.req_id) == \
            self.conversation

    def frames(self, since: int = 0) -> list[Received]:
        return [f for f in self.fake.received[since:] if self.to_here(f) and f.errcode == 0]

    async def settle(self, since: int, quiet: float = 0.2, timeout: float = 15.0) -> None:
        """Until the bot has handled everything pushed and sent nothing for ``quiet`` s."""
        async with asyncio.timeout(timeout):
            seen = -1
            while True:
                await asyncio.sleep(quiet)
                busy = self.adapter.bot.work.busy or not self.adapter.connection._events.empty()
                if not busy and len(self.fake.received) == seen:
                    return
                seen = len(self.fake.received)

    async def _after(self, push: Any) -> list[str]:
        since = len(self.fake.received)
        pushed: Pushed = await push
        self.pushed[pushed.req_id] = self.conversation
        await self.settle(since)
        return [frame_text(f.body) for f in self.frames(since)]

    async def say(self, text: str) -> str:
        return "\n".join(await self._after(self.fake.push_text(self.user, text,
                                                                  chat_id=self.group)))

    async def press(self, label: str) -> str:
        """Press ``label`` on the newest message here offering it: a card's button, or a
        numbered text's selector typed."""
        for frame in reversed(self.frames()):
            keys = card_keys(frame.body)
            if label in keys:
                task_id = frame.body["template_card"]["task_id"]
                return "\n".join(await self._after(self.fake.push_card_event(
                    self.user, keys[label], task_id, chat_id=self.group)))
            found = re.search(rf"^\[([^\]]+)\] {re.escape(label)}$", frame_text(frame.body),
                              re.MULTILINE)
            if found is not None:
                return await self.say(found.group(1))
        raise AssertionError(f"no choice {label!r} offered in {self.conversation}")


async def join(chat: Chat, code: str, name: str = "李娜") -> None:
    said = await chat.say(f"/join {code}")
    assert f"{name}，你已加入“机关第一党支部”：你的企业微信账号与支部名册登记的一致" in said, said
