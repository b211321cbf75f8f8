"""Probe workflows for the crash tests: a step's burst of email, and a timer that then sends one, both
with the product's email activity options (heartbeat, retries) from workflows/case_io.py."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.schemas import EmailBatch, EmailResult
    from workflows.case_io import EMAIL_OPTIONS


@workflow.defn
class EmailBurst:
    """Sends the batch in one send_emails activity, as a case's step does."""

    @workflow.run
    async def run(self, batch: EmailBatch) -> list[EmailResult]:
        return await workflow.execute_activity(
            "send_emails", batch, result_type=list[EmailResult], **EMAIL_OPTIONS
        )


@workflow.defn
class TimerThenEmail:
    """Waits on a durable timer, then sends the batch: the email is what shows the timer fired."""

    @workflow.run
    async def run(self, batch: EmailBatch, seconds: float) -> list[EmailResult]:
        await workflow.sleep(timedelta(seconds=seconds))
        return await workflow.execute_activity(
            "send_emails", batch, result_type=list[EmailResult], **EMAIL_OPTIONS
        )


PROBES = [EmailBurst, TimerThenEmail]
