"""The embedded default stack, started as `make run` starts it, in a temporary var dir on free ports."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from engine.run import commands, stop, wait_for_port
from engine.seed import demo_tokens, seed_demo
from infra.database import get_engine
from infra.settings import ROOT, Settings, get_settings
from store.migrate import upgrade_to_head


def free_port() -> int:
    """A TCP port nobody listens on at the moment, on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def configure(var_dir: Path) -> Settings:
    """Point this process and its children at var_dir (SQLite there) and free loopback ports."""
    api_port = free_port()
    os.environ.update(
        {
            "SEND_VAR_DIR": str(var_dir),
            "SEND_DATABASE_URL": "",
            "SEND_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
            "SEND_TEMPORAL_UI_PORT": str(free_port()),
            "SEND_SMTP_PORT": str(free_port()),
            "SEND_API_PORT": str(api_port),
            "SEND_PUBLIC_URL": f"http://127.0.0.1:{api_port}",
            "SEND_TASK_QUEUE": "send-cases-bench",
        }
    )
    get_settings.cache_clear()
    get_engine.cache_clear()
    return get_settings()


@dataclass
class Stack:
    """The processes of one benchmark run; `close()` stops every one that was started."""

    settings: Settings
    procs: list[tuple[str, subprocess.Popen]] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.api_port}"

    @property
    def logs(self) -> Path:
        return self.settings.var_dir / "logs"

    def seed(self) -> str:
        """Upgrade the new database to the newest schema, seed the demo school; the demo SENDCo's token."""
        tokens_file = self.settings.var_dir / "demo-tokens.json"
        upgrade_to_head(get_engine())  # as `make run` does before it starts anything
        with Session(get_engine()) as session:
            seed_demo(session, tokens_file)
        return next(t for who, t in demo_tokens(tokens_file).items() if who.startswith("sendco"))

    def start(self) -> None:
        """Start Temporal, the mailbox, the worker and the API, each once its predecessor listens."""
        self.logs.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        for name, cmd, port in commands(self.settings):
            with (self.logs / f"{name}.log").open("ab") as log:
                # Own session: the terminal's Ctrl-C reaches only the bench, which stops them in order.
                proc = subprocess.Popen(
                    cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
            self.procs.append((name, proc))
            if port:
                wait_for_port("127.0.0.1", port, name, proc)
            print(f"  started {name}" + (f" on port {port}" if port else ""), flush=True)

    def check_alive(self) -> None:
        """Fail clearly if any process of the stack has stopped."""
        for name, proc in self.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} stopped (code {proc.returncode}); see {self.logs / name}.log")

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds (user + system) used so far by each process of the stack and by the bench itself."""
        tick = os.sysconf("SC_CLK_TCK")
        used: dict[str, float] = {}
        for name, proc in self.procs:
            with contextlib.suppress(OSError, IndexError, ValueError):  # Linux /proc only
                fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
                used[name] = (int(fields[11]) + int(fields[12])) / tick
        me = os.times()
        used["bench"] = me.user + me.system
        return used

    def close(self) -> None:
        """Stop every process this stack started (API, worker, mailbox, then Temporal)."""
        stop(self.procs)
        self.procs.clear()
