"""Replay guard: saved annual review histories must replay on the current workflow code.

A change that would break a running case fails here; make it behind `workflow.patched(...)` instead.
To record the histories again (only for a change no deployed case has run yet):
SEND_RECORD_HISTORIES=1 .venv/bin/python -m pytest tests/workflows/test_annual_review.py
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from infra.temporal import data_converter
from worker import SANDBOX
from workflows.annual_review import AnnualReview

HISTORIES = sorted((Path(__file__).parent / "histories").glob("annual_review_*.json"))


def test_histories_are_saved() -> None:
    assert len(HISTORIES) >= 3, "tests/workflows/histories/annual_review_*.json are missing"


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_saved_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(f"annual_review-{path.stem}", path.read_text())
    replayer = Replayer(workflows=[AnnualReview], data_converter=data_converter(), workflow_runner=SANDBOX)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
