"""The outbox's way out on Feishu: passing failures (limits, busy server, network) told from
final ones (no such user, the bot not in the group, bad content)."""

from __future__ import annotations

import httpx

from bot.adapters.feishu import PLATFORM
from bot.adapters.feishu.api import FeishuError
from bot.adapters.feishu.bot import FeishuBot
from bot.adapters.feishu.messages import MessageTooLarge
from bot.runtime.delivery import Limits, PermanentFailure, TemporaryFailure
from handlers.core.events import Reply

# Feishu: 5 a second to one user and to one group, 50 a second for the app (the API client keeps
# them exactly, ``rate_limit.FeishuLimiter``); the outbox stays well inside: a member's pushes a
# second apart, a group's 20 a minute, 20 a second in all.
FEISHU_LIMITS = Limits(per_second=20, per_chat_second=1, per_group_minute=20)


class FeishuSender:
    platform = PLATFORM

    def __init__(self, bot: FeishuBot) -> None:
        self.bot = bot

    async def send(self, chat_id: str, reply: Reply) -> None:
        try:
            await self.bot.deliver(chat_id, reply)
        except FeishuError as error:
            if error.temporary:
                raise TemporaryFailure(str(error), retry_after=error.retry_after) from error
            raise PermanentFailure(str(error)) from error
        except MessageTooLarge as error:
            raise PermanentFailure(str(error)) from error
        except httpx.HTTPError as error:
            raise TemporaryFailure(f"{type(error).__name__}: {error}") from error
