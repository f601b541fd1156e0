"""The DingTalk keys, read from BRANCHBOT_DINGTALK_* (or `.env`); to be folded into
``bot.config.Settings`` when the adapter joins the core."""

from __future__ import annotations

from pydantic import Field, HttpUrl
from pydantic_settings import BaseSettings, SettingsConfigDict


class DingTalkConfig(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BRANCHBOT_DINGTALK_", env_file=".env", env_file_encoding="utf-8",
        extra="ignore", env_ignore_empty=True,
    )

    client_id: str = Field(min_length=1, max_length=128)  # the app's AppKey
    client_secret: str = Field(min_length=1, max_length=256)  # the app's AppSecret
    robot_code: str = Field(min_length=1, max_length=128)  # the robot's code (for an internal app: its AppKey)
    api_base_url: HttpUrl = HttpUrl("https://api.dingtalk.com")  # gateway connections/open and the OpenAPI
    oapi_base_url: HttpUrl = HttpUrl("https://oapi.dingtalk.com")  # the old API (media/upload)
    card_template_id: str | None = None  # an interactive card template made in 卡片平台; none: ActionCards

    @property
    def api(self) -> str:
        return str(self.api_base_url).rstrip("/")

    @property
    def oapi(self) -> str:
        return str(self.oapi_base_url).rstrip("/")
