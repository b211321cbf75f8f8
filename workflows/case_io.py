"""A case's side effects as its workflow sees them: write projections, send email (activities only).

A step stages what it writes (progress, deadline rows, chronology notes, approvals) and the case flushes
it in one activity and one transaction when the step is done, before the workflow waits again. Writes
never overlap (one at a time, in order), and each carries its event time so an older one never
overwrites a newer state. A step's emails go in one activity; the outbox keeps each exactly once per
recipient.
"""

from __future__ import annotations

import asyncio
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
        EmailBatch,
        EmailRequest,
        EmailResult,
        Invite,
        Recipient,
    )

# Since this patch a step's write is a local activity: it runs in the worker within the workflow task that
# staged it, so the server schedules no activity task and no further workflow task for it.
LOCAL_RECORDS = "record-case-as-local-activity"
# Since this patch the emails a workflow task sends (a step's invitations and advice requests, deadlines
# that fall due together) go in one activity, each still exactly once per recipient.
ONE_SEND_A_TASK = "one-email-activity-a-workflow-task"
# Since this patch a chronology entry written "now" (an action's, say) waits for the workflow task's one
# write instead of making a write of its own, and that write waits until every coroutine the task woke
# has staged its part: an Update and the step it moves on write in one local activity, not two.
ONE_WRITE_A_TASK = "one-record-write-a-workflow-task"
RECORD_OPTIONS = {
    "start_to_close_timeout": timedelta(seconds=30),
    # Retried until it succeeds (a case's record must not be lost); from the third attempt on the activity
    # logs each failure and flags the case, so a write that keeps failing is seen, not silent.
    "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)),
}
# The email activity heartbeats every 2 s: a worker that dies mid-batch is noticed within the heartbeat
# timeout and the next attempt sends only the copies not yet delivered. A long batch is not cut short.
EMAIL_OPTIONS = {
    "start_to_close_timeout": timedelta(minutes=15),
    "heartbeat_timeout": timedelta(seconds=10),
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
        self._stages = 0  # how many times anything was staged: the task is quiet when a pass adds none
        self._staged = CaseRecord(case_id=case.case_id, at=workflow.now())
        self._writing = asyncio.Lock()
        self._flusher: asyncio.Future[None] | None = None
        self._queued: list[tuple[list[EmailRequest], asyncio.Future[list[bool]]]] = []
        self._sender: asyncio.Future[None] | None = None

    @property
    def today(self) -> date:
        return english_date(workflow.now())

    def stage(
        self,
        *,
        progress: CaseProgress | None = None,
        deadlines: list[DeadlineRecord] | None = None,
        notes: list[ChronologyNote] | None = None,
        approvals: list[ApprovalRecord] | None = None,
    ) -> None:
        """Add to what the current step will write (a later row for the same key replaces an earlier one)."""
        staged = self._staged
        self._stages += 1
        if progress is not None:
            staged.progress = progress
        for row in deadlines or []:
            staged.deadlines = [d for d in staged.deadlines if d.key != row.key] + [row]
        staged.notes += notes or []
        for row in approvals or []:
            staged.approvals = [a for a in staged.approvals if a.key != row.key] + [row]
        if self._flusher is None:
            self._flusher = asyncio.ensure_future(self._flush_when_staged())

    def has_staged(self) -> bool:
        staged = self._staged
        return bool(staged.progress or staged.deadlines or staged.notes or staged.approvals)

    async def _flush_when_staged(self) -> None:
        """Once every coroutine of the workflow task has staged its part, write it all at once."""
        while True:
            await workflow.wait_condition(self.has_staged)
            if workflow.patched(ONE_WRITE_A_TASK):
                await self._quiet()
            await self.flush()

    async def _quiet(self) -> None:
        """Until a pass of the workflow's event loop stages nothing more (a condition that is always true
        is met at the next pass, after every coroutine already woken has run)."""
        while True:
            stages = self._stages
            await workflow.wait_condition(lambda: True)
            if self._stages == stages:
                return

    async def settle(self) -> None:
        """Wait until everything staged is written (before the run ends or continues as new)."""
        await workflow.wait_condition(lambda: not self.has_staged() and not self._writing.locked())

    async def flush(self) -> None:
        """Write everything staged, in one activity and one transaction (nothing if nothing is staged)."""
        async with self._writing:
            if not self.has_staged():
                return
            record = self._staged
            self._staged = CaseRecord(case_id=self.case.case_id, at=workflow.now())
            record.at = workflow.now()
            if workflow.patched(LOCAL_RECORDS):
                await workflow.execute_local_activity("record_case", record, **RECORD_OPTIONS)
            else:
                await workflow.execute_activity("record_case", record, **RECORD_OPTIONS)

    async def write(
        self,
        *,
        progress: CaseProgress | None = None,
        deadlines: list[DeadlineRecord] | None = None,
        notes: list[ChronologyNote] | None = None,
        approvals: list[ApprovalRecord] | None = None,
    ) -> None:
        """Stage these and write the step now."""
        self.stage(progress=progress, deadlines=deadlines, notes=notes, approvals=approvals)
        await self.flush()

    def note(self, action: str, detail: str = "", actor: Actor | None = None) -> ChronologyNote:
        """A chronology entry (written by the next flush), attributed to the actor or the engine."""
        self._notes += 1
        return ChronologyNote(
            at=workflow.now(),
            actor=(actor or Actor()).label,
            action=action,
            detail=detail,
            key=f"{workflow.info().run_id}:{self._notes}",
        )

    def remark(self, action: str, detail: str = "", actor: Actor | None = None) -> None:
        """Stage a chronology entry for the current step."""
        self.stage(notes=[self.note(action, detail, actor)])

    async def log(self, action: str, detail: str = "", actor: Actor | None = None) -> None:
        """Write a chronology entry now (with whatever else the workflow task stages)."""
        self.remark(action, detail, actor)
        if workflow.patched(ONE_WRITE_A_TASK):
            await self.settle()
        else:
            await self.flush()

    def show(self, step: str, next_action: str, *, closed: bool = False, **extra: object) -> None:
        """Stage the case's current step and what must happen next, in plain words."""
        self.stage(progress=CaseProgress(step=step, next_action=next_action, closed=closed, **extra))

    async def progress(self, step: str, next_action: str, *, closed: bool = False, **extra: object) -> None:
        """Show the case's current step and what must happen next, and write the step now."""
        self.show(step, next_action, closed=closed, **extra)
        await self.flush()

    def email(
        self,
        key: str,
        template: str,
        to: list[Recipient],
        context: dict | None = None,
        invite: Invite | None = None,
    ) -> EmailRequest:
        """One logical email, keyed for exactly-once delivery within the case."""
        return EmailRequest(
            key=f"{self.case.workflow_id}:{key}",
            case_id=self.case.case_id,
            template=template,
            to=to,
            context=context or {},
            invite=invite,
        )

    async def send_all(self, emails: list[EmailRequest]) -> list[bool]:
        """Send emails, with every other sent in this workflow task, in one activity; for each, False when
        it could not be delivered (recorded)."""
        if not emails:
            return []
        if not workflow.patched(ONE_SEND_A_TASK):
            return await self._send_now(emails)
        sent: asyncio.Future[list[bool]] = asyncio.get_running_loop().create_future()
        self._queued.append((emails, sent))
        if self._sender is None:
            self._sender = asyncio.ensure_future(self._send_when_queued())
        return await sent

    async def _send_when_queued(self) -> None:
        """Once every coroutine of the workflow task has queued its emails, send them all at once."""
        while True:
            await workflow.wait_condition(lambda: bool(self._queued))
            queued, self._queued = self._queued, []
            try:
                results = await self._send_now([e for emails, _ in queued for e in emails])
            except BaseException as err:  # cancelled with the workflow: every sender hears of it
                for _, sent in queued:
                    if sent.done():
                        continue
                    if isinstance(err, asyncio.CancelledError):
                        sent.cancel()
                    else:
                        sent.set_exception(err)
                raise
            for emails, sent in queued:
                if not sent.done():  # its sender may have been cancelled meanwhile
                    sent.set_result(results[: len(emails)])
                results = results[len(emails) :]

    async def _send_now(self, emails: list[EmailRequest]) -> list[bool]:
        """One send_emails activity; for each email, False when it could not be delivered (recorded)."""
        try:
            results: list[EmailResult] = await workflow.execute_activity(
                "send_emails", EmailBatch(emails=emails), result_type=list[EmailResult], **EMAIL_OPTIONS
            )
        except ActivityError as err:
            cause = err.cause
            if not (isinstance(cause, ApplicationError) and cause.type in ("EmailRejected", "NoRecipient")):
                keys = ", ".join(e.key.removeprefix(f"{self.case.workflow_id}:") for e in emails)
                await self.log("email-failed", f"could not be sent after retrying: {keys}")
            return [False] * len(emails)
        return [r.status != "failed" for r in results]

    async def send(
        self,
        key: str,
        template: str,
        to: list[Recipient],
        context: dict | None = None,
        invite: Invite | None = None,
    ) -> bool:
        """Send one logical email exactly once; False when it could not be delivered (already recorded)."""
        [sent] = await self.send_all([self.email(key, template, to, context, invite)])
        return sent
