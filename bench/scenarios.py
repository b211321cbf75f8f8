"""The case benchmark's process and first step: annual_review when registered, else records_request."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workflows.registry import PROCESSES


@dataclass(frozen=True)
class Scenario:
    """How one case is started and taken through its first SENDCo action over HTTP."""

    process: str
    facts: dict[str, Any]
    action: str
    body: dict[str, Any]
    reached: str  # the step GET /api/v1/cases/{id} shows once the action has taken effect


def annual_review(today: dt.date) -> Scenario:
    """A review due in about 16 weeks (default invitees and advisers); the meeting is set 10 weeks ahead."""
    ahead = today + dt.timedelta(weeks=10)  # advice requests (6 weeks before) on time
    meeting = dt.datetime.combine(ahead + dt.timedelta(days=(2 - ahead.weekday()) % 7), dt.time(10))
    return Scenario(
        process="annual_review",
        facts={
            "cycle_start": (today - dt.timedelta(days=250)).isoformat(),
            "year_group": 4,
        },
        action="set-meeting",
        body={"meeting_at": meeting.isoformat(), "minutes": 60, "location": "SENCo office"},
        reached="meeting-set",
    )


def records_request(today: dt.date) -> Scenario:
    """A request received today; the SENDCo submits the gathered record for approval."""
    return Scenario(
        process="records_request",
        facts={"request_received": today.isoformat()},
        action="submit-for-approval",
        body={"note": "Record gathered (bench)"},
        reached="awaiting-approval",
    )


# In order of preference: the first one registered in workflows.registry.PROCESSES is benchmarked.
SCENARIOS: dict[str, Callable[[dt.date], Scenario]] = {
    "annual_review": annual_review,
    "records_request": records_request,
}


def choose(today: dt.date | None = None) -> Scenario:
    """The scenario of the most preferred process registered now."""
    name = next(name for name in SCENARIOS if name in PROCESSES)
    return SCENARIOS[name](today or dt.date.today())
