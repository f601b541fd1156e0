"""The outbox's way out on DingTalk: passing failures (throttled, busy, network) told from final
ones (a member out of the app's range, the robot not in the group, bad content)."""

from __future__ import annotations

import httpx

from bot.adapters.dingtalk import PLATFORM
from bot.adapters.dingtalk.api import DingTalkError, RateLimited
from bot.adapters.dingtalk.bot import DingTalkBot
from bot.runtime.delivery import Limits, PermanentFailure, TemporaryFailure
from handlers.core.events import Reply

# The API client keeps DingTalk's limits (``limits.RobotLimits``: 20 a minute per group, 60 per
# member, 20 a second for the app); the outbox's pushes go a second apart per member, 20 a minute
# per group.
DINGTALK_LIMITS = Limits(per_second=20, per_chat_second=1, per_group_minute=20, margin=1.0)


class DingTalkSender:
    platform = PLATFORM

    def __init__(self, bot: DingTalkBot) -> None:
        self.bot = bot

    async def send(self, chat_id: str, reply: Reply) -> None:
        try:
            await self.bot.deliver(chat_id, reply)
        except RateLimited as error:
            raise TemporaryFailure(str(error), retry_after=error.retry_after) from error
        except DingTalkError as error:
            if error.temporary:
                raise TemporaryFailure(str(error)) from error
            raise PermanentFailure(str(error)) from error
        except httpx.HTTPError as error:
            raise TemporaryFailure(f"{type(error).__name__}: {error}") from error
