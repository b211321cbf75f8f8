"""The headteacher's approval of a step: requested by the workflow, decided through an Update."""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.schemas import ApprovalDecision, ApprovalRecord, Recipient, Role
    from workflows.case_io import CaseIO


@dataclass
class Approvals:
    """Pending approvals of one case, and the decisions taken on them."""

    io: CaseIO
    pending: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (step, title)
    decisions: dict[str, ApprovalDecision] = field(default_factory=dict)

    async def request(self, key: str, step: str, title: str, summary: str) -> ApprovalDecision:
        """Ask the headteacher to approve; wait for the decision and tell the SENDCo."""
        self.pending[key] = (step, title)
        self.io.stage(
            approvals=[self._row(key, step, summary, "pending")],
            notes=[self.io.note("approval-requested", f"{title}: sent to the headteacher")],
        )
        await self.io.send(
            f"{key}:approval-request",
            "approval-request",
            [Recipient(kind="headteacher")],
            {"step_title": title, "summary": summary},
        )
        await workflow.wait_condition(lambda: key in self.decisions)
        decision = self.decisions[key]
        del self.pending[key]
        verdict = "approved" if decision.approve else "rejected"
        self.io.stage(
            approvals=[self._row(key, step, summary, verdict, decision)],
            notes=[
                self.io.note(f"approval-{verdict}", f"{title}. {decision.comment}".strip(), decision.actor)
            ],
        )
        await self.io.send(
            f"{key}:approval-decided",
            "approval-decided",
            [Recipient(kind="sendco")],
            {"step_title": title, "approved": decision.approve, "comment": decision.comment},
        )
        return decision

    def validate(self, decision: ApprovalDecision) -> None:
        """Only the headteacher decides, once, on an approval that is pending."""
        if decision.actor.role != Role.headteacher:
            raise ApplicationError("only the headteacher can approve or reject", type="Forbidden")
        if decision.key in self.decisions:
            raise ApplicationError("this approval has already been decided", type="Conflict")
        if decision.key not in self.pending:
            raise ApplicationError("there is no pending approval with that key on this case", type="Conflict")
        if not decision.approve and not decision.comment.strip():
            raise ApplicationError("a rejection needs a comment saying what to change", type="Invalid")

    def decide(self, decision: ApprovalDecision) -> None:
        self.decisions[decision.key] = decision

    def _row(
        self, key: str, step: str, summary: str, status: str, decision: ApprovalDecision | None = None
    ) -> ApprovalRecord:
        return ApprovalRecord(
            key=key,
            step=step,
            summary=summary,
            status=status,
            at=workflow.now(),
            decided_by=decision.actor.staff_id if decision else None,
            comment=decision.comment if decision else None,
        )
