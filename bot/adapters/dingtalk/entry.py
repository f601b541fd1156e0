"""DingTalk as a platform of ``BRANCHBOT_PLATFORMS``."""

from bot.adapters.dingtalk import PLATFORM
from bot.adapters.dingtalk.run import DingTalkAdapter, missing_settings
from bot.runtime.platforms import Platform

ENTRY = Platform(PLATFORM, missing=missing_settings, build=DingTalkAdapter)
