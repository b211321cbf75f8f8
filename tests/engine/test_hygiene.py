"""Hygiene: var/ is the owner's only, a production engine never seeds the demo school, a bad key is never
echoed."""

from __future__ import annotations

import base64
import os
import secrets

import pytest
from pydantic import ValidationError

from engine.cli import main as cli
from infra.settings import Settings, get_settings, private_var_dir


def test_var_and_what_the_engine_writes_there_are_the_owners_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    before = os.umask(0o022)
    try:
        var = private_var_dir(Settings(var_dir=tmp_path / "var"))
        written = var / "send.db"
        written.write_text("x")
        (var / "logs").mkdir()
    finally:
        os.umask(before)
    assert var.stat().st_mode & 0o777 == 0o700
    assert written.stat().st_mode & 0o777 == 0o600
    assert (var / "logs").stat().st_mode & 0o777 == 0o700


def test_a_malformed_codec_key_is_refused_without_being_echoed() -> None:
    for key in ("not-base64-but-secret!", base64.b64encode(b"short-secret").decode()):
        with pytest.raises(ValidationError) as refused:
            Settings(codec_key=key)
        assert "SEND_CODEC_KEY must be 32 bytes" in str(refused.value)
        assert key not in str(refused.value) and "secret" not in str(refused.value)


def test_seed_demo_is_refused_in_production(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SEND_ENVIRONMENT", "production")
    monkeypatch.setenv("SEND_CODEC_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    monkeypatch.setenv("SEND_LINK_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    monkeypatch.setenv("SEND_PUBLIC_URL", "https://send.school.example")
    get_settings.cache_clear()
    try:
        assert cli(["seed-demo"]) == 2
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert "development only" in capsys.readouterr().err
