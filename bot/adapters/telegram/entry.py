"""Telegram as a platform of ``BRANCHBOT_PLATFORMS``."""

from bot.adapters.telegram import PLATFORM
from bot.adapters.telegram.run import TelegramAdapter, refusal
from bot.runtime.platforms import Platform, unset

ENTRY = Platform(PLATFORM, missing=lambda settings: unset(settings, "telegram_token"),
                 build=TelegramAdapter, refusal=refusal)
