"""Every process the engine runs: one line each. The worker, the API, the pages and the tests read it."""

from __future__ import annotations

from workflows import (
    annual_review,
    ep_referral,
    funding_application,
    graduated_approach,
    joining,
    leaving,
    needs_assessment,
    phase_transfer,
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
        ep_referral.PROCESS,
        funding_application.PROCESS,
        joining.PROCESS,  # transitions: joining, leaving, and the records request above
        leaving.PROCESS,
        phase_transfer.PROCESS,
    )
}
GENERIC_TEMPLATES = ("approval-request", "approval-decided", "reminder", "escalation", "overdue")
