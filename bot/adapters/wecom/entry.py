"""The WeCom app (企业微信自建应用, or 政务微信 with its own BRANCHBOT_WECOM_API_BASE_URL) as a
platform of ``BRANCHBOT_PLATFORMS``."""

from bot.adapters.wecom import PLATFORM
from bot.adapters.wecom.run import REQUIRED, WeComAdapter
from bot.runtime.platforms import Platform, unset

ENTRY = Platform(PLATFORM, missing=lambda settings: unset(settings, *REQUIRED), build=WeComAdapter)
