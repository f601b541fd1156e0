"""The file store's settings (``BRANCHBOT_FILES_*``, from the environment or ``.env``).

    BRANCHBOT_FILES_STORE=local | s3        where files are kept (default local)
    BRANCHBOT_FILES_DIR=files               the local store's folder
    BRANCHBOT_FILES_MAX_MB=20               the largest file kept
    BRANCHBOT_FILES_S3_ENDPOINT=https://…   an S3-compatible server (empty: AWS itself)
    BRANCHBOT_FILES_S3_BUCKET, _S3_REGION, _S3_ACCESS_KEY, _S3_SECRET
    BRANCHBOT_FILES_S3_ADDRESSING=path | virtual   (path for MinIO and most self-hosted servers)
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.files.limits import FileLimits
from storage.files.local import LocalStore
from storage.files.s3 import S3Store
from storage.files.store import FileStore


class FileSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BRANCHBOT_FILES_", env_file=".env", env_file_encoding="utf-8", extra="ignore",
        env_ignore_empty=True,
    )

    store: Literal["local", "s3"] = "local"
    dir: Path = Path("files")
    max_mb: float = Field(default=20, gt=0, le=2048)
    s3_endpoint: str | None = Field(default=None, pattern=r"^https?://")
    s3_bucket: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    s3_region: str = "us-east-1"
    s3_access_key: str | None = None
    s3_secret: SecretStr | None = None
    s3_addressing: Literal["path", "virtual"] = "path"

    @model_validator(mode="after")
    def _s3_complete(self) -> FileSettings:
        if self.store == "s3":
            missing = [name for name in ("s3_bucket", "s3_access_key", "s3_secret")
                       if getattr(self, name) is None]
            if missing:
                keys = ", ".join(f"BRANCHBOT_FILES_{name.upper()}" for name in missing)
                raise ValueError(f"BRANCHBOT_FILES_STORE=s3 needs {keys}")
        return self

    @property
    def limits(self) -> FileLimits:
        return FileLimits.default(self.max_mb)


def build_store(settings: FileSettings) -> FileStore:
    if settings.store == "local":
        return LocalStore(settings.dir)
    assert settings.s3_bucket and settings.s3_access_key and settings.s3_secret  # validated
    return S3Store(endpoint=settings.s3_endpoint, bucket=settings.s3_bucket,
                   region=settings.s3_region, access_key=settings.s3_access_key,
                   secret=settings.s3_secret.get_secret_value(),
                   addressing=settings.s3_addressing)
