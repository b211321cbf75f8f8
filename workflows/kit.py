"""The process kit: what every case workflow is made of.

Plan a step's deadline from the timeline (`plan`), wait on it in the background (`track`) or in line
(`wait`), email people (`email`: one activity for every recipient, each their own copy), show the case
(`show`: its step, the SENDCo's next action, flags and the workflow's view), flag it (`flag`), and key
everything so it is unique in the case across cycles (`key`). The generic actions every case offers
(change a due date, decide an approval) live here too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from temporalio import workflow
from temporalio.exceptions import ApplicationError, FailureError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain.deadline_states import DeadlineState
    from domain.rules import rule
    from domain.schemas import (
        Actor,
        ApprovalDecision,
        CaseClosing,
        CaseRef,
        ChronologyNote,
        DeadlineRecord,
        DueDateChange,
        Invite,
        LinkedCase,
        LinkedStart,
        ProvisionChange,
        Recipient,
    )
    from domain.timelines import TimelineEntry
    from workflows.approvals import Approvals
    from workflows.case_io import ONE_SEND_A_TASK, RECORD_OPTIONS, CaseIO
    from workflows.deadlines import PARENT, Deadline, Policy
    from workflows.escalations import Escalations
    from workflows.process import action

OnLate = Callable[[Deadline], Awaitable[None]]


def day(d: date) -> str:
    """A date for the chronology and the SENDCo's next action: '12 Jan 2027'."""
    return f"{d:%d %b %Y}"


def labels(recipients: list[Recipient]) -> str:
    return ", ".join(r.label for r in recipients)


def rule_context(rule_id: str) -> dict[str, str]:
    """What every deadline email shows: the rule id and its citation."""
    return {"rule_id": rule_id, "citation": rule(rule_id).citation}


def iso(value: date | datetime | None) -> str | None:
    """A date or datetime for the workflow's view of the case (the pages put it in words)."""
    return value.isoformat() if value is not None else None


