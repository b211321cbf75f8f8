"""`make run` as a newcomer uses it: serves /health within 60 s, a demo case shows in the Temporal UI,
Ctrl-C stops every process, and running it again resumes the case. The whole engine (API, worker,
Temporal, mailbox) on SQLite, its default, and on PostgreSQL with one setting (SEND_DATABASE_URL), with a
backup restored in between."""

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
import pytest
from pgserver._commands import POSTGRES_BIN_PATH

from infra.settings import ROOT
from store.migrate import head_revision
from tests.conftest import free_port
from tests.fixtures.postgres import DATABASES, new_database


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


@pytest.fixture(params=DATABASES)
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[dict[str, str], str]]:
    """(the one setting that points `make run` at the database, the URL of a new, empty one to restore
    into): SQLite, make run's default (no setting), or PostgreSQL (SEND_DATABASE_URL), the store tests'."""
    if request.param == "sqlite":
        yield {}, f"sqlite:///{tmp_path / 'restored' / 'send.db'}"
        return
    postgres_url = request.getfixturevalue("postgres_url")
    with new_database(postgres_url) as original, new_database(postgres_url) as restored:
        yield {"SEND_DATABASE_URL": original}, restored


# The commands of docs/deploy.md's "Backups and restore", as written there; run from a directory that has
# `backups/` (alembic from the checkout, where alembic.ini is).
BACKUP = "send-engine backup backups/send.backup"
RESTORE = "send-engine restore backups/send.backup"
MIGRATE = "send-engine migrate"
CURRENT = "alembic current"


