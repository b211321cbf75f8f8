"""Cases: start one, list them, read one with what the SENDCo must do next, and act on it."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Request, status
from pydantic import BaseModel, ValidationError
from sqlmodel import Session
from temporalio.client import Client

from api.deps import CurrentStaff, SessionDep, actor_of, require_role
from api.errors import reason_of
from api.paging import Page, PageDep, paginate
from api.temporal_calls import TemporalDep, run_update, start_case, task_queue
from domain.rules import rule
from domain.schemas import CaseRef, Role
from store import case_service
from store.casework import Case, CaseStatus, ChronologyEntry, Deadline, DeadlineStatus
from store.register import Pupil, School, Staff
from workflows.process import Process
from workflows.registry import PROCESSES

router = APIRouter(prefix="/api/v1", tags=["cases"])
CanAct = require_role(Role.sendco, Role.headteacher)


class CaseStart(BaseModel):
    process: str
    pupil_id: int
    facts: dict[str, Any] = {}


class CaseStarted(BaseModel):
    id: str
    workflow_id: str
    process: str


class DeadlinePublic(BaseModel):
    key: str
    step: str
    rule_id: str
    citation: str
    owner: str
    due: dt.date
    status: DeadlineStatus
    met_at: dt.datetime | None
    escalated_at: dt.datetime | None
    completed_at: dt.datetime | None

    @classmethod
    def of(cls, row: Deadline) -> DeadlinePublic:
        return cls(citation=rule(row.rule_id).citation, **row.model_dump(exclude={"id", "case_id"}))


class CaseSummary(BaseModel):
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
    process_title: str
    workflow_id: str
    facts: dict[str, Any]
    next_deadline: DeadlinePublic | None
    deadlines: list[DeadlinePublic]
    actions: list[str]


def _process(name: str) -> Process:
    process = PROCESSES.get(name)
    if process is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"field": "process", "reason": f"unknown process; choose one of {', '.join(PROCESSES)}"}],
        )
    return process


def _case(session: Session, case_id: str, staff: Staff) -> Case:
    """The case, if it is at the staff member's school (404 otherwise, saying nothing of other schools)."""
    case = case_service.case_at_school(session, case_id=case_id, school_id=staff.school_id)
    if case is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case")
    return case


def _problems(err: ValidationError, prefix: str) -> list[dict[str, str]]:
    """Field and reason for each validation error, the field named as the request names it."""
    return [
        {"field": ".".join([prefix, *map(str, e["loc"])]), "reason": reason_of(e)}
        for e in err.errors()
        if e["loc"] != ("actor",)
    ]


async def start_new_case(
    *, session: Session, client: Client, queue: str, staff: Staff, body: CaseStart
) -> CaseStarted:
    """Validate the facts and pupil (every reason at once), open the case and start its workflow."""
    process = _process(body.process)
    problems: list[dict[str, str]] = []
    try:
        facts = process.start.model_validate(body.facts)
    except ValidationError as err:
        problems += _problems(err, "facts")
    pupil = session.get(Pupil, body.pupil_id)
    if pupil is None or pupil.school_id != staff.school_id:
        pupil = None
        problems.append({"field": "pupil_id", "reason": "no such pupil"})
    if problems:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, problems)
    assert pupil is not None
    school = session.get(School, pupil.school_id)
    assert school is not None
    case_id = str(uuid.uuid4())
    ref = CaseRef(
        case_id=case_id,
        workflow_id=case_service.workflow_id_for(process.name, case_id),
        process=process.name,
        pupil_id=pupil.id,
        school_id=school.id,
        calendar=case_service.school_calendar(school),
    )
    try:  # the whole input is checked before anything is written
        inp = process.build_input(ref, facts, actor_of(staff))
    except ValidationError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, _problems(err, "facts")) from err
    case = case_service.open_case(
        session,
        case_id=case_id,
        process=process.name,
        pupil_id=pupil.id,
        school_id=school.id,
        started_by=staff.id,
        facts=facts.model_dump(mode="json"),
    )
    try:
        await start_case(client, process.workflow.run, inp, case.workflow_id, queue)
    except HTTPException:
        case_service.forget_case(session, case_id=case_id)
        raise
    return CaseStarted(id=case_id, workflow_id=case.workflow_id, process=process.name)


@router.post("/cases", status_code=status.HTTP_201_CREATED, response_model=CaseStarted)
async def start(
    request: Request, body: CaseStart, session: SessionDep, client: TemporalDep, staff: Annotated[Any, CanAct]
) -> Any:
    """Start a case for a pupil: 201 once a worker has it running, 503 (nothing started) if none answers."""
    return await start_new_case(
        session=session, client=client, queue=task_queue(request), staff=staff, body=body
    )


@router.get("/cases", response_model=Page[CaseSummary])
def list_cases(
    session: SessionDep,
    page: PageDep,
    staff: CurrentStaff,
    status: CaseStatus | None = None,
    process: str | None = None,
    pupil_id: int | None = None,
) -> Any:
    """The school's cases, newest first."""
    query = case_service.cases_query(
        school_id=staff.school_id, status=status, process=process, pupil_id=pupil_id
    )
    return paginate(session, query, page.offset, page.limit)


@router.get("/cases/{case_id}", response_model=CaseView)
def read_case(case_id: str, session: SessionDep, staff: CurrentStaff) -> Any:
    """The case with its current step, its next deadline and what must be done next, in plain words."""
    case = _case(session, case_id, staff)
    deadlines = list(session.exec(case_service.deadlines_query(case_id=case_id)))
    upcoming = case_service.next_deadline(session, case_id=case_id)
    process = PROCESSES[case.process]
    return CaseView(
        **case.model_dump(),
        process_title=process.title,
        next_deadline=DeadlinePublic.of(upcoming) if upcoming else None,
        deadlines=[DeadlinePublic.of(d) for d in deadlines],
        actions=[] if case.status == CaseStatus.closed else sorted(process.actions),
    )


@router.get("/cases/{case_id}/chronology", response_model=list[ChronologyEntry])
def read_chronology(case_id: str, session: SessionDep, staff: CurrentStaff) -> Any:
    _case(session, case_id, staff)
    return case_service.chronology(session, case_id=case_id)


async def take_action(
    *, session: Session, client: Client, staff: Staff, case_id: str, action: str, body: dict[str, Any]
) -> dict[str, Any]:
    """Run an action's Update on a case: 404 unknown action, 409 closed or refused, 422 bad payload."""
    case = _case(session, case_id, staff)
    spec = PROCESSES[case.process].action(action)
    if spec is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"this case has no action {action!r}")
    if case.status == CaseStatus.closed:
        raise HTTPException(status.HTTP_409_CONFLICT, "this case is closed: nothing more can be done")
    try:
        payload = spec.payload.model_validate({**body, "actor": actor_of(staff).model_dump()})
    except ValidationError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, _problems(err, "body")) from err
    result = await run_update(client, case.workflow_id, spec.update, payload)
    return {"case_id": case_id, "action": action, "result": result}


@router.post("/cases/{case_id}/actions/{action}")
async def act(
    case_id: str,
    action: str,
    session: SessionDep,
    client: TemporalDep,
    staff: Annotated[Any, CanAct],
    body: Annotated[dict[str, Any], Body()] = {},  # noqa: B006
) -> dict[str, Any]:
    """Take an action on a case (an Update on its workflow): 409 when it is not valid now."""
    return await take_action(
        session=session, client=client, staff=staff, case_id=case_id, action=action, body=body
    )
