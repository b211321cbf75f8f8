"""Settings from the environment (prefix SEND_), with development defaults that refuse to run elsewhere."""

from __future__ import annotations

import base64
import datetime as dt
import os
import time
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
    public_url: str = ""  # empty: http://localhost:<SEND_API_PORT>, where make run serves it
    keep_received_mail: bool = True
    codec_cors_origins: str = ""  # empty: the Temporal UI that make run starts (SEND_TEMPORAL_UI_PORT)
    max_body_bytes: int = 3 * 1024 * 1024  # any request body; the register's CSV import is at most 2 MB
    # Bench only (bench/scale.py sets it for its own worker): the time of day in England at which
    # reminders go out instead of 08:00, so the scale bench's morning burst falls due minutes after it
    # opens its cases on a dev server that runs on the real clock. Refused in production. Read by
    # workflows/deadlines.remind_at() from the environment (a workflow module imports no settings).
    bench_remind_at: dt.time | None = None
    # Action links (parents and agencies answer from their email): the signing key, 32+ bytes base64;
    # empty in development: one generated into var/link.key. Production refuses to start without one.
    link_key: str = ""
    link_days: dict[str, float] = {}  # a purpose's days before its links expire ({"give-views": 14})
    link_bad_attempts: int = 10  # refused links one client may open in the window, then 429
    link_bad_window_seconds: int = 600
    upload_max_bytes: int = 2 * 1024 * 1024  # one uploaded file (advice, a report); below max_body_bytes
    upload_types: str = "pdf,docx,png,jpeg"  # what an upload may be, sniffed from its bytes

    @model_validator(mode="after")
    def _no_default_secrets_in_production(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'send.db'}"
        if not self.public_url:
            self.public_url = f"http://localhost:{self.api_port}"
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
        if self.environment == "production" and self.bench_remind_at is not None:
            raise ValueError("SEND_BENCH_REMIND_AT is for the scale bench only: refused in production")
        if self.environment != "development" and not self.link_key:
            raise ValueError("SEND_LINK_KEY must be set outside development (it signs the emailed links)")
        if self.link_key and len(_b64(self.link_key)) < 32:
            raise ValueError("SEND_LINK_KEY must be at least 32 bytes, base64-encoded")
        if self.upload_max_bytes >= self.max_body_bytes:
            raise ValueError("SEND_UPLOAD_MAX_BYTES must be below SEND_MAX_BODY_BYTES")
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
    def link_key_bytes(self) -> bytes:
        """The key that signs action links; in development without SEND_LINK_KEY, var/link.key (made once)."""
        if self.link_key:
            return _b64(self.link_key)
        path = private_var_dir(self) / "link.key"
        try:  # made once, by whichever process needs it first (the API and the worker share it)
            made = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(made, "w") as out:
                out.write(base64.b64encode(os.urandom(32)).decode())
        for _ in range(100):  # another process may have made it an instant ago and be writing it
            if key := _b64(path.read_text().strip()):
                return key
            time.sleep(0.01)
        raise ValueError(f"{path} holds no key: delete it, and one is made again")

    @property
    def temporal_ui_url(self) -> str:
        """The Temporal UI's own loopback address (the dev server binds it to the Temporal host)."""
        host = self.temporal_address.rsplit(":", 1)[0]
        return f"http://{host}:{self.temporal_ui_port}"

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure whenever the public URL is https."""
        return self.public_url.startswith("https://")


def _b64(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        return b""


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
