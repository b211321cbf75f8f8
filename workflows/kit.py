"""The process kit: what every case workflow shares (side effects, deadlines, approvals, generic actions)."""

from __future__ import annotations

from datetime import date

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.schemas import ApprovalDecision, CaseRef, DueDateChange, Recipient
    from workflows.approvals import Approvals
    from workflows.case_io import CaseIO
    from workflows.deadlines import Deadline, Policy
    from workflows.process import action


class CaseWorkflow:
    """Base of every process workflow; subclasses call `open_case` from their @workflow.init."""

    io: CaseIO
    approvals: Approvals
    deadlines: dict[str, Deadline]

    def open_case(self, case: CaseRef) -> None:
        self.io = CaseIO(case)
        self.approvals = Approvals(self.io)
        self.deadlines = {}

    def deadline(
        self,
        key: str,
        step: str,
        title: str,
        rule_id: str,
        due: date,
        owner: Recipient,
        policy: Policy | None = None,
    ) -> Deadline:
        """Create (and register, so its due date can be changed) a deadline for one step."""
        watch = Deadline(self.io, key, step, title, rule_id, due, owner, policy or Policy())
        self.deadlines[key] = watch
        return watch

    @workflow.update
    async def ready(self) -> str:
        """Answered as soon as a worker runs the case: proves the case is alive."""
        return self.io.case.case_id

    @workflow.update
    async def decide_approval(self, decision: ApprovalDecision) -> str:
        """The headteacher approves or rejects a pending step."""
        self.approvals.decide(decision)
        return "approved" if decision.approve else "rejected"

    @decide_approval.validator
    def validate_decide_approval(self, decision: ApprovalDecision) -> None:
        self.approvals.validate(decision)

    @action("Change a due date")
    async def change_due_date(self, change: DueDateChange) -> str:
        """Move a pending deadline: every reminder and escalation is re-planned, and its owner told."""
        self.deadlines[change.key].move(change.due, change.actor, change.reason, tell_owner=True)
        return change.due.isoformat()

    def validate_change_due_date(self, change: DueDateChange) -> None:
        watch = self.deadlines.get(change.key)
        if watch is None or watch.status in ("met", "cancelled"):
            raise ApplicationError(f"no open deadline {change.key!r} on this case", type="Conflict")
        if change.due == watch.due:
            raise ApplicationError("the new due date is the same as the current one", type="Invalid")