class CaseWorkflow:
    """Base of every process workflow; subclasses call `open_case` from their @workflow.init."""

    io: CaseIO
    approvals: Approvals
    escalation_emails: Escalations
    deadlines: dict[str, Deadline]
    step: str
    flags: list[str]
    cycle: int | None
    tasks: dict[str, asyncio.Future[str]]
    finished: set[str]

    def open_case(self, case: CaseRef, *, cycle: int | None = None, flags: list[str] | None = None) -> None:
        self.io = CaseIO(case)
        self.approvals = Approvals(self.io)
        self.escalation_emails = Escalations(self.io, self.key)
        self.deadlines, self.tasks, self.finished = {}, {}, set()
        self.cycle, self.flags = cycle, list(flags or [])

    # --- what a process tells the kit -------------------------------------------------------------
    def timeline(self) -> list[TimelineEntry]:
        """The process's dated steps (from domain.timelines)."""
        return []

    def next_action(self) -> str:
        """What the SENDCo must do next, in plain words."""
        return "Nothing more on this case"

    def view(self) -> dict[str, Any] | None:
        """The workflow's own view of the case (no names), or None to leave it as it is."""
        return None

    # --- keys and dates ---------------------------------------------------------------------------
    def key(self, name: str) -> str:
        """A key unique in the case across cycles (deadline rows, outbox, approvals)."""
        return f"c{self.cycle}:{name}" if self.cycle else name

    def entry(self, step: str) -> TimelineEntry | None:
        return next((e for e in self.timeline() if e.step == step), None)

    def due(self, step: str) -> date:
        found = self.entry(step)
        if found is None:
            raise KeyError(f"no step {step!r} in this cycle's timeline")
        return found.due

    @property
    def today(self) -> date:
        return self.io.today

    def not_future(self, when: date) -> None:
        """Refuse a day that has not come yet (for something that has happened)."""
        if when > self.today:
            raise ApplicationError(f"{day(when)} is in the future: enter the day it happened", type="Invalid")

    # --- deadlines --------------------------------------------------------------------------------
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
        watch = Deadline(
            self.io, key, step, title, rule_id, due, owner, policy or Policy(), self.escalation_emails
        )
        self.deadlines[key] = watch
        return watch

    def plan(self, step: str, title: str, owner: Recipient, policy: Policy | None = None) -> Deadline:
        """The deadline of a timeline step, with the rule that sets it (not yet waited on)."""
        found = self.entry(step)
        assert found is not None, step
        return self.deadline(self.key(step), step, title, found.rule_id, found.due, owner, policy)

    def track(
        self,
        step: str,
        title: str,
        owner: Recipient,
        done: Callable[[], bool],
        policy: Policy | None = None,
        on_late: OnLate | None = None,
    ) -> Deadline:
        """Plan a step's deadline and wait on it in the background."""
        watch = self.plan(step, title, owner, policy)
        self.watch(watch, done, on_late)
        return watch

    def watch(self, watch: Deadline, done: Callable[[], bool], on_late: OnLate | None = None) -> None:
        self.tasks[watch.key] = asyncio.ensure_future(self.wait(watch, done, on_late))

    async def wait(self, watch: Deadline, done: Callable[[], bool], on_late: OnLate | None = None) -> str:
        """Wait on a deadline; on_late runs once when it is first missed."""
        waiting = asyncio.ensure_future(watch.until(done))
        if on_late is not None:
            await workflow.wait_condition(lambda: waiting.done() or watch.is_late)
            if not waiting.done():
                await on_late(watch)
        outcome = await waiting
        self.finished.add(watch.key)
        return outcome

    def done_now(self, step: str, title: str, owner: Recipient) -> None:
        """A step the engine has just done (its emails sent): its row is written as met."""
        watch = self.plan(step, title, owner)
        watch.status = DeadlineState.met
        self.io.stage(deadlines=[watch._row()])
        self.finished.add(watch.key)

    def is_open(self, key: str) -> bool:
        return key in self.deadlines and key not in self.finished

    def row(
        self, step: str, owner: Recipient, status: DeadlineState, notes: list[ChronologyNote] | None = None
    ) -> None:
        """A deadline row for a step nobody waits on yet (or any more)."""
        found = self.entry(step)
        assert found is not None
        record = DeadlineRecord(
            key=self.key(step),
            step=step,
            rule_id=found.rule_id,
            owner=owner.label,
            due=found.due,
            status=status,
            at=workflow.now(),
        )
        self.io.stage(deadlines=[record], notes=notes)

    async def settle(self) -> None:
        """Cancel whatever still waits, let every deadline write its last row, and write everything."""
        for key, task in self.tasks.items():
            if not task.done():
                self.deadlines[key].cancel()
        await asyncio.gather(*self.tasks.values())
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self.escalation_emails.settle()
        await self.io.settle()

    # --- email ------------------------------------------------------------------------------------
    async def at_once(self, *steps: Awaitable[None]) -> None:
        """Do these steps together, so that their emails go in one activity (before the patch, in turn)."""
        if workflow.patched(ONE_SEND_A_TASK):
            await asyncio.gather(*steps)
        else:
            for step in steps:
                await step

    async def email(
        self,
        name: str,
        template: str,
        to: list[Recipient],
        context: dict[str, Any],
        action: str,
        detail: str,
        invite: Callable[[Recipient], Invite] | None = None,
    ) -> None:
        """One copy per recipient (exactly once each) in one activity, then a chronology entry naming them."""
        emails = [
            self.io.email(
                self.key(f"{name}:{r.label}"), template, [r], context, invite(r) if invite else None
            )
            for r in to
        ]
        sent = await self.io.send_all(emails)
        failed = [r for r, ok in zip(to, sent, strict=True) if not ok]
        note = f"{detail}; to {labels(to)}"
        if failed:
            note += f" (not delivered to {labels(failed)})"
        self.io.remark(action, note)

    # --- the register and other cases ----------------------------------------------------------------
    async def set_provision(self, provision: str, needs: list[str]) -> None:
        """Set the pupil's SEN provision (and ranked needs) on the register."""
        case = self.io.case
        change = ProvisionChange(
            pupil_id=case.pupil_id, school_id=case.school_id, provision=provision, needs=needs
        )
        await workflow.execute_activity("set_provision", change, **RECORD_OPTIONS)

    async def open_linked(
        self,
        process: str,
        key: str,
        build: Callable[[CaseRef], BaseModel],
        actor: Actor,
        facts: dict[str, Any],
        *,
        child: bool = True,
    ) -> CaseRef:
        """Open a case of another process for the same pupil and start it (it lives on after this one).

        As a child workflow (abandoned when this one closes), or, with child=False, started on its own by an
        activity: for a case this one continues as new past, which then hears nothing of the other's end.
        """
        link = LinkedCase(
            opened_by=self.io.case, process=process, key=self.key(key), facts=facts, started_by=actor
        )
        ref: CaseRef = await workflow.execute_activity(
            "open_linked_case", link, result_type=CaseRef, **RECORD_OPTIONS
        )
        inp = build(ref)
        if not child:
            start = LinkedStart(case=ref, input=inp.model_dump(mode="json"))
            await workflow.execute_activity("start_linked_case", start, **RECORD_OPTIONS)
            return ref
        await workflow.start_child_workflow(
            process,
            inp,
            id=ref.workflow_id,
            parent_close_policy=ParentClosePolicy.ABANDON,
        )
        return ref

    async def close_pupil_cases(self, reason: str, actor: Actor) -> int:
        """Close the pupil's other open cases with the reason, and cancel their workflows; how many closed."""
        closing = CaseClosing(by=self.io.case, reason=reason, actor=actor, at=workflow.now())
        workflow_ids: list[str] = await workflow.execute_activity(
            "close_pupil_cases", closing, result_type=list[str], **RECORD_OPTIONS
        )
        for workflow_id in workflow_ids:
            with contextlib.suppress(FailureError):  # it had already ended: its record is closed all the same
                await workflow.get_external_workflow_handle(workflow_id).cancel()
        return len(workflow_ids)

    la_late_template = ""  # the process's email telling the parents the LA is late

    async def tell_la_late(self, watch: Deadline) -> None:
        """The LA missed its clock: the parents are told (the headteacher is escalated to by the engine)."""
        self.flag(f"la-late-{watch.rule_id}")
        context = {
            "step_title": watch.title,
            "due": watch.due.isoformat(),
            "days_late": (self.today - watch.due).days,
            **rule_context(watch.rule_id),
        }
        await self.email(
            f"{watch.step}:la-late",
            self.la_late_template,
            [PARENT],
            context,
            "la-late-notified",
            f"{watch.title} was due {day(watch.due)} ({watch.rule_id}): the parents are told the LA is late",
        )
        self.show()

    # --- the case view ----------------------------------------------------------------------------
    def flag(self, flag: str) -> None:
        if flag not in self.flags:
            self.flags.append(flag)

    def show(self, step: str | None = None, *, closed: bool = False) -> None:
        """Stage the current step, what the SENDCo must do next, the flags and the workflow's view."""
        self.step = step or self.step
        self.io.show(self.step, self.next_action(), closed=closed, flags=list(self.flags), facts=self.view())

    # --- the generic actions ----------------------------------------------------------------------
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
        if watch is None:
            raise ApplicationError(
                "That deadline is not open on this case now, so its due date cannot change.", type="Conflict"
            )
        if watch.status == DeadlineState.cancelled:
            raise ApplicationError(
                "That step is no longer needed, so its due date cannot change.", type="Conflict"
            )
        if watch.is_final:
            raise ApplicationError(
                "That step is already done, so its due date can no longer change.", type="Conflict"
            )
        if change.due == watch.due:
            raise ApplicationError("The new due date is the same as the current one.", type="Invalid")
