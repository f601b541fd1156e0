"""Feishu as a platform of ``BRANCHBOT_PLATFORMS``."""

from bot.adapters.feishu import PLATFORM
from bot.adapters.feishu.run import FeishuAdapter, missing_settings
from bot.runtime.platforms import Platform

ENTRY = Platform(PLATFORM, missing=missing_settings, build=FeishuAdapter)
