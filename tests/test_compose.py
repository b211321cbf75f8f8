"""docker-compose.yml and the Dockerfile, checked without a Docker engine: the file against the Compose
Specification's JSON schema (as `docker compose` checks it, after interpolation), services, settings and
the image."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema_rs
import pytest
import yaml

from infra.settings import Settings
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SPEC = ROOT / "tests" / "fixtures" / "compose-spec"
# $$ (a literal $), ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, $NAME
INTERPOLATION = re.compile(r"\$(?:(\$)|\{(\w+)(?::?([-?])([^}]*))?\}|(\w+))")
CONDITIONS = {"service_healthy", "service_started", "service_completed_successfully"}
SAMPLES = {
    "SEND_CODEC_KEY": base64.b64encode(bytes(range(32))).decode(),
    "SEND_LINK_KEY": base64.b64encode(bytes(range(32, 64))).decode(),
    "SEND_PUBLIC_URL": "https://send.school.example",
}


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


@pytest.fixture(scope="module")
def interpolated() -> dict[str, Any]:
    """The whole file as Compose validates it: YAML anchors merged, every variable interpolated."""
    return interpolate_all(yaml.safe_load(COMPOSE.read_text()))


@pytest.fixture(scope="module")
def spec() -> jsonschema_rs.Validator:
    """The Compose Specification's schema (tests/fixtures/compose-spec/SOURCE says where it comes from)."""
    text = (SPEC / "compose-spec.json").read_bytes()
    source = (SPEC / "SOURCE").read_text()
    assert hashlib.sha256(text).hexdigest() in source, "compose-spec.json is not the file SOURCE names"
    return jsonschema_rs.validator_for(json.loads(text))


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
        dollar, name, kind, rest, bare = match.groups()
        if dollar:
            return "$"
        return rest if kind == "-" else SAMPLES.get(name or bare, "sample")

    return INTERPOLATION.sub(sub, value)


def interpolate_all(node: Any) -> Any:
    """Every string in the document interpolated, as Compose does before it validates the file."""
    if isinstance(node, dict):
        return {key: interpolate_all(value) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate_all(item) for item in node]
    return interpolate(node)


def violations(spec: jsonschema_rs.Validator, document: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in spec.iter_errors(document)]


def by_image(services: dict[str, dict[str, Any]], prefix: str) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services.items() if str(s.get("image", "")).startswith(prefix)}


def command(service: dict[str, Any]) -> str:
    cmd = service.get("command", "")
    return " ".join(cmd) if isinstance(cmd, list) else cmd


def app_services(services: dict[str, dict[str, Any]]) -> tuple[str, str]:
    (api,) = [n for n, s in services.items() if "uvicorn api.main:app" in command(s)]
    (worker,) = [n for n, s in services.items() if command(s) == "python worker.py"]
    return api, worker


def one_shots(services: dict[str, dict[str, Any]], admin_command: str) -> str:
    """The admin-tools service whose command runs the given Temporal command."""
    (name,) = [
        n for n, s in by_image(services, "temporalio/admin-tools").items() if admin_command in command(s)
    ]
    return name


def test_the_file_is_valid_against_the_compose_specification(
    spec: jsonschema_rs.Validator, interpolated: dict[str, Any]
) -> None:
    assert violations(spec, interpolated) == []


BREAKAGES = {
    "an unknown key in a service": lambda d: d["services"]["api"].update(
        helthcheck={"test": ["CMD", "true"]}
    ),
    "a condition depends_on does not have": lambda d: d["services"]["api"]["depends_on"]["migrate"].update(
        condition="service_finished"
    ),
    "a misspelt deploy key": lambda d: d["services"]["worker"]["deploy"].update(replica=2),
    "a healthcheck with an unknown key": lambda d: d["services"]["temporal"]["healthcheck"].update(
        every="5s"
    ),
}


@pytest.mark.parametrize("breakage", BREAKAGES, ids=list(BREAKAGES))
def test_a_broken_copy_of_the_file_fails_validation(
    spec: jsonschema_rs.Validator, interpolated: dict[str, Any], breakage: str
) -> None:
    broken = copy.deepcopy(interpolated)
    BREAKAGES[breakage](broken)
    assert violations(spec, broken), f"{breakage} passed validation: the schema is not being applied"


