"""The registry of processes: what the worker, the API, the pages and the preview are built from."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from domain.schemas import Role
from domain.timelines import AnnualReviewFacts, annual_review_timeline, due_of
from worker import WORKFLOWS
from workflows.registry import GENERIC_TEMPLATES, PROCESSES

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "email"
BASE = {"cycle_start": "2026-01-10", "year_group": 5}
# The class teacher (school staff) may log sessions and record their own assessment; nothing else.
STAFF_MAY = {("graduated_approach", "log-session"), ("graduated_approach", "record-assessment")}


def test_every_process_is_registered_once_and_run_by_the_worker() -> None:
    assert set(PROCESSES) == {
        "annual_review",
        "ep_referral",
        "funding_application",
        "graduated_approach",
        "joining",
        "leaving",
        "needs_assessment",
        "phase_transfer",
        "records_request",
    }
    assert {p.workflow for p in PROCESSES.values()} == set(WORKFLOWS)


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_each_action_is_bound_to_its_update_payload_and_roles(name: str) -> None:
    process = PROCESSES[name]
    assert "change-due-date" in process.actions  # every case offers it
    for action in process.actions.values():
        assert action.update == action.name.replace("-", "_")
        assert "actor" in action.payload.model_fields, action.name
        staff = {Role.staff} if (name, action.name) in STAFF_MAY else set()
        assert set(action.roles) == {Role.sendco, Role.headteacher, *staff}
        assert action.title and action.title[0].isupper()
        assert action.steps <= {s.value for s in process.steps}, action.name


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_each_process_templates_exist_as_html_and_text(name: str) -> None:
    for template in (*PROCESSES[name].templates, *GENERIC_TEMPLATES):
        assert (TEMPLATES / f"{template}.html").is_file(), template
        assert (TEMPLATES / f"{template}.txt").is_file(), template


def test_the_annual_review_offers_each_action_at_its_step() -> None:
    actions = PROCESSES["annual_review"].actions
    assert actions["set-meeting"].offered_at("planning")
    assert not actions["set-meeting"].offered_at("meeting-set")
    assert actions["record-la-decision"].offered_at("awaiting-la-decision")
    assert actions["change-due-date"].offered_at("report")


def test_preview_returns_what_the_workflow_uses() -> None:
    facts = {**BASE, "transfer": "phase", "transfer_year": 2027, "meeting": "2026-11-02"}
    entries = PROCESSES["annual_review"].preview(facts)
    assert entries == annual_review_timeline(AnnualReviewFacts.model_validate(facts))
    assert due_of(entries, "la-decision") == date(2026, 11, 30)
    records = PROCESSES["records_request"].preview({"request_received": "2026-10-20"})
    assert records[0].due == date(2026, 11, 17)


def test_preview_bad_facts() -> None:
    with pytest.raises(ValidationError):
        PROCESSES["records_request"].preview({"request_received": "not a date"})