def send_engine(env: dict[str, str], line: str, cwd: Path) -> str:
    """Run one of docs/deploy.md's commands exactly as written there; its output."""
    assert f"\n{line}" in (ROOT / "docs" / "deploy.md").read_text(), f"docs/deploy.md does not give `{line}`"
    # send-engine and alembic from the project's .venv/bin; pg_dump and pg_restore from the test PostgreSQL's.
    path = os.pathsep.join([str(Path(sys.executable).parent), str(POSTGRES_BIN_PATH), env.get("PATH", "")])
    tools = {"PATH": path}
    done = subprocess.run(line.split(), cwd=cwd, env=env | tools, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def eventually(check, within: float = 20):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while not (found := check()):
        assert time.monotonic() < deadline, "not there in time"
        time.sleep(0.3)
    return found


def test_make_run_serves_runs_a_demo_case_stops_cleanly_and_resumes_from_a_restored_backup(
    tmp_path: Path, databases: tuple[dict[str, str], str]
) -> None:
    """Start, act, approve, the emails at the loopback SMTP server, the lists; then Ctrl-C, back up the
    database and restore it into a new one, and the engine goes on from the restored copy (docs/deploy.md)."""
    database, restored_url = databases
    ports = {name: free_port() for name in ("api", "temporal", "ui", "smtp")}
    env, log = run_env(tmp_path / "var", ports) | database, tmp_path / "run.log"
    base = f"http://127.0.0.1:{ports['api']}"

    with make_run(env, log) as proc:
        assert wait_healthy(base, proc, log) < 60
        tokens = json.loads((tmp_path / "var" / "demo-tokens.json").read_text())
        sendco = next(t for who, t in tokens.items() if who.startswith("sendco"))
        head = next(t for who, t in tokens.items() if who.startswith("headteacher"))
        assert wait_for_text(log, sendco)  # printed for the newcomer
        http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {sendco}"}, timeout=30)
        as_head = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {head}"}, timeout=30)
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
        case_id = workflow_id.removeprefix("records_request-")
        ui = httpx.get(
            f"http://127.0.0.1:{ports['ui']}/api/v1/namespaces/default/workflows", timeout=10
        ).json()
        assert workflow_id in [e["execution"]["workflowId"] for e in ui["executions"]]

        r = http.post(
            f"/api/v1/cases/{case_id}/actions/submit-for-approval", json={"note": "Record gathered"}
        )
        assert r.status_code == 200, r.text
        approval = eventually(
            lambda: next(
                (a for a in as_head.get("/api/v1/approvals").json()["items"] if a["case_id"] == case_id), None
            )
        )
        r = as_head.post(f"/api/v1/approvals/{approval['id']}/decision", json={"approve": True})
        assert r.status_code == 200 and r.json()["result"] == "approved", r.text
        eventually(lambda: http.get(f"/api/v1/cases/{case_id}").json()["step"] == "disclosing")
        # Both emails reached the loopback SMTP server: the headteacher asked, the SENDCo told.
        mail = eventually(lambda: len(found := http.get("/api/v1/mailbox").json()["items"]) >= 2 and found)
        addressed = {address for m in mail for address in m["to"]}
        assert {"head@oakfield.example.org", "sendco@oakfield.example.org"} <= addressed
        logged = "\n".join(f.read_text() for f in (tmp_path / "var" / "logs").glob("*.log"))
        assert [a for a in addressed if a in logged] == [], "an email address in a process's log"
        outbox = http.get("/api/v1/outbox", params={"case_id": case_id}).json()["items"]
        assert {m["template"]: m["status"] for m in outbox} == {
            "approval-request": "sent",
            "approval-decided": "sent",
        }
        assert case_id in [c["id"] for c in http.get("/api/v1/cases").json()["items"]]
        deadlines = [d for d in http.get("/api/v1/deadlines").json()["items"] if d["case_id"] == case_id]
        assert [(d["rule_id"], d["status"]) for d in deadlines] == [("TR-RECORDS-ACCESS", "pending")]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
    assert not any(listening(p) for p in ports.values()), "a process outlived Ctrl-C"
    assert (tmp_path / "var" / "send.db").exists() == (not database)  # PostgreSQL: no SQLite file at all

    # Back up, lose the database, restore the backup into a new one (the commands of docs/deploy.md).
    assert send_engine(env, BACKUP, tmp_path) == "backed up the database to backups/send.backup\n"
    assert (tmp_path / "backups" / "send.backup").stat().st_size > 0
    if not database:  # SQLite: the file is gone
        for lost in (tmp_path / "var").glob("send.db*"):
            lost.unlink()
    restored = env | {"SEND_DATABASE_URL": restored_url}
    send_engine(restored, RESTORE, tmp_path)
    assert f"{head_revision()} (head)" in send_engine(restored, CURRENT, ROOT)
    assert f"the database is up to date at {head_revision()}" in send_engine(restored, MIGRATE, tmp_path)

    with make_run(restored, log) as proc:
        wait_healthy(base, proc, log)
        view = http.get(f"/api/v1/cases/{case_id}").json()
        assert (view["status"], view["step"]) == (
            "open",
            "disclosing",
        )  # the same case, from the restored copy
        assert {m["id"] for m in mail} <= {m["id"] for m in http.get("/api/v1/mailbox").json()["items"]}
        r = http.post(
            f"/api/v1/cases/{case_id}/actions/record-disclosure", json={"disclosed_on": "2026-11-30"}
        )
        assert r.status_code == 200, r.text  # alive again, answered by the new worker
        eventually(lambda: http.get(f"/api/v1/cases/{case_id}").json()["status"] == "closed")
        [deadline] = [d for d in http.get("/api/v1/deadlines").json()["items"] if d["case_id"] == case_id]
        assert deadline["status"] == "met"


ROLES = {"worker": "worker.py", "api": "uvicorn", "mailbox": "engine.devmail"}


def children(parent: int) -> dict[str, int]:
    """The pids of `make run`'s worker, API and mailbox, read from /proc."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rpartition(")")[2].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
        if ppid == parent:
            found.update({role: int(stat.parent.name) for role, marker in ROLES.items() if marker in cmdline})
    return found


def wait_restarted(proc: subprocess.Popen, role: str, old: int, log: Path, within: float = 30) -> int:
    deadline = time.monotonic() + within
    while (new := children(proc.pid).get(role)) in (None, old):
        assert time.monotonic() < deadline, f"{role} not restarted within {within} s:\n{logs(log)}"
        time.sleep(0.2)
    return new


def wait_at_rest(ui_port: int, workflow_id: str, within: float = 20) -> None:
    """Until the workflow has no task or activity in flight (read from the Temporal UI's HTTP API)."""
    url = f"http://127.0.0.1:{ui_port}/api/v1/namespaces/default/workflows/{workflow_id}"
    deadline = time.monotonic() + within
    while True:
        described = httpx.get(url, timeout=10).json()
        if not described.get("pendingActivities") and not described.get("pendingWorkflowTask"):
            return
        assert time.monotonic() < deadline, f"{workflow_id} still busy: {described}"
        time.sleep(0.3)


def test_make_run_restarts_a_killed_worker_api_and_mailbox_and_keeps_the_rest(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("api", "temporal", "ui", "smtp")}
    env, log = run_env(tmp_path / "var", ports), tmp_path / "run.log"
    base = f"http://127.0.0.1:{ports['api']}"

    with make_run(env, log) as proc:
        wait_healthy(base, proc, log)
        tokens = json.loads((tmp_path / "var" / "demo-tokens.json").read_text())
        sendco = next(t for who, t in tokens.items() if who.startswith("sendco"))
        http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {sendco}"}, timeout=30)
        pupil = http.get("/api/v1/pupils", params={"limit": 1}).json()["items"][0]
        facts = {"request_received": "2026-11-20"}
        start = {"process": "records_request", "pupil_id": pupil["id"], "facts": facts}
        r = http.post("/api/v1/cases", json=start)
        assert r.status_code == 201, r.text
        case_id = r.json()["workflow_id"].removeprefix("records_request-")
        wait_at_rest(ports["ui"], f"records_request-{case_id}")  # its first writes done: a case at rest
        before = children(proc.pid)
        assert set(before) == set(ROLES), before

        os.kill(before["worker"], signal.SIGKILL)
        worker = wait_restarted(proc, "worker", before["worker"], log)
        assert wait_for_text(log, "worker stopped unexpectedly (exit code -9); restarting in 1 s")
        assert {k: v for k, v in children(proc.pid).items() if k != "worker"} == {
            k: v for k, v in before.items() if k != "worker"
        }  # the API and the mailbox kept running
        worker_log = tmp_path / "var" / "logs" / "worker.log"
        deadline = time.monotonic() + 30
        while worker_log.read_text().count("worker polling task queue") < 2:  # the new one is ready
            assert time.monotonic() < deadline, logs(log)
            time.sleep(0.2)
        r = http.post(f"/api/v1/cases/{case_id}/actions/submit-for-approval", json={"note": "after the kill"})
        assert r.status_code == 200, r.text  # the case goes on, on the new worker

        os.kill(before["api"], signal.SIGKILL)
        wait_restarted(proc, "api", before["api"], log)
        wait_healthy(base, proc, log)
        assert http.get(f"/api/v1/cases/{case_id}").json()["status"] == "open"

        os.kill(before["mailbox"], signal.SIGKILL)
        wait_restarted(proc, "mailbox", before["mailbox"], log)
        deadline = time.monotonic() + 20
        while not listening(ports["smtp"]):
            assert time.monotonic() < deadline, logs(log)
            time.sleep(0.2)
        assert children(proc.pid)["worker"] == worker and proc.poll() is None
        output = log.read_text()
        assert "@" not in output.split("Demo sign-in tokens")[1].split("Ctrl-C stops")[1]  # no addresses


def test_a_crash_loop_gives_up_with_a_message_naming_the_process(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from engine.run import Child, CrashPolicy, supervise

    env = dict(os.environ)
    flaky = Child("flaky", [sys.executable, "-c", "raise SystemExit(3)"], tmp_path / "flaky.log", env)
    steady = Child("steady", [sys.executable, "-c", "import time; time.sleep(60)"], tmp_path / "s.log", env)
    for child in (flaky, steady):
        child.start()
    started = time.monotonic()
    try:
        reason = supervise([flaky, steady], CrashPolicy(limit=3, window=60, first_delay=0.2), poll=0.05)
        assert steady.proc is not None and steady.proc.poll() is None  # kept running throughout
    finally:
        assert steady.proc is not None
        steady.proc.kill()
        steady.proc.wait()
    took = time.monotonic() - started

    assert reason == (
        f"flaky crashed 3 times within 60 s (last exit code 3): giving up and stopping everything; "
        f"see {tmp_path / 'flaky.log'}"
    )
    lines = [line.split(" ", 1)[1] for line in capsys.readouterr().out.splitlines()]
    assert [line.split(";")[0] for line in lines] == [
        "flaky stopped unexpectedly (exit code 3)",
        lines[1],
        "flaky stopped unexpectedly (exit code 3)",
        lines[3],
    ]
    assert "restarting in 0.2 s" in lines[0] and "restarting in 0.4 s" in lines[2]
    assert lines[1].startswith("restarted flaky") and lines[3].startswith("restarted flaky")
    assert 0.6 <= took < 10  # the backoffs were waited, and it gave up promptly


def test_the_banner_and_the_links_name_the_port_the_api_serves_on(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With SEND_API_PORT alone, the printed addresses (and the emailed links) follow it; an explicit
    SEND_PUBLIC_URL, as behind a proxy, is kept."""
    from engine.run import banner
    from infra.settings import Settings

    monkeypatch.delenv("SEND_PUBLIC_URL", raising=False)
    moved = Settings(api_port=18999)
    assert moved.public_url == "http://localhost:18999"
    assert "http://localhost:18999/signin" in banner(moved, {})
    assert "localhost:8000" not in banner(moved, {})
    assert Settings(api_port=18999, public_url="https://send.school.example").public_url == (
        "https://send.school.example"
    )
