"""A parent's written request to see their child's educational record (TR-RECORDS-ACCESS).

1. The request is received: the school has 15 school days to let the parent see the record.
2. The SENDCo gathers the record and submits it for the headteacher's approval.
3. The headteacher approves (or rejects with a comment, and the SENDCo resubmits).
4. The SENDCo gives the parent access and records the date: the deadline is met and the case closes.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.dates import SchoolYearCalendar
    from domain.records_request import (
        RecordDisclosure,
        RecordsRequestInput,
        RecordsRequestStart,
        RecordsStep,
    )
    from domain.schemas import StaffAction
    from domain.timelines import RecordsRequestFacts, due_of, records_request_timeline
    from workflows.deadlines import SENDCO
    from workflows.kit import CaseWorkflow
    from workflows.process import Process, action


@workflow.defn(name="records_request")
class RecordsRequest(CaseWorkflow):
    @workflow.init
    def __init__(self, inp: RecordsRequestInput) -> None:
        self.open_case(inp.case)
        self.step = RecordsStep.preparing
        self.submitted: StaffAction | None = None
        self.approved = False
        self.disclosure: RecordDisclosure | None = None

    @workflow.run
    async def run(self, inp: RecordsRequestInput) -> str:
        calendar = SchoolYearCalendar.from_school(inp.case.calendar.terms, inp.case.calendar.inset_days)
        timeline = records_request_timeline(
            RecordsRequestFacts(request_received=inp.request_received), calendar
        )
        respond = self.deadline(
            "respond",
            "respond",
            "Let the parent see the educational record",
            "TR-RECORDS-ACCESS",
            due_of(timeline, "respond"),
            SENDCO,
        )
        self.io.remark("case-opened", f"Request received {inp.request_received:%d %b %Y}", inp.started_by)
        watch = asyncio.ensure_future(respond.until(lambda: self.disclosure is not None))
        attempt = 0
        while not self.approved:
            attempt += 1
            self.step, self.submitted = RecordsStep.preparing, None
            self.io.show(
                self.step, "Gather the educational record and submit it for the headteacher's approval"
            )
            await workflow.wait_condition(lambda: self.submitted is not None)
            self.step = RecordsStep.awaiting_approval
            self.io.show(self.step, "The headteacher approves releasing the record")
            decision = await self.approvals.request(
                f"release-{attempt}",
                self.step,
                "Release the educational record to the parent",
                self.submitted.note if self.submitted else "",
            )
            self.approved = decision.approve
        self.step = RecordsStep.disclosing
        self.io.show(self.step, "Give the parent access to the record, then record the date")
        outcome = await watch
        self.io.show(RecordsStep.closed, "Nothing: the request has been answered", closed=True)
        await self.settle()
        return outcome

    @action("Submit for approval", steps=[RecordsStep.preparing])
    async def submit_for_approval(self, action: StaffAction) -> str:
        self.submitted = action
        await self.io.log("submitted-for-approval", action.note, action.actor)
        return "submitted"

    def validate_submit_for_approval(self, action: StaffAction) -> None:
        if self.step != RecordsStep.preparing:
            raise ApplicationError("the record is not being prepared now", type="Conflict")

    @action("Record disclosure", steps=[RecordsStep.disclosing])
    async def record_disclosure(self, disclosure: RecordDisclosure) -> str:
        self.disclosure = disclosure
        await self.io.log(
            "record-disclosed", f"Parent given access on {disclosure.disclosed_on:%d %b %Y}", disclosure.actor
        )
        return "recorded"

    def validate_record_disclosure(self, disclosure: RecordDisclosure) -> None:
        if self.step != RecordsStep.disclosing:
            raise ApplicationError(
                "the headteacher has not approved releasing the record yet", type="Conflict"
            )
        if disclosure.disclosed_on > self.io.today:
            raise ApplicationError("the disclosure date cannot be in the future", type="Invalid")


PROCESS = Process(
    name="records_request",
    title="Parent's request to see the educational record",
    workflow=RecordsRequest,
    steps=RecordsStep,
    start=RecordsRequestStart,
    build_input=lambda case, facts, actor: RecordsRequestInput(
        case=case, request_received=facts.request_received, started_by=actor
    ),
    facts=RecordsRequestFacts,
    timeline=records_request_timeline,
    templates=("approval-request", "approval-decided", "reminder", "escalation", "overdue"),
)
