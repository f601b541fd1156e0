"""Feishu's settings (``BRANCHBOT_FEISHU_*``, or ``.env``), checked once at start.

Kept beside the adapter until the core's ``Settings`` takes them in; the names are those of
issue 17. Every host is configurable so that tests and private deployments point elsewhere.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

FEISHU_BASE_URL = "https://open.feishu.cn"  # Lark (international): https://open.larksuite.com


class FeishuConfigError(Exception):
    """A missing or bad setting, said in one line."""


class FeishuSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BRANCHBOT_FEISHU_", env_file=".env",
                                      env_file_encoding="utf-8", extra="ignore",
                                      env_ignore_empty=True)

    app_id: str = Field(pattern=r"^cli_[A-Za-z0-9]{1,64}$")
    app_secret: str = Field(min_length=1, max_length=256)
    verification_token: str | None = Field(default=None, min_length=1, max_length=256)
    encrypt_key: str | None = Field(default=None, min_length=1, max_length=256)
    api_base_url: str = Field(default=FEISHU_BASE_URL, pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    event_mode: Literal["ws", "http"] = "ws"
    host: str = "127.0.0.1"
    port: int = Field(default=8090, ge=1, le=65535)
    path: str = Field(default="/feishu/events", pattern=r"^/[A-Za-z0-9_./-]*$")

    @model_validator(mode="after")
    def _http_mode_is_signed(self) -> FeishuSettings:
        """HTTP callbacks are only taken encrypted and signed: without an encrypt key Feishu
        sends neither, and anyone who learnt the token could post events."""
        if self.event_mode == "http":
            missing = [name for name in ("verification_token", "encrypt_key")
                       if getattr(self, name) is None]
            if missing:
                names = ", ".join(f"BRANCHBOT_FEISHU_{name.upper()}" for name in missing)
                raise ValueError(f"event mode http needs {names}")
        return self

    @property
    def base_url(self) -> str:
        return self.api_base_url.rstrip("/")


def load_feishu_settings(**overrides: object) -> FeishuSettings:
    """The settings, or ``FeishuConfigError`` naming the first bad variable in one line."""
    try:
        return FeishuSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        where = "_".join(str(part) for part in first["loc"]).upper()
        name = f"BRANCHBOT_FEISHU_{where}" if where else "Feishu settings"
        raise FeishuConfigError(f"{name}: {first['msg']}") from None
