"""Shared pieces for end-to-end tests of the WeCom adapter: the callback server under uvicorn on
loopback, talking to the fake WeCom in ``tests/wecomapi``."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn

from bot.adapters.wecom.bot import WeComBot
from bot.adapters.wecom.run import build_asgi, wecom_api
from bot.config import Settings
from bot.runtime.app import build_app
from tests.conftest import make_settings
from tests.wecomapi import AES_KEY, AGENT_ID, CORP_ID, TOKEN, Call, FakeWeCom

USER = "LiNa"


def wecom_settings(db_url: str, fake: FakeWeCom, **extra: object) -> Settings:
    return make_settings(db_url, platform="wecom", wecom_corp_id=CORP_ID, wecom_agent_id=AGENT_ID,
                         wecom_secret=fake.secret, wecom_token=TOKEN, wecom_aes_key=AES_KEY,
                         wecom_host="127.0.0.1", wecom_port=1, wecom_api_base_url=fake.base_url,
                         **extra)


@asynccontextmanager
async def serving(db_url: str, fake: FakeWeCom) -> AsyncIterator[WeComBot]:
    """The callback server on 127.0.0.1 (a free port), without scheduled pushes."""
    settings = wecom_settings(db_url, fake)
    bot_app = build_app(settings)
    asgi, bot = build_asgi(bot_app, wecom_api(settings))
    server = uvicorn.Server(uvicorn.Config(asgi, host="127.0.0.1", port=0, log_level="warning",
                                           lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    fake.callback_url = f"http://127.0.0.1:{port}{settings.wecom_path}"
    try:
        yield bot
    finally:
        server.should_exit = True
        await task
        await bot_app.close()


def numbered_choice(text: str, label: str) -> str | None:
    """The selector a numbered text shows for ``label`` (``[2] 自学``, ``[3]`` for a list's 3)."""
    found = re.search(rf"^\[([^\]]+)\] {re.escape(label)}$", text, re.MULTILINE)
    if found is None and re.search(rf"^\[{re.escape(label)}\]$", text, re.MULTILINE):
        return label
    return found.group(1) if found else None


async def choose(fake: FakeWeCom, label: str, user: str = USER) -> list[Call]:
    """Press ``label`` on the newest message offering choices: a card's button, or its selector
    typed."""
    for call in reversed(fake.sent_to(user)):
        if label in call.labels():
            return await fake.press(user, label)
        selector = numbered_choice(call.text, label)
        if selector is not None:
            return await fake.say(user, selector)
    raise AssertionError(f"no choice {label!r} offered to {user}")


def texts(calls: list[Call]) -> str:
    return "\n".join(c.text for c in calls)


async def join(fake: FakeWeCom, code: str, user: str = USER, name: str = "李娜") -> None:
    """``/join`` as ``user``: the roster carries this WeCom userid (the ``branch`` fixture), so it
    binds at once."""
    calls = await fake.say(user, f"/join {code}")
    assert f"{name}，你已加入“机关第一党支部”：你的企业微信账号与支部名册登记的一致" in texts(calls)
