"""政务微信 (and any private WeCom deployment): the WeCom app adapter against its own API host
and path prefix (BRANCHBOT_WECOM_API_BASE_URL), here the fake WeCom answering only to another
host name under another path: a dialog, a card press and a group robot push all go there."""

from __future__ import annotations

from datetime import timedelta

from bot.adapters.wecom import PLATFORM
from bot.adapters.wecom.api import WeComApi
from bot.adapters.wecom.bot import WeComBot, robot_chat_id
from bot.adapters.wecom.sender import WECOM_LIMITS, WeComSender
from bot.runtime.app import build_app
from bot.runtime.pushes import Pushes
from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.db import session_factory
from storage.models import ShuxueSchedule, StudyRecord
from storage.repositories.orgs import OrgRepository
from storage.types import utcnow
from tests.conftest import Branch
from tests.telegram_support import scalar_count
from tests.wecom_support import USER, choose, join, serving, texts, wecom_settings
from tests.wecomapi import AGENT_ID, CORP_ID, SECRET, FakeWeCom

GOV_HOST, GOV_PREFIX = "localhost", "/zwwx/api/cgi-bin"


async def test_a_dialog_and_a_push_on_a_government_wecom(db_url: str, branch: Branch) -> None:
    async with FakeWeCom(host=GOV_HOST, prefix=GOV_PREFIX) as gov:
        assert gov.base_url.startswith(f"http://{GOV_HOST}:") and gov.base_url.endswith(GOV_PREFIX)
        async with serving(db_url, gov):
            await join(gov, branch.org.invite_code)
            assert "请选择学习形式" in texts(await gov.say(USER, "/study"))
            await choose(gov, "自学")
            await choose(gov, "今天")
            await choose(gov, "2小时")
            await gov.say(USER, "党章")
            await choose(gov, "跳过")
            assert t("study.saved") in texts(await choose(gov, "✅ 确认"))
        assert {c.method for c in gov.calls} >= {"message/send", "message/update_template_card"}
        assert all(c.errcode == 0 for c in gov.calls)
        assert await scalar_count(db_url, StudyRecord, StudyRecord.minutes == 120) == 1

        bot_app = build_app(wecom_settings(db_url, gov, quiet_hours="00:00-00:00"))
        local = (utcnow() - timedelta(minutes=30)).astimezone(bot_app.settings.tz)
        api = WeComApi(gov.base_url, CORP_ID, SECRET, AGENT_ID)
        try:
            async with session_factory(bot_app.engine)() as session, session.begin():
                session.add(ShuxueSchedule(org_id=branch.org.id, weekday=local.weekday(),
                                           time=f"{local.hour:02d}:{local.minute:02d}",
                                           every_weeks=1, remind_after_days=6,
                                           remind_time="23:59"))
                await OrgRepository(session).set_group_webhook(
                    branch.org.id, platform=PLATFORM, chat_id=robot_chat_id(branch.org.id),
                    webhook_url=gov.robot_url("gov-robot"), by_member_id=branch.secretary.id)
            pushes = Pushes(bot_app, (WeComSender(WeComBot(bot_app.core, api)), WECOM_LIMITS))
            await pushes.tick()
            await pushes.deliverers[0].drain()
            (prompt,) = gov.robot_messages("gov-robot")
            assert prompt.startswith("📣 本周述学")
        finally:
            await api.close()
            await bot_app.close()


async def test_the_official_host_is_not_used_by_mistake() -> None:
    """The same fake answers nothing sent to 127.0.0.1 or to /cgi-bin: a bot that ignored the
    setting would fail here."""
    async with FakeWeCom(host=GOV_HOST, prefix=GOV_PREFIX) as gov:
        wrong = WeComApi(gov.base_url.replace(GOV_HOST, "127.0.0.1"), CORP_ID, SECRET, AGENT_ID)
        wrong_path = WeComApi(gov.base_url.replace(GOV_PREFIX, "/cgi-bin"), CORP_ID, SECRET,
                              AGENT_ID)
        right = WeComApi(gov.base_url, CORP_ID, SECRET, AGENT_ID)
        try:
            for api in (wrong, wrong_path):
                try:
                    await api.token()
                except Exception as error:  # refused: 421 or 404
                    assert "421" in str(error) or "404" in str(error), error
                else:
                    raise AssertionError("the fake answered the wrong address")
            assert await right.token()
        finally:
            for api in (wrong, wrong_path, right):
                await api.close()
