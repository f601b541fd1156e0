"""All configuration in one place: environment variables with the BRANCHBOT_ prefix, or `.env`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from handlers.core.i18n import CATALOGUES


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BRANCHBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore",
        env_ignore_empty=True,
    )

    database_url: str = "sqlite+aiosqlite:///branchbot.db"
    platform: Literal["telegram", "console", "wecom"] = "telegram"
    telegram_token: str | None = None
    telegram_bot_username: str | None = None  # for invite links; found by getMe when running
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,256}$")
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = Field(default=8443, ge=1, le=65535)
    timezone: str = "Asia/Shanghai"
    dialog_timeout_minutes: int = Field(default=30, ge=1, le=24 * 60)
    language: str = "zh_CN"
    pushes_enabled: bool = True  # scheduled prompts and nudges; off for a worker that only answers
    quiet_hours: str = Field(default="22:00-08:00", pattern=r"^\d{1,2}:\d{2}-\d{1,2}:\d{2}$")
    grace_hours: float = Field(default=6, ge=0, le=72)
    outbox_retention_days: int = Field(default=90, ge=1, le=3650)  # sent and failed pushes kept
    nudge_time: str = Field(default="09:00", pattern=r"^\d{1,2}:\d{2}$")
    study_target_hours: int = Field(default=32, ge=0, le=1000)
    # The office's own .docx for the stage summary (handlers/reports/documents/TEMPLATES.md);
    # unset: the template shipped with the bot.
    report_template: Path | None = None
    # WeCom (企业微信自建应用), issue 6
    wecom_corp_id: str | None = None
    wecom_agent_id: int | None = None
    wecom_secret: str | None = None
    wecom_token: str | None = None
    wecom_aes_key: str | None = Field(default=None, pattern=r"^[A-Za-z0-9+/]{43}$")
    wecom_host: str = "127.0.0.1"
    wecom_port: int = Field(default=8080, ge=1, le=65535)
    wecom_path: str = Field(default="/wecom/callback", pattern=r"^/[A-Za-z0-9_./-]*$")
    wecom_api_base_url: str = "https://qyapi.weixin.qq.com/cgi-bin"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}, e.g. Asia/Shanghai") from error
        return value

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in CATALOGUES:
            raise ValueError(f"no texts in {value!r}; there are: {', '.join(CATALOGUES)}")
        return value

    @field_validator("report_template")
    @classmethod
    def _template_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value} (BRANCHBOT_REPORT_TEMPLATE, the office's .docx)")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@lru_cache
def get_settings() -> Settings:
    return Settings()
