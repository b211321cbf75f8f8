"""docker-compose.yml and the Dockerfile, checked without a Docker engine: services, settings, image."""

from __future__ import annotations

import base64
import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from infra.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")
CONDITIONS = {"service_healthy", "service_started", "service_completed_successfully"}
SAMPLES = {
    "SEND_CODEC_KEY": base64.b64encode(bytes(range(32))).decode(),
    "SEND_LINK_KEY": base64.b64encode(bytes(range(32, 64))).decode(),
    "SEND_PUBLIC_URL": "https://send.school.example",
}


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def environment(service: dict[str, Any]) -> dict[str, Any]:
    """The service's environment as a mapping, from either the map or the list syntax."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return dict(env)


def interpolate(value: Any) -> Any:
    """The value as Compose would see it: defaults used, required variables given a sample value."""
    if not isinstance(value, str):
        return value

    def sub(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        return rest if kind == "-" else SAMPLES.get(name, "sample")

    return INTERPOLATION.sub(sub, value)


def by_image(services: dict[str, dict[str, Any]], prefix: str) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services.items() if str(s.get("image", "")).startswith(prefix)}


def command(service: dict[str, Any]) -> str:
    cmd = service.get("command", "")
    return " ".join(cmd) if isinstance(cmd, list) else cmd


def app_services(services: dict[str, dict[str, Any]]) -> tuple[str, str]:
    (api,) = [n for n, s in services.items() if "uvicorn api.main:app" in command(s)]
    (worker,) = [n for n, s in services.items() if command(s) == "python worker.py"]
    return api, worker


def test_temporal_runs_on_its_own_postgres(services: dict[str, dict[str, Any]]) -> None:
    (temporal,) = by_image(services, "temporalio/auto-setup").values()
    env = environment(temporal)
    assert env["DB"] == "postgres12"
    assert {"DB_PORT", "POSTGRES_USER", "POSTGRES_PWD"} <= set(env)
    database = env["POSTGRES_SEEDS"]
    assert services[database]["image"].startswith("postgres:")
    assert temporal["depends_on"][database]["condition"] == "service_healthy"


def test_ui_points_at_temporal_and_the_codec_endpoint(services: dict[str, dict[str, Any]]) -> None:
    (ui,) = by_image(services, "temporalio/ui").values()
    env = environment(ui)
    (temporal,) = by_image(services, "temporalio/auto-setup")
    assert env["TEMPORAL_ADDRESS"] == f"{temporal}:7233"
    assert env["TEMPORAL_CODEC_ENDPOINT"] == "http://localhost:8000/codec"


def test_api_and_workers_share_the_image_and_the_app_database(services: dict[str, dict[str, Any]]) -> None:
    api_name, worker_name = app_services(services)
    api, worker = services[api_name], services[worker_name]
    assert command(api) == "uvicorn api.main:app --host 0.0.0.0 --port 8000"
    assert any(str(p).endswith("8000:8000") for p in api["ports"])
    assert api["build"] == worker["build"] == "." and api["image"] == worker["image"]
    assert worker["deploy"]["replicas"] > 1
    assert "container_name" not in worker and "ports" not in worker  # both would stop a second replica

    (temporal,) = by_image(services, "temporalio/auto-setup")
    temporal_db = environment(services[temporal])["POSTGRES_SEEDS"]
    for service in (api, worker):
        env = environment(service)
        assert env["SEND_TEMPORAL_ADDRESS"] == f"{temporal}:7233"
        app_db = urlsplit(interpolate(env["SEND_DATABASE_URL"])).hostname
        assert app_db in by_image(services, "postgres:") and app_db != temporal_db
        assert service["depends_on"][temporal]["condition"] == "service_healthy"


def test_every_send_variable_is_a_setting(services: dict[str, dict[str, Any]]) -> None:
    fields = set(Settings.model_fields)
    for name, service in services.items():
        for key in environment(service):
            if key.startswith("SEND_"):
                assert key.removeprefix("SEND_").lower() in fields, f"{name}: {key} is not in Settings"


def test_app_environment_makes_valid_production_settings(services: dict[str, dict[str, Any]]) -> None:
    for name in app_services(services):
        env = environment(services[name])
        assert env["SEND_CODEC_KEY"].startswith("${SEND_CODEC_KEY:?")
        assert {"SEND_SMTP_HOST", "SEND_SMTP_PORT", "SEND_SMTP_USERNAME", "SEND_SMTP_PASSWORD"} <= set(env)
        values = {
            k.removeprefix("SEND_").lower(): interpolate(v)
            for k, v in env.items()
            if k.startswith("SEND_") and v is not None
        }
        settings = Settings(**values)
        assert settings.environment == "production"
        assert settings.database_url.startswith("postgresql://")


def test_dependencies_wait_for_health(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for needed, rule in (service.get("depends_on") or {}).items():
            assert needed in services, f"{name} depends on unknown {needed}"
            assert rule["condition"] in CONDITIONS
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[needed], f"{needed} has no healthcheck"


def test_dockerfile_installs_the_project() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.MULTILINE)
    assert re.search(r"^RUN pip install \.(\s|$)", text, re.MULTILINE)
    assert '"uvicorn", "api.main:app", "--host", "0.0.0.0", "--port", "8000"' in text
    copied = set(re.findall(r"^COPY (.+) \S+$", text, re.MULTILINE))
    sources = {part.rstrip("/") for line in copied for part in line.split()}
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    needed = {p.split(".")[0] for p in setuptools["packages"]} | {f"{m}.py" for m in setuptools["py-modules"]}
    assert needed | {"pyproject.toml"} <= sources, "the image must copy every package pip installs"
