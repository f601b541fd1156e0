"""The AI bot's settings, from the environment and `.env` like ``bot.config.Settings``:
``BRANCHBOT_WECOM_BOT_ID``, ``BRANCHBOT_WECOM_BOT_SECRET``, ``BRANCHBOT_WECOM_BOT_WS_URL``
(a test or a private deployment points the long connection elsewhere) and
``BRANCHBOT_WECOM_BOT_NAME`` (the bot's display name, to strip "@name" from group messages).

Kept beside the transport until the adapter joins the core; then these fields move into
``bot.config.Settings``.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.adapters.wecom_bot.connection import AiBotConnection
from bot.adapters.wecom_bot.wire import DEFAULT_WS_URL


class AiBotSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BRANCHBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore",
        env_ignore_empty=True,
    )

    wecom_bot_id: str | None = None
    wecom_bot_secret: str | None = None
    wecom_bot_ws_url: str = DEFAULT_WS_URL
    wecom_bot_name: str | None = None

    def connection(self) -> AiBotConnection:
        """The connection these settings describe (``InvalidURI`` for a URL not ws(s)://)."""
        if not self.wecom_bot_id or not self.wecom_bot_secret:
            raise ValueError("set BRANCHBOT_WECOM_BOT_ID and BRANCHBOT_WECOM_BOT_SECRET")
        return AiBotConnection(self.wecom_bot_id, self.wecom_bot_secret, self.wecom_bot_ws_url,
                               bot_name=self.wecom_bot_name)
