"""The WeCom AI bot (智能机器人) as a platform of ``BRANCHBOT_PLATFORMS``."""

from bot.adapters.wecom_bot import PLATFORM
from bot.adapters.wecom_bot.run import REQUIRED, WeComAiBotAdapter
from bot.runtime.platforms import Platform, unset

ENTRY = Platform(PLATFORM, missing=lambda settings: unset(settings, *REQUIRED),
                 build=WeComAiBotAdapter)
