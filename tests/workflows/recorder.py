"""Saved workflow histories for the replay guard (tests/workflows/test_replay.py): where, and how made.

Each process's workflow tests name the scenarios whose first run is saved, as
tests/workflows/histories/<process>/<scenario>.json. To record them all again, in one command:

    .venv/bin/python -m tests.workflows.recorder

It removes the saved histories of every registered process and runs each process's workflow tests
(tests/workflows/test_<process>.py) with RECORD_HISTORIES=1, so each recorded scenario writes its
history as it ends; a failed test saves nothing (its history would be partial) and the command fails.

A change to a running process goes behind `workflow.patched(...)`: first move each process's saved
histories into a folder below it named for the change (histories/<process>/before-<change>/), which
the recorder leaves alone and the replay guard keeps replaying, then record the new ones.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.client import Client

HERE = Path(__file__).parent
HISTORIES = HERE / "histories"
ROOT = HERE.parent.parent


# Not a SEND_ name: tests/conftest.py clears every SEND_ variable so the developer's settings stay out.
FLAG = "RECORD_HISTORIES"


def recording() -> bool:
    """Whether this test run saves histories (RECORD_HISTORIES=1)."""
    return os.environ.get(FLAG) == "1"


def history_path(process: str, scenario: str) -> Path:
    return HISTORIES / process / f"{scenario}.json"


class Recorder:
    """Saves a recorded scenario's first run, once its test has passed (a failed test's history is partial).

    Make it when the test's case fixture is set up, and call `save` as the fixture tears down.
    """

    def __init__(self, request: pytest.FixtureRequest, process: str, scenarios: dict[str, str]) -> None:
        self.session = request.session
        self.process = process
        self.scenario = scenarios.get(request.node.name)
        self.failed_before = request.session.testsfailed

    async def save(self, client: Client, workflow_id: str, run_id: str | None) -> None:
        if not recording() or self.scenario is None:
            return
        if self.session.testsfailed != self.failed_before:  # the test's call phase is reported by now
            print(f"not saved: {self.process}/{self.scenario} (its test failed)", file=sys.stderr)
            return
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        path = history_path(self.process, self.scenario)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text((await handle.fetch_history()).to_json())


def main() -> int:
    """Re-record every registered process's saved histories; non-zero if a test failed or one is missing."""
    sys.path.insert(0, str(ROOT))
    from workflows.registry import PROCESSES

    tests = []
    for name in PROCESSES:
        module = HERE / f"test_{name}.py"
        if not module.exists():
            print(f"{name}: no workflow tests at {module.relative_to(ROOT)}", file=sys.stderr)
            return 1
        tests.append(str(module.relative_to(ROOT)))
        for old in (HISTORIES / name).glob("*.json"):  # the current code's; older folders stay
            old.unlink()
    env = {**os.environ, FLAG: "1"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests]
    done = subprocess.run(command, cwd=ROOT, env=env, check=False)
    missing = [name for name in PROCESSES if not list((HISTORIES / name).glob("*.json"))]
    for name in PROCESSES:
        saved = sorted(p.stem for p in (HISTORIES / name).glob("*.json"))
        print(f"saved histories of {name}: {', '.join(saved) or 'NONE'}")
    if missing:
        print(f"no history recorded for: {', '.join(missing)}", file=sys.stderr)
    return done.returncode or (1 if missing else 0)


if __name__ == "__main__":
    sys.exit(main())
