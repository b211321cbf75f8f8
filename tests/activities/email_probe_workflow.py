"""A tiny workflow that sends one email through send_email with a short retry policy, for the retry tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.schemas import EmailRequest, EmailResult


@dataclass
class ProbeOutcome:
    """What the workflow saw: the activity's result, or the type of the error it failed with."""

    result: EmailResult | None = None
    error_type: str | None = None
    non_retryable: bool | None = None


@workflow.defn
class EmailProbe:
    @workflow.run
    async def run(self, req: EmailRequest) -> ProbeOutcome:
        try:
            result = await workflow.execute_activity(
                "send_email",
                req,
                result_type=EmailResult,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=5),
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError):
                return ProbeOutcome(error_type=cause.type, non_retryable=cause.non_retryable)
            raise
        return ProbeOutcome(result=result)