def test_temporal_runs_on_its_own_postgres(services: dict[str, dict[str, Any]]) -> None:
    (temporal,) = by_image(services, "temporalio/server:").values()
    env = environment(temporal)
    assert env["DB"] == "postgres12"
    assert {"DB_PORT", "POSTGRES_USER", "POSTGRES_PWD"} <= set(env)
    database = env["POSTGRES_SEEDS"]
    assert services[database]["image"].startswith("postgres:")
    assert temporal["depends_on"][database]["condition"] == "service_healthy"


def test_temporal_schema_is_set_up_by_admin_tools_before_the_server_starts(
    services: dict[str, dict[str, Any]], interpolated: dict[str, Any]
) -> None:
    ((server_name, server),) = by_image(services, "temporalio/server:").items()
    schema = one_shots(services, "temporal-sql-tool")
    assert server["depends_on"][schema]["condition"] == "service_completed_successfully"
    assert services[schema]["image"].split(":")[1] == server["image"].split(":")[1]  # the same release
    env = environment(services[schema])
    assert {k: env[k] for k in ("DB", "DB_PORT", "POSTGRES_USER", "POSTGRES_SEEDS")} == {
        k: environment(server)[k] for k in ("DB", "DB_PORT", "POSTGRES_USER", "POSTGRES_SEEDS")
    }
    assert env["SQL_PASSWORD"] == env["POSTGRES_PWD"] == environment(server)["POSTGRES_PWD"]
    script = command(interpolated["services"][schema])
    assert "$$" not in script and "${POSTGRES_SEEDS}" in script  # compose leaves the shell its variables
    for step in ("create", "setup-schema -v 0.0", "update-schema -d /etc/temporal/schema/postgresql/v12/"):
        assert step in script
    assert "for db in temporal temporal_visibility" in script and "$schema/versioned" in script
    assert env["POSTGRES_SEEDS"] in server["depends_on"] and server_name not in services[schema]["depends_on"]


def test_the_namespace_is_created_with_its_retention_and_the_app_uses_it(
    services: dict[str, dict[str, Any]],
) -> None:
    name = one_shots(services, "temporal operator namespace create")
    env = environment(services[name])
    script = command(services[name])
    assert '--retention "$$RETENTION"' in script and "namespace update" in script  # set on every start
    assert re.fullmatch(r"\d+d", interpolate(env["RETENTION"]))
    (temporal,) = by_image(services, "temporalio/server:")
    assert services[name]["depends_on"][temporal]["condition"] == "service_healthy"
    for app in app_services(services):
        assert environment(services[app])["SEND_TEMPORAL_NAMESPACE"] == env["NAMESPACE"]
        assert services[app]["depends_on"][name]["condition"] == "service_completed_successfully"
    (ui,) = by_image(services, "temporalio/ui").values()
    assert environment(ui)["TEMPORAL_DEFAULT_NAMESPACE"] == env["NAMESPACE"]


def test_the_one_shot_scripts_and_the_python_health_checks_parse(interpolated: dict[str, Any]) -> None:
    for name, service in interpolated["services"].items():
        if service.get("entrypoint") == ["/bin/sh", "-c"]:
            parsed = subprocess.run(["sh", "-n", "-c", command(service)], capture_output=True, text=True)
            assert parsed.returncode == 0, f"{name}: {parsed.stderr}"
        test = service["healthcheck"].get("test", [])
        if test[:3] == ["CMD", "python", "-c"]:
            compile(test[3], f"{name} healthcheck", "exec")


