"""Replay guard: every registered process's saved histories must replay on the current workflow code.

A change that would break a running case fails here; make it behind `workflow.patched(...)` instead.
Each process in `workflows.registry.PROCESSES` must have at least one saved history, in
tests/workflows/histories/<process name>/*.json (the first run of a scenario of its workflow tests).
Histories recorded before a patch are kept in a folder of their own below it (before-<what changed>/),
so that the patch's old branch stays guarded as long as a case may still be on it.

To record every process's histories again (only for a change no deployed case has run yet), one command:

    .venv/bin/python -m tests.workflows.recorder

(see tests/workflows/recorder.py: it runs tests/workflows/test_<process>.py with RECORD_HISTORIES=1).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from infra.temporal import data_converter
from tests.workflows.recorder import HISTORIES
from worker import SANDBOX
from workflows.registry import PROCESSES

SAVED = [(name, path) for name in PROCESSES for path in sorted((HISTORIES / name).rglob("*.json"))]


@pytest.mark.parametrize("name", list(PROCESSES))
def test_every_process_has_a_saved_history(name: str) -> None:
    saved = list((HISTORIES / name).glob("*.json"))
    assert saved, (
        f"process {name!r} has no saved history in tests/workflows/histories/{name}/: "
        "name its recorded scenarios in its workflow tests and run "
        "`.venv/bin/python -m tests.workflows.recorder`"
    )


def test_every_saved_history_belongs_to_a_registered_process() -> None:
    folders = {p.name for p in HISTORIES.iterdir() if p.is_dir() and list(p.glob("*.json"))}
    stray = sorted(folders - set(PROCESSES))
    assert not stray, f"histories of no registered process: {stray}"
    assert not list(HISTORIES.glob("*.json")), "histories go in tests/workflows/histories/<process name>/"


@pytest.mark.parametrize(
    ("name", "path"), SAVED, ids=[f"{n}/{p.relative_to(HISTORIES / n).with_suffix('')}" for n, p in SAVED]
)
async def test_saved_history_replays(name: str, path: Path) -> None:
    workflow = PROCESSES[name].workflow
    history = WorkflowHistory.from_json(f"{name}-{path.stem}", path.read_text())
    replayer = Replayer(workflows=[workflow], data_converter=data_converter(), workflow_runner=SANDBOX)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
