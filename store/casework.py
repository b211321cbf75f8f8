"""Case projections written by the workflows: cases, deadlines, chronology, outbox, approvals."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel

from domain.deadline_states import DeadlineState


class CaseStatus(StrEnum):
    open = "open"
    closed = "closed"


DeadlineStatus = DeadlineState  # one list of statuses: domain.deadline_states


class Case(SQLModel, table=True):
    # The SENDCo's list: a school's cases, newest first.
    __table_args__ = (Index("ix_case_school_started", "school_id", "started_at", "id"),)
    id: str = Field(primary_key=True, max_length=36)
    process: str = Field(index=True, max_length=40)
    workflow_id: str = Field(unique=True, max_length=80)
    pupil_id: int = Field(foreign_key="pupil.id", index=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    status: CaseStatus = Field(default=CaseStatus.open, index=True)
    step: str = Field(default="starting", max_length=60)
    next_action: str = Field(default="", max_length=500)
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    facts: dict = Field(
        default_factory=dict, sa_column=Column(JSON), description="What the SENDCo gave at the start"
    )
    view: dict = Field(
        default_factory=dict,
        sa_column=Column(JSON, nullable=False),
        description="The workflow's own view of the case",
    )
    started_by: int = Field(foreign_key="staff.id")
    started_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None = None
    recorded_at: dt.datetime | None = Field(
        default=None, description="Event time of the last progress written"
    )


class Deadline(SQLModel, table=True):
    # The deadline list: a school's deadlines, soonest first (school_id copied from the case for it).
    __table_args__ = (
        UniqueConstraint("case_id", "key"),
        Index("ix_deadline_school_due", "school_id", "due", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=36)
    school_id: int = Field(foreign_key="school.id")
    key: str = Field(max_length=120, description="Unique within the case: step and cycle")
    step: str = Field(max_length=60)
    rule_id: str = Field(max_length=40, index=True)
    owner: str = Field(max_length=40, description="Who must act: a role or agency kind")
    due: dt.date = Field(index=True)
    status: DeadlineState = Field(
        default=DeadlineState.pending,
        sa_column=Column(
            SAEnum(
                DeadlineState, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]
            ),
            nullable=False,
            index=True,
        ),
    )
    met_at: dt.datetime | None = None
    missed_at: dt.datetime | None = None
    escalated_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    recorded_at: dt.datetime | None = Field(default=None, description="Event time of the last state written")


class ChronologyEntry(SQLModel, table=True):
    """Append-only: when, who, what."""

    __table_args__ = (UniqueConstraint("case_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=36)
    at: dt.datetime
    actor: str = Field(max_length=80, description="staff:<id>, or 'engine' for the case itself")
    action: str = Field(max_length=80)
    detail: str = Field(default="", max_length=4000)
    key: str | None = Field(default=None, max_length=80, description="Set by workflows: a retry adds nothing")


class OutboxStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class OutboxMessage(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    case_id: str | None = Field(default=None, foreign_key="case.id", index=True, max_length=36)
    template: str = Field(max_length=80)
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    delivered: list[str] = Field(
        default_factory=list, sa_column=Column(JSON), description="Recipients whose own copy has gone"
    )
    subject: str = Field(max_length=300)
    status: OutboxStatus = Field(default=OutboxStatus.pending, index=True)
    attempts: int = 0
    created_at: dt.datetime
    sent_at: dt.datetime | None = None
    error: str | None = Field(default=None, max_length=2000)


class OutboxCopy(SQLModel, table=True):
    """One recipient's copy of an outbox message: claimed before it is handed to SMTP, delivered after 250.

    A copy claimed but never marked delivered was in flight when its sender died: the next attempt sends
    it again (the only duplicate possible, with the same Message-ID). `claimed_attempt` is the message's
    attempt that holds the claim; an older attempt still running cannot claim it back."""

    __table_args__ = (UniqueConstraint("outbox_id", "address"),)
    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("outboxmessage.id", ondelete="CASCADE"), index=True, nullable=False
        )
    )
    address: str = Field(max_length=320)
    message_id: str = Field(max_length=200, description="The Message-ID header, the same on every attempt")
    claimed_attempt: int = Field(default=0, description="The outbox attempt holding the claim (0: unclaimed)")
    claims: int = Field(default=0, description="How many times the copy was handed to the SMTP server")
    claimed_at: dt.datetime | None = None
    delivered_at: dt.datetime | None = None


class ApprovalStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"


class Approval(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("case_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=36)
    key: str = Field(max_length=120)
    step: str = Field(max_length=60)
    summary: str = Field(default="", max_length=1000)
    status: ApprovalStatus = Field(default=ApprovalStatus.pending, index=True)
    requested_at: dt.datetime
    decided_by: int | None = Field(default=None, foreign_key="staff.id")
    decided_at: dt.datetime | None = None
    comment: str | None = Field(default=None, max_length=2000)
    recorded_at: dt.datetime | None = Field(default=None, description="Event time of the last state written")


class ReceivedMail(SQLModel, table=True):
    """A message the embedded development SMTP server received, kept so it can be read in the product."""

    id: int | None = Field(default=None, primary_key=True)
    received_at: dt.datetime = Field(index=True)
    mail_from: str = Field(max_length=320)
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    subject: str = Field(default="", max_length=500)
    message_id: str | None = Field(default=None, max_length=300)
    raw: str
    school_id: int | None = Field(
        default=None, foreign_key="school.id", index=True, description="Whose mail it is; none: nobody's"
    )