def test_images_are_pinned_to_a_release(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if "build" in service:
            continue  # the app's own image, built from the Dockerfile
        repository, _, tag = service["image"].partition(":")
        assert re.fullmatch(r"\d+(\.\d+)*", tag), f"{name}: {service['image']} is not a pinned release"
        assert repository != "temporalio/auto-setup", "auto-setup is deprecated and no longer built"


def test_ui_points_at_temporal_and_the_codec_endpoint(services: dict[str, dict[str, Any]]) -> None:
    (ui,) = by_image(services, "temporalio/ui").values()
    env = environment(ui)
    (temporal,) = by_image(services, "temporalio/server:")
    assert env["TEMPORAL_ADDRESS"] == f"{temporal}:7233"
    assert env["TEMPORAL_CODEC_ENDPOINT"] == "http://localhost:8000/codec"
    assert env["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"  # the browser sends the staff member's cookie
    origin = env["TEMPORAL_CORS_ORIGINS"]
    for app in app_services(services):
        assert origin in environment(services[app])["SEND_CODEC_CORS_ORIGINS"].split(",")
    assert ui["ports"] == ["127.0.0.1:8080:8080"]  # it has no login of its own: never on the network


def test_api_and_workers_share_the_image_and_the_app_database(services: dict[str, dict[str, Any]]) -> None:
    api_name, worker_name = app_services(services)
    api, worker = services[api_name], services[worker_name]
    assert command(api) == "uvicorn api.main:app --host 0.0.0.0 --port 8000"
    assert api["ports"] == ["127.0.0.1:8000:8000"]  # only the reverse proxy on the host reaches it
    assert api["build"] == worker["build"] == "." and api["image"] == worker["image"]
    assert worker["deploy"]["replicas"] > 1
    assert "container_name" not in worker and "ports" not in worker  # both would stop a second replica

    (temporal,) = by_image(services, "temporalio/server:")
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
                assert "test" in services[needed]["healthcheck"], f"{needed} has no healthcheck"


def test_every_service_has_a_health_check_or_is_a_one_shot_waited_for_to_completion(
    services: dict[str, dict[str, Any]],
) -> None:
    awaited = {
        needed
        for service in services.values()
        for needed, rule in (service.get("depends_on") or {}).items()
        if rule["condition"] == "service_completed_successfully"
    }
    assert {"migrate"} <= awaited and len(awaited) == 3  # the app's migrations, Temporal's schema, namespace
    for name, service in services.items():
        check = service["healthcheck"]
        if (
            name in awaited
        ):  # it exits when done: what needs it waits for that, and it never restarts for good
            assert check == {"disable": True} and service["restart"].startswith("on-failure:"), name
        else:
            assert check["test"][0] in ("CMD", "CMD-SHELL") and check["retries"] >= 3, name
            assert service["restart"] == "unless-stopped", name
    api, worker = app_services(services)
    assert "migrate" in services[api]["depends_on"] and "migrate" in services[worker]["depends_on"]


SECRET = re.compile(r"PASSWORD|PWD|_KEYS?$")


def test_secrets_come_from_the_environment_and_have_no_defaults(services: dict[str, dict[str, Any]]) -> None:
    text = COMPOSE.read_text()
    for match in INTERPOLATION.finditer(text):
        _, name, kind, _, bare = match.groups()
        if SECRET.search(name or bare or ""):
            assert kind == "?", f"{match.group(0)}: a secret must be required, never defaulted"
    for name, service in services.items():
        for key, value in environment(service).items():
            if SECRET.search(key):  # passed through from the environment, or required from it
                assert value is None or re.search(r"\$\{\w+:\?", str(value)), f"{name}: {key} is a literal"


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


def health_check(service: dict[str, Any], env: dict[str, str], within: float) -> int | None:
    """Run the service's Python health check here, with the given settings; its exit code (None: hung)."""
    test = service["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SEND_")}
    try:
        done = subprocess.run(
            [sys.executable, "-c", test[3]], cwd=ROOT, env=clean | env, capture_output=True, timeout=within
        )
    except subprocess.TimeoutExpired:
        return None
    return done.returncode


def test_the_workers_health_check_passes_only_when_the_database_and_temporal_answer(
    services: dict[str, dict[str, Any]], dev_env: Any, tmp_path: Path
) -> None:
    _, worker = app_services(services)
    database = f"sqlite:///{tmp_path / 'send.db'}"
    temporal = dev_env.client.service_client.config.target_host
    healthy = {"SEND_DATABASE_URL": database, "SEND_TEMPORAL_ADDRESS": temporal}
    assert health_check(services[worker], healthy, within=10) == 0
    closed = f"127.0.0.1:{free_port()}"
    assert health_check(services[worker], healthy | {"SEND_TEMPORAL_ADDRESS": closed}, within=10) != 0
    no_database = healthy | {"SEND_DATABASE_URL": f"sqlite:///{tmp_path / 'missing' / 'x' / 'send.db'}"}
    (tmp_path / "missing").write_text("a file where the database's directory should be")
    assert health_check(services[worker], no_database, within=10) != 0
