"""What the JSON API answers with: public response models built from the projections, never the tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any, ClassVar, TypeVar

from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from domain.dates import ENGLAND as LONDON
from domain.deadline_states import OPEN, DeadlineState
from domain.rules import rule
from domain.schemas import Role
from store.casework import (
    Approval,
    ApprovalStatus,
    Case,
    CaseStatus,
    ChronologyEntry,
    Deadline,
    OutboxMessage,
    OutboxStatus,
)
from store.paging import Page
from store.register import Staff
from workflows.process import Action, Process

T = TypeVar("T")
LATE_STATES = frozenset({DeadlineState.met_late, DeadlineState.missed, DeadlineState.escalated})


def today() -> dt.date:
    """Today in England, where the deadlines fall."""
    return dt.datetime.now(LONDON).date()


def _english_date(moment: dt.datetime) -> dt.date:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(LONDON).date()


def days_late(row: Deadline, on: dt.date) -> int | None:
    """Days past the due date a late deadline was done (met late) or has waited (missed, escalated)."""
    if row.status not in LATE_STATES:
        return None
    done = _english_date(row.completed_at) if row.completed_at else on
    return max((done - row.due).days, 0)


class DeadlinePublic(BaseModel):
    """A deadline of a case: the rule and its citation, who must act, the due date and how it stands."""

    COLUMNS: ClassVar = ("key", "step", "rule_id", "owner", "due", "status", "met_at", "escalated_at")
    COLUMNS += ("completed_at", "case_id")  # what `of` reads of a deadline row

    key: str
    step: str
    rule_id: str
    citation: str
    owner: str
    due: dt.date
    status: DeadlineState
    days_late: int | None = Field(description="For met late, missed or escalated: days past the due date")
    met_at: dt.datetime | None
    escalated_at: dt.datetime | None
    completed_at: dt.datetime | None
    case_id: str

    @classmethod
    def of(cls, row: Deadline, on: dt.date | None = None) -> DeadlinePublic:
        return cls(
            key=row.key,
            step=row.step,
            rule_id=row.rule_id,
            citation=rule(row.rule_id).citation,
            owner=row.owner,
            due=row.due,
            status=row.status,
            days_late=days_late(row, on or today()),
            met_at=row.met_at,
            escalated_at=row.escalated_at,
            completed_at=row.completed_at,
            case_id=row.case_id,
        )


def is_open(row: Deadline) -> bool:
    """Still waiting for its step: pending, missed or escalated, and not completed."""
    return row.status in OPEN and row.completed_at is None


class CaseSummary(BaseModel):
    """A case in a list: where it is and what is next."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    process: str
    pupil_id: int
    status: CaseStatus
    step: str
    next_action: str
    flags: list[str]
    started_at: dt.datetime
    updated_at: dt.datetime


class CaseView(CaseSummary):
    """One case: where it is, what is next, its deadlines, and the actions it offers now."""

    process_title: str
    workflow_id: str
    facts: dict[str, Any] = Field(description="What the SENDCo gave at the start")
    view: dict[str, Any] = Field(description="The workflow's own view of the case")
    next_deadline: DeadlinePublic | None
    deadlines: list[DeadlinePublic]
    actions: list[str] = Field(description="The actions offered now (each is POST .../actions/<name>)")


def offered(process: Process | None, case: Case, deadlines: Iterable[Deadline]) -> dict[str, Action]:
    """The actions a case offers now: those of its step; change-due-date only while a deadline is open."""
    if process is None or case.status == CaseStatus.closed:
        return {}
    any_open = any(is_open(d) for d in deadlines)
    now = [
        (name, spec)
        for name, spec in process.actions.items()
        if spec.offered_at(case.step) and (name != "change-due-date" or any_open)
    ]
    return dict(sorted(now, key=lambda item: not item[1].steps))  # the step's own actions first


