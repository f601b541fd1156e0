"""Pushes on WeCom: the weekly prompt to a branch's group robot, messages to members through the
app, and WeCom's errors sorted into "try again" and "give up"; the access token's life."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.adapters.wecom import PLATFORM
from bot.adapters.wecom.api import WeComApi, WeComError
from bot.adapters.wecom.bot import WeComBot, robot_chat_id
from bot.adapters.wecom.sender import WECOM_LIMITS, WeComSender
from bot.runtime.app import build_app
from bot.runtime.delivery import PermanentFailure, TemporaryFailure
from bot.runtime.pushes import Pushes
from handlers.core.events import Button, Reply
from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.db import session_factory
from storage.models import OutboxMessage, OutboxStatus, ShuxueSchedule
from storage.repositories.orgs import OrgRepository
from storage.repositories.outbox import OutboxRepository, Planned
from storage.types import utcnow
from tests.conftest import Branch
from tests.wecom_support import wecom_settings
from tests.wecomapi import AGENT_ID, CORP_ID, SECRET, FakeWeCom

ROBOT_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


@pytest.fixture
async def api(fake: FakeWeCom) -> AsyncIterator[WeComApi]:
    client = WeComApi(fake.base_url, CORP_ID, SECRET, AGENT_ID)
    yield client
    await client.close()


async def statuses(pushes: Pushes) -> dict[str, tuple[OutboxStatus, str | None]]:
    async with pushes.app.core.sessions() as session:
        return {m.chat_id: (m.status, m.last_error and m.last_error.split(":")[0])
                for m in await session.scalars(select(OutboxMessage))}


async def test_the_weekly_prompt_reaches_the_group_robot(fake: FakeWeCom, api: WeComApi,
                                                         branch: Branch, db_url: str) -> None:
    bot_app = build_app(wecom_settings(db_url, fake, quiet_hours="00:00-00:00"))
    local = (utcnow() - timedelta(minutes=30)).astimezone(bot_app.settings.tz)
    async with session_factory(bot_app.engine)() as session, session.begin():
        session.add(ShuxueSchedule(org_id=branch.org.id, weekday=local.weekday(),
                                   time=f"{local.hour:02d}:{local.minute:02d}", every_weeks=1,
                                   remind_after_days=6, remind_time="23:59"))
        await OrgRepository(session).set_group_webhook(
            branch.org.id, platform=PLATFORM, chat_id=robot_chat_id(branch.org.id),
            webhook_url=fake.robot_url(ROBOT_KEY), by_member_id=branch.secretary.id)
    pushes = Pushes(bot_app, (WeComSender(WeComBot(bot_app.core, api)), WECOM_LIMITS))
    try:
        assert (await pushes.tick()).added == 1
        assert await pushes.deliverers[0].drain() == 1
        (prompt,) = fake.robot_messages(ROBOT_KEY)
        assert prompt.startswith("📣 本周述学")
        assert t("wecom.robot_start", label=t("push.shuxue_button"), command="/start shuxue") in prompt
        assert await statuses(pushes) == {robot_chat_id(branch.org.id): (OutboxStatus.sent, None)}
        assert (await pushes.tick()).added == 0  # planned once, sent once
    finally:
        await bot_app.close()


async def test_members_by_the_app_and_errors_by_their_code(fake: FakeWeCom, api: WeComApi,
                                                           branch: Branch, db_url: str) -> None:
    bot_app = build_app(wecom_settings(db_url, fake))
    now = utcnow()
    button = [[{"label": t("push.shuxue_button"), "start": "shuxue"}]]
    robot = robot_chat_id(branch.org.id)
    async with session_factory(bot_app.engine)() as session, session.begin():
        await OrgRepository(session).set_group_webhook(
            branch.org.id, platform=PLATFORM, chat_id=robot_chat_id(branch.org.id),
            webhook_url=fake.robot_url(ROBOT_KEY), by_member_id=branch.secretary.id)
        await OutboxRepository(session).enqueue([
            Planned("remind:LiNa", "shuxue_remind", "wecom", "LiNa",
                    {"text": "本期述学还没有填写", "buttons": button}, now),
            Planned("remind:gone", "shuxue_remind", "wecom", "gone-user", {"text": "x"}, now),
            Planned("prompt:group", "shuxue_prompt", "wecom", robot, {"text": "述学开始了"}, now,
                    is_group=True),
            Planned("prompt:unbound", "shuxue_prompt", "wecom", "robot:999", {"text": "y"}, now,
                    is_group=True),
        ])
    fake.fail_next("webhook/send", 45009)  # the robot's 20 a minute, used up elsewhere
    pushes = Pushes(bot_app, (WeComSender(WeComBot(bot_app.core, api)), WECOM_LIMITS))
    try:
        await pushes.deliverers[0].drain()
        assert fake.last_card("LiNa").keys == {t("push.shuxue_button"): "/start shuxue"}
        assert await statuses(pushes) == {
            "LiNa": (OutboxStatus.sent, None),
            # 81013: not in the app's visible range
            "gone-user": (OutboxStatus.failed, "WeCom errcode 81013"),
            robot: (OutboxStatus.pending, "WeCom errcode 45009"),  # rate limited: again later
            "robot:999": (OutboxStatus.failed, "no robot webhook for robot"),
        }
    finally:
        await bot_app.close()


async def test_the_token_is_cached_and_renewed(fake: FakeWeCom, api: WeComApi) -> None:
    for _ in range(3):
        await api.send({"touser": "LiNa", "msgtype": "text", "text": {"content": "hi"}})
    assert fake.token_fetches == 1
    fake.expire_tokens()  # 42001: expired before its time
    await api.send({"touser": "LiNa", "msgtype": "text", "text": {"content": "hi"}})
    assert fake.token_fetches == 2
    fake.fail_next("message/send", -1)  # system busy: tried again at once
    await api.send({"touser": "LiNa", "msgtype": "text", "text": {"content": "hi"}})
    assert len(fake.sent_to("LiNa")) == 5
    assert [c.errcode for c in fake.calls if c.errcode] == [42001, -1]


@pytest.mark.parametrize(("errcode", "kind"), [
    (45009, TemporaryFailure), (45033, TemporaryFailure), (-1, TemporaryFailure),
    (81013, PermanentFailure), (60020, PermanentFailure), (45002, PermanentFailure),
])
async def test_send_errors_become_outbox_failures(fake: FakeWeCom, api: WeComApi, errcode: int,
                                                  kind: type[Exception]) -> None:
    sender = WeComSender(WeComBot(None, api))  # type: ignore[arg-type]  (no core needed)
    fake.fail_next("message/send", errcode, times=3)
    with pytest.raises(kind) as raised:
        await sender.send("LiNa", Reply("hi", buttons=((Button("a", data="d:1:a"),),)))
    assert isinstance(raised.value.__cause__, WeComError)
    if kind is TemporaryFailure and errcode != -1:
        assert raised.value.retry_after == 60.0  # type: ignore[attr-defined]


async def test_a_wrong_secret_is_reported(fake: FakeWeCom) -> None:
    client = WeComApi(fake.base_url, CORP_ID, "wrong", AGENT_ID)
    try:
        with pytest.raises(WeComError, match="40001"):
            await client.send({"touser": "LiNa", "msgtype": "text", "text": {"content": "hi"}})
    finally:
        await client.close()
