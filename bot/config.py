"""All configuration in one place: environment variables with the BRANCHBOT_ prefix, or `.env`."""

from __future__ import annotations

from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from handlers.core.i18n import CATALOGUES


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BRANCHBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore",
        env_ignore_empty=True,
    )

    database_url: str = "sqlite+aiosqlite:///branchbot.db"
    platform: str = "telegram"  # one platform; or several in BRANCHBOT_PLATFORMS
    platforms: str | None = None  # "wecom,wecom_bot": each adapter in this one process
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
    wecom_api_base_url: str = "https://qyapi.weixin.qq.com/cgi-bin"  # 政务微信: its own host
    # WeCom 智能机器人 (AI bot) over its long connection, issue 16
    wecom_bot_id: str | None = None
    wecom_bot_secret: str | None = None
    wecom_bot_ws_url: str = Field(default="wss://openws.work.weixin.qq.com",
                                  pattern=r"^wss?://[^\s/]+")
    wecom_bot_name: str | None = None  # its display name, to strip "@name" in groups
    # DingTalk (钉钉企业内部应用机器人, Stream mode), issue 17; checked by the adapter at start
    dingtalk_client_id: str | None = None  # AppKey
    dingtalk_client_secret: str | None = None  # AppSecret
    dingtalk_robot_code: str | None = None
    dingtalk_api_base_url: str = "https://api.dingtalk.com"
    dingtalk_oapi_base_url: str = "https://oapi.dingtalk.com"
    dingtalk_card_template_id: str | None = None
    # Feishu / Lark (飞书自建应用机器人), issue 17; checked by the adapter at start
    feishu_app_id: str | None = None
    feishu_app_secret: str | None = None
    feishu_verification_token: str | None = None
    feishu_encrypt_key: str | None = None
    feishu_api_base_url: str = "https://open.feishu.cn"
    feishu_event_mode: Literal["ws", "http"] = "ws"
    feishu_host: str = "127.0.0.1"
    feishu_port: int = Field(default=8090, ge=1, le=65535)
    feishu_path: str = Field(default="/feishu/events", pattern=r"^/[A-Za-z0-9_./-]*$")

    @field_validator("platform")
    @classmethod
    def _known_platform(cls, value: str) -> str:
        return _platform_name(value)

    @field_validator("platforms")
    @classmethod
    def _known_platforms(cls, value: str | None) -> str | None:
        if value is None:
            return None
        names = [name.strip() for name in value.split(",") if name.strip()]
        if not names:
            return None
        if len(set(names)) != len(names):
            raise ValueError("a platform is named twice")
        if "console" in names and len(names) > 1:
            raise ValueError("console runs alone (it is this terminal)")
        return ",".join(_platform_name(name) for name in names)

    @property
    def platform_names(self) -> tuple[str, ...]:
        """The platforms this process runs, in the order given (BRANCHBOT_PLATFORMS, else
        BRANCHBOT_PLATFORM)."""
        return tuple(self.platforms.split(",")) if self.platforms else (self.platform,)

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


def _platform_name(name: str) -> str:
    """``console`` or a platform with an adapter entry (``bot/adapters/<name>/entry.py``)."""
    if name == "console" or (name.isidentifier() and find_spec(f"bot.adapters.{name}") is not None
                             and find_spec(f"bot.adapters.{name}.entry") is not None):
        return name
    raise ValueError(f"no adapter for platform {name!r}")


class SettingsError(ValueError):
    """A bad setting, said in one line that names its variable."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name, self.reason = name, reason


def first_error(error: ValidationError, prefix: str) -> SettingsError:
    """The first problem of a validation, named by its variable (``BRANCHBOT_X_Y``)."""
    first = error.errors()[0]
    where = "_".join(str(part) for part in first["loc"]).upper()
    return SettingsError(f"{prefix}{where}" if where else f"{prefix}*", first["msg"])


@lru_cache
def get_settings() -> Settings:
    return Settings()
