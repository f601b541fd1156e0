"""Shared pieces for end-to-end tests through the loopback Bot API server."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import func, select
from telegram.ext import Application

from bot.adapters.telegram.run import build_application
from bot.config import Settings
from bot.runtime.app import build_app
from handlers.core.i18n import DEFAULT_TEXTS as t
from storage.db import session_factory
from tests.botapi import Call, FakeBotApi
from tests.conftest import make_settings

USER = 1001


def telegram_settings(db_url: str, api: FakeBotApi, **extra: object) -> Settings:
    return make_settings(db_url, platform="telegram", telegram_token=api.token,
                         telegram_base_url=api.base_url, telegram_base_file_url=api.base_file_url,
                         **extra)


async def start_polling(db_url: str, api: FakeBotApi) -> Application:
    """Our Telegram adapter polling ``api``, without scheduled pushes (they would depend on the
    day and hour the suite runs)."""
    application = build_application(build_app(telegram_settings(db_url, api)))
    await application.initialize()
    await application.start()
    await application.updater.start_polling(poll_interval=0, timeout=5)
    return application


async def stop(application: Application) -> None:
    if application.updater.running:
        await application.updater.stop()
    await application.stop()
    await application.shutdown()


async def scalar_count(db_url: str, model: type, *where: object) -> int:
    bot_app = build_app(make_settings(db_url))
    try:
        async with session_factory(bot_app.engine)() as session:
            return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0
    finally:
        await bot_app.close()


async def join(api: FakeBotApi, code: str, user: int = USER, name: str = "李娜",
               username: str | None = None) -> None:
    """Open the invite link as ``name``: the roster carries this Telegram account (the ``branch``
    fixture: 李娜's id, the secretary's ``username``), so it binds at once."""
    calls = await api.say(user, f"/start {code}", first_name=name, username=username)
    assert f"{name}，你已加入“机关第一党支部”：你的Telegram账号与支部名册登记的一致" in texts(calls)


def texts(calls: list[Call]) -> str:
    return "\n".join(c.text or "" for c in calls)


async def polling_bot(db_url: str, api: FakeBotApi) -> AsyncIterator[Application]:
    application = await start_polling(db_url, api)
    yield application
    await stop(application)


async def report_problem_on_a_visit(api: FakeBotApi) -> None:
    """As ``USER``: log a visit and, found there, a problem (需上级协调, owned by 李娜, two weeks)."""
    await api.say(USER, "/visit")
    await api.press(USER, "走访")
    await api.press(USER, "昨天")
    for text in ("城南街道", "街道办和两家企业", "企业反映用工难", "1", "优化营商环境"):
        await api.say(USER, text)
    calls = await api.press(USER, "✅ 确认")
    assert t("visit.ask_found") in texts(calls)
    await api.press(USER, t("visit.found_yes"))
    await api.say(USER, "企业招工信息发布渠道少")
    await api.press(USER, "调研")
    await api.press(USER, "需上级协调")
    await api.press(USER, "我本人（李娜）")
    await api.press(USER, "两周内")
    await api.say(USER, "联系人社部门举办专场招聘会")
    calls = await api.press(USER, "✅ 确认")
    assert t("problem.saved") in texts(calls)
