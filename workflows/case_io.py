"""A case's side effects as its workflow sees them: write projections, send email (activities only)."""

from __future__ import annotations

from datetime import date, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.dates import english_date
    from domain.schemas import (
        Actor,
        ApprovalRecord,
        CaseProgress,
        CaseRecord,
        CaseRef,
        ChronologyNote,
        DeadlineRecord,
        EmailRequest,
        EmailResult,
        Invite,
        Recipient,
    )

RECORD_OPTIONS = {
    "start_to_close_timeout": timedelta(seconds=30),
    "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)),
}
EMAIL_OPTIONS = {
    "start_to_close_timeout": timedelta(seconds=60),
    "schedule_to_close_timeout": timedelta(days=2),
    "retry_policy": RetryPolicy(
        initial_interval=timedelta(seconds=5),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=30),
        non_retryable_error_types=["EmailRejected", "NoRecipient"],
    ),
}


class CaseIO:
    """Writes the case's projections and sends its email; every call goes through an activity."""

    def __init__(self, case: CaseRef) -> None:
        self.case = case
        self._notes = 0

    @property
    def today(self) -> date:
        return english_date(workflow.now())

    async def write(
        self,
        *,
        progress: CaseProgress | None = None,
        deadlines: list[DeadlineRecord] | None = None,
        notes: list[ChronologyNote] | None = None,
        approvals: list[ApprovalRecord] | None = None,
    ) -> None:
        """Write one step's projections in one transaction."""
        record = CaseRecord(
            case_id=self.case.case_id,
            at=workflow.now(),
            progress=progress,
            deadlines=deadlines or [],
            notes=notes or [],
            approvals=approvals or [],
        )
        await workflow.execute_activity("record_case", record, **RECORD_OPTIONS)

    def note(self, action: str, detail: str = "", actor: Actor | None = None) -> ChronologyNote:
        """A chronology entry (written by the next `write`), attributed to the actor or the engine."""
        self._notes += 1
        return ChronologyNote(
            at=workflow.now(),
            actor=(actor or Actor()).label,
            action=action,
            detail=detail,
            key=f"{workflow.info().run_id}:{self._notes}",
        )

    async def log(self, action: str, detail: str = "", actor: Actor | None = None) -> None:
        """Write a single chronology entry now."""
        await self.write(notes=[self.note(action, detail, actor)])

    async def progress(self, step: str, next_action: str, *, closed: bool = False, **extra: object) -> None:
        """Show the case's current step and what must happen next, in plain words."""
        await self.write(progress=CaseProgress(step=step, next_action=next_action, closed=closed, **extra))

    async def send(
        self,
        key: str,
        template: str,
        to: list[Recipient],
        context: dict | None = None,
        invite: Invite | None = None,
    ) -> bool:
        """Send one logical email exactly once; False when it could not be delivered (already recorded)."""
        request = EmailRequest(
            key=f"{self.case.workflow_id}:{key}",
            case_id=self.case.case_id,
            template=template,
            to=to,
            context=context or {},
            invite=invite,
        )
        try:
            result: EmailResult = await workflow.execute_activity(
                "send_email", request, result_type=EmailResult, **EMAIL_OPTIONS
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type in ("EmailRejected", "NoRecipient"):
                return False
            await self.log("email-failed", f"{template} could not be sent after retrying: {key}")
            return False
        return result.status != "failed"
