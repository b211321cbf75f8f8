"""Settings from the environment (prefix SEND_), with development defaults that refuse to run elsewhere."""

from __future__ import annotations

import base64
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"

# Where the API serves the Temporal UI of `make run` (the dev server's --ui-public-path), development only.
TEMPORAL_UI_PATH = "/temporal"
# Development-only codec key: 32 zero-padded bytes. Refused outside development.
DEV_CODEC_KEY = base64.b64encode(b"development-only-key-not-secret!").decode()


class Settings(BaseSettings):
    """Every setting of the app; docker-compose.yml and the README name only these."""

    # A refused setting is never echoed (keys and passwords would be): only what is wrong with it.
    model_config = SettingsConfigDict(env_prefix="SEND_", extra="ignore", hide_input_in_errors=True)

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
    codec_old_keys: str = ""  # earlier keys that still decrypt: "id:base64key,id:base64key"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "SEND case engine <send-engine@school.invalid>"
    public_url: str = "http://localhost:8000"
    keep_received_mail: bool = True
    codec_cors_origins: str = ""  # empty: the Temporal UI that make run starts (SEND_TEMPORAL_UI_PORT)
    max_body_bytes: int = 3 * 1024 * 1024  # any request body; the register's CSV import is at most 2 MB

    @model_validator(mode="after")
    def _no_default_secrets_in_production(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'send.db'}"
        if self.environment != "development" and self.codec_key == DEV_CODEC_KEY:
            raise ValueError("SEND_CODEC_KEY must be set to a real key outside development")
        try:
            key = base64.b64decode(self.codec_key, validate=True)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise ValueError("SEND_CODEC_KEY must be 32 bytes, base64-encoded")
        self.codec_old_key_bytes  # noqa: B018  (refuse a malformed list now, not at the first payload)
        if not self.codec_cors_origins:
            port = self.temporal_ui_port
            self.codec_cors_origins = f"http://localhost:{port},http://127.0.0.1:{port}"
        if self.environment == "production" and not self.public_url.startswith("https://"):
            raise ValueError("SEND_PUBLIC_URL must be an https:// address in production (sign-in cookies)")
        return self

    @property
    def codec_key_bytes(self) -> bytes:
        return base64.b64decode(self.codec_key)

    @property
    def codec_old_key_bytes(self) -> dict[str, bytes]:
        """SEND_CODEC_OLD_KEYS as {key id: key}; each must be 32 bytes and differ from the current id."""
        keys: dict[str, bytes] = {}
        for item in filter(None, (part.strip() for part in self.codec_old_keys.split(","))):
            key_id, _, encoded = item.partition(":")
            try:
                key = base64.b64decode(encoded, validate=True)
            except ValueError:
                key = b""
            if not key_id or len(key) != 32 or key_id == self.codec_key_id:
                raise ValueError(
                    "SEND_CODEC_OLD_KEYS must be id:key pairs (each key 32 bytes, base64), "
                    "separated by commas, none with the current key id"
                )
            keys[key_id] = key
        return keys

    @property
    def temporal_ui_url(self) -> str:
        """The Temporal UI's own loopback address (the dev server binds it to the Temporal host)."""
        host = self.temporal_address.rsplit(":", 1)[0]
        return f"http://{host}:{self.temporal_ui_port}"

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure whenever the public URL is https."""
        return self.public_url.startswith("https://")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings."""
    return Settings()


def private_var_dir(settings: Settings) -> Path:
    """The var directory, readable by its owner only, as is every file the engine makes from now on."""
    os.umask(0o077)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    settings.var_dir.chmod(0o700)
    return settings.var_dir
