"""Payloads passed between the API, the workflows and the activities (no I/O, safe in the sandbox).

They carry ids, roles and dates only: names, emails and dates of birth stay in the register and are
looked up by the activities that need them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.deadline_states import DeadlineState
from domain.words import KINDS


class Role(StrEnum):
    sendco = "sendco"
    headteacher = "headteacher"
    staff = "staff"


class Actor(BaseModel):
    """Who did something: a staff member with a role, a parent or agency through an emailed link
    (`responder`, as parent:<id> or agency:<id>), or the engine itself (neither)."""

    staff_id: int | None = None
    role: Role | None = None
    responder: str | None = Field(default=None, pattern=r"^(parent|agency):[0-9]+$", max_length=40)

    @property
    def label(self) -> str:
        if self.responder is not None:
            return self.responder
        return f"staff:{self.staff_id}" if self.staff_id is not None else "engine"

    @property
    def responder_kind(self) -> str | None:
        """'parent' or 'agency' for someone acting through a link; None for staff and the engine."""
        return self.responder.partition(":")[0] if self.responder else None


ENGINE = Actor()


@dataclass(frozen=True)
class AgencyOf:
    """A field's mark: its value is the id of an agency of this kind in the register, checked at start."""

    kind: str


class Recipient(BaseModel):
    """Someone to email, resolved to addresses from the register by the email activity.

    kind is a staff role (sendco, headteacher), 'parent' (every parent or carer linked to the pupil),
    an agency kind (la_sen, ep_service, health, social_care, other), or 'staff' with staff_id.
    """

    kind: str
    staff_id: int | None = None
    agency_id: int | None = None

    @property
    def label(self) -> str:
        ident = self.staff_id or self.agency_id
        return f"{self.kind}:{ident}" if ident else self.kind


# Each kind of recipient in words, (a label, the same in a sentence): the one table in domain.words.
RECIPIENT_WORDS: dict[str, tuple[str, str]] = {k: v for k, v in KINDS.items() if k != "engine"}


class SchoolCalendar(BaseModel):
    """What a workflow needs of the school's calendar for its own date arithmetic."""

    terms: list[tuple[dt.date, dt.date]] = Field(default_factory=list)
    inset_days: list[dt.date] = Field(default_factory=list)
    sendco_working_days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])


class CaseRef(BaseModel):
    """A case as its workflow knows it."""

    case_id: str
    workflow_id: str
    process: str
    pupil_id: int
    school_id: int
    calendar: SchoolCalendar = Field(default_factory=SchoolCalendar)


class Invite(BaseModel):
    """A meeting invitation, sent as an .ics attachment."""

    uid: str
    start: dt.datetime
    minutes: int = 60
    summary: str
    location: str = ""
    sequence: int = 0


class EmailRequest(BaseModel):
    """One logical email; key makes it exactly-once (workflow id + step + recipient role + sequence)."""

    key: str
    case_id: str | None
    template: str
    to: list[Recipient]
    context: dict[str, Any] = Field(default_factory=dict)
    invite: Invite | None = None


class EmailBatch(BaseModel):
    """A step's emails, sent by one activity (each still exactly once per recipient)."""

    emails: list[EmailRequest]


class EmailResult(BaseModel):
    key: str
    status: str
    recipients: int = 0


class DeadlineRecord(BaseModel):
    """A deadline's state at one moment (the states and their moves: domain.deadline_states)."""

    key: str
    step: str
    rule_id: str
    owner: str
    due: dt.date
    status: DeadlineState
    at: dt.datetime


class ChronologyNote(BaseModel):
    """One chronology entry; key (run id + sequence) makes a retried write add it only once."""

    at: dt.datetime
    actor: str
    action: str
    detail: str = ""
    key: str | None = None


class CaseProgress(BaseModel):
    step: str
    next_action: str
    closed: bool = False
    flags: list[str] | None = None
    facts: dict[str, Any] | None = None


class ApprovalRecord(BaseModel):
    key: str
    step: str
    summary: str
    status: str
    at: dt.datetime
    decided_by: int | None = None
    comment: str | None = None


class CaseRecord(BaseModel):
    """Everything one workflow step writes to the case projections, in one transaction."""

    case_id: str
    at: dt.datetime
    progress: CaseProgress | None = None
    deadlines: list[DeadlineRecord] = Field(default_factory=list)
    notes: list[ChronologyNote] = Field(default_factory=list)
    approvals: list[ApprovalRecord] = Field(default_factory=list)


class ApprovalDecision(BaseModel):
    """The headteacher's answer to a pending approval."""

    key: str
    approve: bool
    comment: str = Field(default="", max_length=2000)
    actor: Actor


class DueDateChange(BaseModel):
    """A new due date for one of the case's open deadlines, and why it moved."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"key": "respond", "due": "2027-02-01", "reason": "The parent agreed a later date"}]
        }
    )

    key: str
    due: dt.date
    reason: str = Field(min_length=1, max_length=1000)
    actor: Actor


class StaffAction(BaseModel):
    """An action a staff member takes on a case, with an optional note."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "Record gathered, 14 pages"}]})

    actor: Actor
    note: str = Field(default="", max_length=2000)


class LinkedCase(BaseModel):
    """A case one case opens for the same pupil (an EHC needs assessment from a review, say)."""

    opened_by: CaseRef
    process: str
    key: str = Field(description="unique in the opening case: the same key never opens a second case")
    facts: dict[str, Any] = Field(default_factory=dict, description="what the new case starts with")
    started_by: Actor


class LinkedStart(BaseModel):
    """A linked case's workflow, started on its own rather than as a child (its input as JSON)."""

    case: CaseRef
    input: dict[str, Any]


class ProvisionChange(BaseModel):
    """The pupil's SEN provision and ranked needs on the register, as a process sets them."""

    pupil_id: int
    school_id: int
    provision: str = Field(description="a census SEN provision code: E, K or N")
    needs: list[str] = Field(default_factory=list, description="ranked census need codes, at most two")


class CaseClosing(BaseModel):
    """Close the pupil's other open cases, with the reason (the pupil has left the school)."""

    by: CaseRef = Field(description="the case that closes them")
    reason: str = Field(min_length=1, max_length=500)
    actor: Actor
    at: dt.datetime = Field(description="the event time of the closing, as the closing case knows it")
