"""Settings from the environment (prefix SEND_), with development defaults that refuse to run elsewhere."""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"

# Development-only codec key: 32 zero-padded bytes. Refused outside development.
DEV_CODEC_KEY = base64.b64encode(b"development-only-key-not-secret!").decode()


class Settings(BaseSettings):
    """Every setting of the app; docker-compose.yml and the README name only these."""

    model_config = SettingsConfigDict(env_prefix="SEND_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    var_dir: Path = VAR
    database_url: str = ""  # empty: SQLite under var_dir
    api_port: int = 8000
    temporal_ui_port: int = 8233
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    task_queue: str = "send-cases"
    codec_key: str = DEV_CODEC_KEY
    codec_key_id: str = "dev-1"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "SEND case engine <send-engine@school.invalid>"
    public_url: str = "http://localhost:8000"
    keep_received_mail: bool = True
    codec_cors_origins: str = "http://localhost:8233"

    @model_validator(mode="after")
    def _no_default_secrets_in_production(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'send.db'}"
        if self.environment != "development" and self.codec_key == DEV_CODEC_KEY:
            raise ValueError("SEND_CODEC_KEY must be set to a real key outside development")
        if len(base64.b64decode(self.codec_key)) != 32:
            raise ValueError("SEND_CODEC_KEY must be 32 bytes, base64-encoded")
        return self

    @property
    def codec_key_bytes(self) -> bytes:
        return base64.b64decode(self.codec_key)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings."""
    return Settings()
