"""Every process the engine runs: one line each. The worker, the API, the pages and the tests read it."""

from __future__ import annotations

from workflows import (
    annual_review,
    funding_application,
    graduated_approach,
    needs_assessment,
    records_request,
)
from workflows.process import Process

PROCESSES: dict[str, Process] = {
    p.name: p
    for p in (
        records_request.PROCESS,
        annual_review.PROCESS,
        needs_assessment.PROCESS,
        graduated_approach.PROCESS,
        funding_application.PROCESS,
    )
}
GENERIC_TEMPLATES = ("approval-request", "approval-decided", "reminder", "escalation", "overdue")
