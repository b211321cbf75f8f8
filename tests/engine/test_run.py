"""`make run` as a newcomer uses it: serves /health within 60 s, a demo case shows in the Temporal UI,
Ctrl-C stops every process, and running it again resumes the case."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from infra.settings import ROOT
from tests.conftest import free_port


def run_env(var_dir: Path, ports: dict[str, int]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEND_")}
    return env | {
        "SEND_VAR_DIR": str(var_dir),
        "SEND_API_PORT": str(ports["api"]),
        "SEND_PUBLIC_URL": f"http://127.0.0.1:{ports['api']}",
        "SEND_TEMPORAL_ADDRESS": f"127.0.0.1:{ports['temporal']}",
        "SEND_TEMPORAL_UI_PORT": str(ports["ui"]),
        "SEND_SMTP_PORT": str(ports["smtp"]),
    }


@contextmanager
def make_run(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """Start `python -m engine.run` (what `make run` runs) and Ctrl-C it afterwards."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "engine.run"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        proc.wait(60)


def logs(log: Path) -> str:
    """The run's output and the last lines of each process's log, for a failure message."""
    tails = [
        f"--- {f.name}\n" + "\n".join(f.read_text().splitlines()[-15:])
        for f in log.parent.glob("var/logs/*.log")
    ]
    return "\n".join([log.read_text(), *tails])


def wait_healthy(base: str, proc: subprocess.Popen, log: Path, within: float = 60) -> float:
    started = time.monotonic()
    while time.monotonic() - started < within:
        assert proc.poll() is None, logs(log)
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"/health not served within {within} s:\n{logs(log)}")


def wait_for_text(log: Path, text: str, within: float = 10) -> bool:
    """The banner follows /health by a moment: wait for it."""
    deadline = time.monotonic() + within
    while text not in log.read_text():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def listening(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_make_run_serves_runs_a_demo_case_stops_cleanly_and_resumes(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("api", "temporal", "ui", "smtp")}
    env, log = run_env(tmp_path / "var", ports), tmp_path / "run.log"
    base = f"http://127.0.0.1:{ports['api']}"

    with make_run(env, log) as proc:
        assert wait_healthy(base, proc, log) < 60
        tokens = json.loads((tmp_path / "var" / "demo-tokens.json").read_text())
        sendco = next(t for who, t in tokens.items() if who.startswith("sendco"))
        assert wait_for_text(log, sendco)  # printed for the newcomer
        http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {sendco}"}, timeout=30)
        pupil = http.get("/api/v1/pupils", params={"limit": 1}).json()["items"][0]
        r = http.post(
            "/api/v1/cases",
            json={
                "process": "records_request",
                "pupil_id": pupil["id"],
                "facts": {"request_received": "2026-11-20"},
            },
        )
        assert r.status_code == 201, r.text
        workflow_id = r.json()["workflow_id"]
        ui = httpx.get(
            f"http://127.0.0.1:{ports['ui']}/api/v1/namespaces/default/workflows", timeout=10
        ).json()
        assert workflow_id in [e["execution"]["workflowId"] for e in ui["executions"]]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
    assert not any(listening(p) for p in ports.values()), "a process outlived Ctrl-C"

    with make_run(env, log) as proc:
        wait_healthy(base, proc, log)
        case_id = workflow_id.removeprefix("records_request-")
        r = http.post(f"/api/v1/cases/{case_id}/actions/submit-for-approval", json={"note": "after restart"})
        assert r.status_code == 200, r.text  # the same case, alive again, answered by the new worker
        assert http.get(f"/api/v1/cases/{case_id}").json()["status"] == "open"
