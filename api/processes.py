"""The processes a case can follow: what the SENDCo gives to start one, and the actions it accepts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from domain import annual_review as ar
from domain.schemas import Actor, CaseRef, DueDateChange, RecordDisclosure, RecordsRequestInput, StaffAction
from workflows.annual_review import AnnualReview
from workflows.records_request import RecordsRequest


@dataclass(frozen=True)
class Action:
    """An API action: the workflow Update it runs, the payload model (the API adds `actor`), its words."""

    update: str
    payload: type[BaseModel]
    title: str = ""  # as buttons and headings show it; empty: the action's name in words


GENERIC_ACTIONS = {"change-due-date": Action("change_due_date", DueDateChange, "Change a due date")}


@dataclass(frozen=True)
class Process:
    name: str
    title: str
    facts: type[BaseModel]
    run: Callable[..., Any]
    build_input: Callable[[CaseRef, Any, Actor], BaseModel]
    actions: dict[str, Action] = field(default_factory=dict)

    def action(self, name: str) -> Action | None:
        return self.actions.get(name) or GENERIC_ACTIONS.get(name)


class RecordsRequestStart(BaseModel):
    request_received: dt.date


PROCESSES: dict[str, Process] = {
    p.name: p
    for p in [
        Process(
            name="records_request",
            title="Parent's request to see the educational record",
            facts=RecordsRequestStart,
            run=RecordsRequest.run,
            build_input=lambda case, facts, actor: RecordsRequestInput(
                case=case, request_received=facts.request_received, started_by=actor
            ),
            actions={
                "submit-for-approval": Action("submit_for_approval", StaffAction),
                "record-disclosure": Action("record_disclosure", RecordDisclosure),
            },
        ),
        Process(
            name="annual_review",
            title="EHCP annual review (with phase transfer)",
            facts=ar.AnnualReviewStart,
            run=AnnualReview.run,
            build_input=lambda case, facts, actor: facts.build_input(case, actor),
            actions={
                "set-meeting": Action("set_meeting", ar.SetMeeting, "Set the review meeting"),
                "reschedule-meeting": Action(
                    "reschedule_meeting", ar.RescheduleMeeting, "Move the review meeting"
                ),
                "record-advice": Action("record_advice", ar.AdviceReceived, "Record advice received"),
                "record-parent-views": Action(
                    "record_parent_views", ar.ParentViews, "Record the parents' views"
                ),
                "record-meeting": Action("record_meeting", ar.MeetingRecord, "Record the meeting"),
                "submit-report": Action(
                    "submit_report", ar.ReportDraft, "Submit the report for the headteacher's approval"
                ),
                "record-la-decision": Action("record_la_decision", ar.LADecision, "Record the LA's decision"),
                "record-amendment-notice": Action(
                    "record_amendment_notice", ar.AmendmentNotice, "Record the LA's proposed amendments"
                ),
                "record-parent-comments": Action(
                    "record_parent_comments", ar.ParentComments, "Record the parents' comments"
                ),
                "record-final-plan": Action("record_final_plan", ar.FinalPlan, "Record the final plan"),
            },
        ),
    ]
}
