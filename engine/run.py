"""`make run`: the whole engine on its embedded default, stopped cleanly by Ctrl-C.

Upgrades the database schema first (store/migrations), then starts the Temporal dev server (SQLite
under var/, Web UI), the development mailbox (SMTP on loopback), the worker and the API; seeds the demo
school on first start; prints the URLs and demo tokens.

It supervises them: a process that dies is started again after a backoff (1 s, 2 s, 4 s ... up to 30 s),
the others keep running, and each restart is logged (names and exit codes only). A process that crashes
5 times within 60 s is a crash loop: everything is stopped with a message naming it and its log.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from engine.seed import demo_tokens, seed_demo
from infra.database import get_engine
from infra.settings import ROOT, TEMPORAL_UI_PATH, Settings, get_settings, private_var_dir
from infra.temporal import TEMPORAL_CLI
from store.migrate import upgrade_to_head

READY_WITHIN = 60.0


def wait_for_port(
    host: str, port: int, name: str, proc: subprocess.Popen, within: float = READY_WITHIN
) -> None:
    """Block until something listens on host:port; fail clearly if the process dies or time runs out."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with code {proc.returncode} while starting")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{name} did not listen on {host}:{port} within {within:.0f} s")


def commands(settings: Settings) -> list[tuple[str, list[str], int]]:
    """(name, command, port) of every process, in start order."""
    host, port = settings.temporal_address.rsplit(":", 1)
    py = sys.executable
    return [
        (
            "temporal",
            [
                str(TEMPORAL_CLI),
                "server",
                "start-dev",
                "--db-filename",
                str(settings.var_dir / "temporal.db"),
                "--ip",
                host,
                "--port",
                port,
                "--ui-port",
                str(settings.temporal_ui_port),
                # Served by the API under its own origin, so the UI's codec calls carry the sign-in.
                "--ui-public-path",
                TEMPORAL_UI_PATH,
                "--ui-codec-endpoint",
                f"{settings.public_url}/codec",
                "--log-level",
                "warn",
            ],
            int(port),
        ),
        ("mailbox", [py, "-m", "engine.devmail"], settings.smtp_port),
        ("worker", [py, str(ROOT / "worker.py")], 0),
        (
            "api",
            [
                py,
                "-m",
                "uvicorn",
                "api.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(settings.api_port),
                "--log-level",
                "warning",
            ],
            settings.api_port,
        ),
    ]


def banner(settings: Settings, tokens: dict[str, str]) -> str:
    lines = [
        "",
        "SEND case engine is running:",
        f"  API and pages   {settings.public_url}   (OpenAPI docs: {settings.public_url}/docs)",
        f"  Temporal Web UI {settings.public_url}{TEMPORAL_UI_PATH}   (signed in as the SENDCo or head:"
        " your school's payloads decoded)",
        f"  Received mail   {settings.public_url}/mailbox   (SMTP on 127.0.0.1:{settings.smtp_port})",
        "Demo sign-in tokens (development only):",
        *[f"  {who}: {token}" for who, token in tokens.items()],
        f"Sign in to the pages at {settings.public_url}/signin with one of these tokens",
        "Ctrl-C stops everything; run `make run` again to resume every case and timer.",
        "",
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class CrashPolicy:
    """When to restart a process that died, and when to give up: `limit` crashes within `window` s."""

    limit: int = 5
    window: float = 60.0
    first_delay: float = 1.0
    max_delay: float = 30.0

    def delay(self, crashes: int) -> float:
        """The backoff before the restart that follows the n-th recent crash."""
        return min(self.max_delay, self.first_delay * 2 ** (crashes - 1))


@dataclass
class Child:
    """One supervised process: how to start it, and its recent crashes."""

    name: str
    cmd: list[str]
    log: Path
    env: dict[str, str]
    proc: subprocess.Popen | None = None
    crashes: deque[float] = field(default_factory=deque)
    restart_at: float | None = None

    def start(self) -> subprocess.Popen:
        with self.log.open("ab") as out:
            # Children ignore the terminal's Ctrl-C; we stop them ourselves in order.
            self.proc = subprocess.Popen(
                self.cmd, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self.proc


def say(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {text}", flush=True)


def supervise(children: list[Child], policy: CrashPolicy, *, poll: float = 0.5) -> str:
    """Restart any child that dies, with backoff, until one crash-loops; returns why it gave up."""
    while True:
        now = time.monotonic()
        for child in children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restart_at = None
                    proc = child.start()
                    say(f"restarted {child.name} (pid {proc.pid})")
                continue
            assert child.proc is not None
            code = child.proc.poll()
            if code is None:
                continue
            child.crashes.append(now)
            while child.crashes and now - child.crashes[0] > policy.window:
                child.crashes.popleft()
            crashes = len(child.crashes)
            if crashes >= policy.limit:
                return (
                    f"{child.name} crashed {crashes} times within {policy.window:.0f} s (last exit code "
                    f"{code}): giving up and stopping everything; see {child.log}"
                )
            delay = policy.delay(crashes)
            child.restart_at = now + delay
            say(
                f"{child.name} stopped unexpectedly (exit code {code}); restarting in {delay:g} s "
                f"(crash {crashes} of {policy.limit} allowed within {policy.window:.0f} s); see {child.log}"
            )
        time.sleep(poll)


def stop(procs: list[tuple[str, subprocess.Popen]]) -> None:
    """Stop in reverse start order: API, worker, mailbox, then Temporal (a second Ctrl-C cannot interrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for _name, proc in reversed(procs):
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def upgrade_database() -> bool:
    """Bring the database schema to the newest revision, saying so in one line; False if it cannot."""
    print("upgrading the database schema...", end=" ", flush=True)
    try:
        before, after = upgrade_to_head(get_engine())
    except Exception as err:  # any failure: say what, and start nothing
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(f"failed: {reason}", flush=True)
        return False
    print(
        f"up to date at {after}" if before == after else f"done: {before or 'empty'} -> {after}", flush=True
    )
    return True


def main() -> int:
    settings = get_settings()
    private_var_dir(settings)
    if not upgrade_database():
        print("could not upgrade the database: nothing was started", file=sys.stderr)
        return 1
    tokens_file = settings.var_dir / "demo-tokens.json"
    if settings.environment != "production":  # a production engine never holds the demo school
        with Session(get_engine()) as session:
            seed_demo(session, tokens_file)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    logs = settings.var_dir / "logs"
    logs.mkdir(exist_ok=True)
    children: list[Child] = []
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        for name, cmd, port in commands(settings):
            child = Child(name=name, cmd=cmd, log=logs / f"{name}.log", env=env)
            children.append(child)
            proc = child.start()
            if port:
                wait_for_port("127.0.0.1", port, name, proc)
            print(f"started {name}" + (f" on port {port}" if port else ""), flush=True)
        print(banner(settings, demo_tokens(tokens_file)), flush=True)
        reason = supervise(children, CrashPolicy())
        print(reason, file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
        return 0
    except RuntimeError as err:
        print(f"could not start: {err}; logs are in {logs}", file=sys.stderr)
        return 1
    finally:
        stop([(c.name, c.proc) for c in children if c.proc is not None])
        print("stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