def case_view(case: Case, process: Process | None, deadlines: list[Deadline]) -> CaseView:
    on = today()
    public = [DeadlinePublic.of(d, on) for d in deadlines]
    upcoming = next((p for p, d in zip(public, deadlines, strict=True) if is_open(d)), None)
    return CaseView(
        id=case.id,
        process=case.process,
        pupil_id=case.pupil_id,
        status=case.status,
        step=case.step,
        next_action=case.next_action,
        flags=list(case.flags or []),
        started_at=case.started_at,
        updated_at=case.updated_at,
        process_title=process.title if process else case.process,
        workflow_id=case.workflow_id,
        facts=dict(case.facts or {}),
        view=dict(case.view or {}),
        next_deadline=upcoming,
        deadlines=public,
        actions=sorted(offered(process, case, deadlines)),
    )


class ActionTaken(BaseModel):
    """An action done: what the workflow answered, and the case as it stands after it."""

    case_id: str
    action: str
    result: str = Field(description="The workflow's answer, such as 'submitted' or a new date")
    case: CaseView


class CaseStarted(BaseModel):
    id: str
    workflow_id: str
    process: str


class ChronologyPublic(BaseModel):
    """One line of a case's chronology: when, who (staff:<id> or engine), what."""

    at: dt.datetime
    actor: str
    action: str
    detail: str

    @classmethod
    def of(cls, row: ChronologyEntry) -> ChronologyPublic:
        return cls(at=row.at, actor=row.actor, action=row.action, detail=row.detail)


class OutboxPublic(BaseModel):
    """An email the engine sent or tried to send; addresses only for the SENDCo and the headteacher."""

    id: int
    case_id: str | None
    template: str
    subject: str
    status: OutboxStatus
    recipients: list[str] | None = Field(description="Hidden (null) for school staff")
    recipient_count: int
    delivered_count: int
    attempts: int
    created_at: dt.datetime
    sent_at: dt.datetime | None
    error: str | None = Field(description="Why it failed; hidden (null) for school staff")

    @classmethod
    def of(cls, row: OutboxMessage, staff: Staff) -> OutboxPublic:
        shown = Role(staff.role) != Role.staff
        assert row.id is not None
        return cls(
            id=row.id,
            case_id=row.case_id,
            template=row.template,
            subject=row.subject,
            status=row.status,
            recipients=list(row.recipients) if shown else None,
            recipient_count=len(row.recipients),
            delivered_count=len(row.delivered),
            attempts=row.attempts,
            created_at=row.created_at,
            sent_at=row.sent_at,
            error=row.error if shown else None,
        )


class ApprovalPublic(BaseModel):
    """A step waiting for (or decided by) the headteacher."""

    id: int
    case_id: str
    step: str
    summary: str
    status: ApprovalStatus
    requested_at: dt.datetime
    decided_by: int | None
    decided_at: dt.datetime | None
    comment: str | None

    @classmethod
    def of(cls, row: Approval) -> ApprovalPublic:
        assert row.id is not None
        return cls(**row.model_dump(include=set(cls.model_fields)))


class DecisionTaken(BaseModel):
    approval_id: int
    case_id: str
    result: str


def page_of(page: Page[Any], convert: type[BaseModel] | Callable[[Any], BaseModel]) -> Response:
    """A page of table rows as a page of public models (`convert` is the model, or a function making one
    of a row), serialized to JSON once.

    The route's `response_model` documents the page; returning the JSON itself spares a list of many
    rows FastAPI's second validation and serialization of what is already a public model. A model
    validates the whole list in one call, from the rows' attributes: half the time of one call a row.
    """
    items = (
        _list_of(convert).validate_python(page.items, from_attributes=True)
        if isinstance(convert, type)
        else [convert(row) for row in page.items]
    )
    public = Page[Any](
        items=items,
        total=page.total,
        offset=page.offset,
        limit=page.limit,
        total_exact=page.total_exact,
    )
    return Response(public.model_dump_json(), media_type="application/json")


@cache
def _list_of(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]
