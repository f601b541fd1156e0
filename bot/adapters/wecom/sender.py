"""The outbox's way out on WeCom, within WeCom's limits."""

from __future__ import annotations

import httpx

from bot.adapters.wecom import PLATFORM
from bot.adapters.wecom.api import WeComError, failure
from bot.adapters.wecom.bot import ROBOT_PREFIX, WeComBot
from bot.runtime.delivery import Limits
from handlers.core.events import Reply

# A member gets at most 30 messages a minute and 1,000 an hour from an app, a group robot 20 a
# minute; WeCom drops what goes over without a word. The 1 s margin spaces a member's messages
# 2 s apart (so a burst never crowds the minute) and widens every window a little.
WECOM_LIMITS = Limits(per_second=20, per_chat_second=1, per_group_minute=20, margin=1.0,
                      per_chat_minute=30, per_chat_hour=1000)


class WeComSender:
    """The outbox's way out on WeCom: passing failures (rate limits, busy, network) from final
    ones (unknown user, not in the app's visible range, IP not trusted, bad content)."""

    platform = PLATFORM

    def __init__(self, bot: WeComBot) -> None:
        self.bot = bot

    async def send(self, chat_id: str, reply: Reply) -> None:
        try:
            await self.bot.send(chat_id, reply)
        except (WeComError, httpx.HTTPError) as error:
            raise failure(error, app_wide=not chat_id.startswith(ROBOT_PREFIX)) from error
