"""The case commands the JSON routes and the web pages both call: start a case, take an action, decide.

Each checks what the API can check (the pupil, the guards the process declares, the payload), runs the
workflow's Update, and raises `ApiError` with the error body's status, message and field reasons.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import status
from pydantic import BaseModel, Field, ValidationError
from sqlmodel import Session
from temporalio.client import Client

from activities.recipients import AGENCY_KINDS, agency_for, local_authorities
from api.deps import actor_of
from api.errors import ApiError, reason_of, sentence, summary
from api.public import ActionTaken, CaseStarted, CaseView, DecisionTaken, case_view
from api.temporal_calls import run_update, start_case
from domain.annual_review import EARLIEST_YEAR, LATEST_YEAR
from domain.census import SenProvision
from domain.schemas import Actor, AgencyOf, ApprovalDecision, CaseRef, Recipient
from store import case_service
from store.casework import Approval, ApprovalStatus, Case, CaseStatus
from store.register import Pupil, School, Staff
from store.register_service import agency_seen_by
from workflows.process import Action, Process
from workflows.registry import PROCESSES

# How long an action's answer waits for the workflow's write of the case to land (it may lag after that).
CASE_WRITE_WAIT = 1.0
PROVISION_WORDS = {SenProvision.E: "an EHC plan", SenProvision.K: "SEN support", SenProvision.N: "none"}
NO_CASE = "There is no such case at your school."
CASE_CLOSED = "This case is closed: nothing more can be done on it."


class CaseStart(BaseModel):
    """A case to start: the process, the pupil, and the facts the process starts from."""

    process: str = Field(description="A registered process, such as annual_review or records_request")
    pupil_id: int
    facts: dict[str, Any] = Field(default_factory=dict, description="The process's start facts")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {"process": "records_request", "pupil_id": 1, "facts": {"request_received": "2026-11-20"}}
            ]
        }
    }


def process_named(name: str) -> Process:
    """The registered process (422 on field `process` naming the known ones)."""
    process = PROCESSES.get(name)
    if process is None:
        reason = f"there is no such process; choose one of {', '.join(PROCESSES)}"
        raise ApiError(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            summary([{"reason": reason}]),
            [{"field": "process", "reason": reason}],
        )
    return process


def case_of(session: Session, case_id: str, staff: Staff) -> Case:
    """The case, if it is at the staff member's school (404 otherwise, saying nothing of other schools)."""
    case = case_service.case_at_school(session, case_id=case_id, school_id=staff.school_id)
    if case is None:
        raise ApiError(status.HTTP_404_NOT_FOUND, NO_CASE, [{"field": "case_id", "reason": "no such case"}])
    return case


def view_of(session: Session, case: Case) -> CaseView:
    """The case as the API shows it, with its deadlines and the actions it offers now."""
    deadlines = list(session.exec(case_service.deadlines_query(case_id=case.id)))
    return case_view(case, PROCESSES.get(case.process), deadlines)


def _problems(err: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    """Field and reason for each validation error, the field named as the request names it."""
    return [
        {
            "field": ".".join([*([prefix] if prefix else []), *map(str, e["loc"])]) or None,
            "reason": reason_of(e),
        }
        for e in err.errors()
        if e["loc"] != ("actor",)
    ]


def outside_window(model: BaseModel, prefix: str = "facts") -> list[dict[str, str]]:
    """Dates (and years) outside the years a case can run in, 2000-2100, wherever they are in the model."""
    found = []
    for name, value in model:
        field = f"{prefix}.{name}" if prefix else name
        if isinstance(value, BaseModel):
            found += outside_window(value, field)
            continue
        year = value.year if isinstance(value, dt.date) else value if name.endswith("_year") else None
        if isinstance(year, int) and not EARLIEST_YEAR <= year <= LATEST_YEAR:
            found.append({"field": field, "reason": f"enter a date from {EARLIEST_YEAR} to {LATEST_YEAR}"})
    return found


def _invalid(items: list[dict[str, Any]]) -> ApiError:
    return ApiError(status.HTTP_422_UNPROCESSABLE_CONTENT, summary(items), items)


def _guard(session: Session, process: Process, pupil: Pupil) -> None:
    """The process's start guards: the SEN provision it needs, and one open case per pupil."""
    needed = process.requires_provision
    if needed is not None and pupil.sen_provision != needed:
        has = PROVISION_WORDS.get(pupil.sen_provision, "not recorded")
        reason = (
            f"an {process.title} is for a pupil with {PROVISION_WORDS[needed]}; "
            f"this pupil's SEN provision is {has}"
        )
        raise _invalid([{"field": "pupil_id", "reason": reason}])
    if process.one_open_per_pupil:
        query = case_service.cases_query(
            school_id=pupil.school_id, status=CaseStatus.open, process=process.name, pupil_id=pupil.id
        )
        if (open_case := session.exec(query).first()) is not None:
            link = f"/cases/{open_case.id}"
            reason = f"this pupil already has an open {process.title} ({link}): carry on with that one"
            raise ApiError(
                status.HTTP_409_CONFLICT, sentence(reason), [{"field": "pupil_id", "reason": reason}]
            )


AGENCY_WORDS = {
    "la_sen": "LA SEN team",
    "ep_service": "EP service",
    "health": "health service",
    "social_care": "social care team",
    "other": "other agency",
}


def _recipients_in(value: Any) -> Iterator[Recipient]:
    """Every Recipient inside a workflow input (its fields, lists and nested models)."""
    if isinstance(value, Recipient):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _recipients_in(getattr(value, name))
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _recipients_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _recipients_in(item)


def _unknown_agencies(session: Session, facts: BaseModel, school_id: int) -> list[dict[str, Any]]:
    """A reason for each field marked `AgencyOf` (another school, say) whose id the register has not got."""
    problems = []
    for name, info in type(facts).model_fields.items():
        kinds = [m.kind for m in info.metadata if isinstance(m, AgencyOf)]
        agency_id = getattr(facts, name)
        if (
            kinds
            and agency_id is not None
            and (reason := _no_such_agency(session, kinds[0], agency_id, school_id))
        ):
            problems.append({"field": f"facts.{name}", "reason": reason})
    return problems


def _no_such_agency(session: Session, kind: str, agency_id: int, school_id: int) -> str | None:
    """Why the school cannot name this agency (None if it can: its own or the LA's, and of the kind)."""
    agency = agency_seen_by(session, agency_id, school_id)
    if agency is not None and agency.kind == kind:
        return None
    return f"there is no {AGENCY_WORDS[kind]} with id {agency_id} in the register"


def _agency_check(session: Session, process: Process, inp: BaseModel, pupil: Pupil) -> None:
    """422 naming what to register when the case would email an agency the pupil's LA has not got.

    The agencies a case writes to are the agency recipients in its input (the annual review's mandatory
    invitees: LA SEN team, health and social care) and those its workflow module names (the LA of a
    needs assessment). A named agency must exist and be of its kind.
    """
    module = sys.modules.get(process.workflow.__module__)
    constants = [v for v in vars(module).values() if isinstance(v, Recipient)] if module else []
    missing: list[str] = []
    for recipient in [*_recipients_in(inp), *constants]:
        if recipient.kind not in AGENCY_KINDS or recipient.kind in missing:
            continue
        if recipient.agency_id is not None:
            if reason := _no_such_agency(session, recipient.kind, recipient.agency_id, pupil.school_id):
                raise _invalid([{"field": "facts", "reason": reason}])
        elif agency_for(session, pupil_id=pupil.id, school_id=pupil.school_id, kind=recipient.kind) is None:
            missing.append(recipient.kind)
    if missing:
        authorities = local_authorities(session, pupil_id=pupil.id, school_id=pupil.school_id)
        where = " or ".join(authorities) or "the school's local authority"
        kinds = [AGENCY_WORDS[k] for k in missing]
        names = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " and " + kinds[-1]
        reason = (
            f"register the {where} {names} first (Agencies in the register): "
            f"this {process.title} case emails them, and the register has none for {where}"
        )
        raise _invalid([{"field": None, "reason": reason}])


async def start(
    *, session: Session, client: Client, queue: str, staff: Staff, body: CaseStart
) -> CaseStarted:
    """Validate the facts and pupil (every reason at once), apply the guards, open the case, start it."""
    process = process_named(body.process)
    problems: list[dict[str, Any]] = []
    facts: BaseModel | None = None
    try:
        facts = process.start.model_validate(body.facts)
    except ValidationError as err:
        problems += _problems(err, "facts")
    pupil = session.get(Pupil, body.pupil_id)
    if pupil is None or pupil.school_id != staff.school_id:
        pupil = None
        problems.append({"field": "pupil_id", "reason": "there is no such pupil at your school"})
    if facts is not None:
        problems += outside_window(facts) + _unknown_agencies(session, facts, staff.school_id)
    if problems:
        raise _invalid(problems)
    assert pupil is not None and facts is not None
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
        raise _invalid(_problems(err, "facts")) from err
    except (OverflowError, ValueError) as err:  # date arithmetic beyond the calendar
        raise _invalid(
            [{"field": "facts", "reason": "a date is outside the years a case can run in"}]
        ) from err
    _guard(session, process, pupil)  # once the input is sound: the pupil it is for, and any open case
    _agency_check(session, process, inp, pupil)  # every agency it emails is in the register, in its LA
    # In a thread: the insert may wait for SQLite's write lock (every other request with it, on the loop).
    case = await asyncio.to_thread(
        case_service.open_case,
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
    except BaseException:
        case_service.forget_case(session, case_id=case_id)
        raise
    return CaseStarted(id=case_id, workflow_id=case.workflow_id, process=process.name)


def action_of(case: Case, name: str) -> Action:
    """The case's process's action of that name (404 if its process has none)."""
    process = PROCESSES.get(case.process)
    spec = process.action(name) if process else None
    if spec is None:
        reason = f"a {process.title.lower() if process else 'case'} has no action {name}"
        raise ApiError(
            status.HTTP_404_NOT_FOUND, "This case has no such action.", [{"field": None, "reason": reason}]
        )
    return spec


async def _written(session: Session, case: Case, before: tuple[Any, ...]) -> None:
    """Wait (briefly) until the workflow's write of the case after an action has landed, then read it."""
    loop = asyncio.get_running_loop()
    deadline, pause = loop.time() + CASE_WRITE_WAIT, 0.02
    while loop.time() < deadline and case_service.written_at(session, case_id=case.id) == before:
        await asyncio.sleep(pause)
        pause = min(2 * pause, 0.2)
    session.refresh(case)


async def take_action(
    *,
    session: Session,
    client: Client,
    staff: Staff,
    case_id: str,
    action: str,
    body: dict[str, Any],
    key: str | None = None,
) -> ActionTaken:
    """Run an action's Update on a case: 404 unknown case or action, 409 closed or refused, 422 bad payload.

    Field names in the reasons are the payload's own (`meeting_at`), as the JSON body names them. The key
    (the Idempotency-Key header, or the form's own) makes the Update's id, so sending it again returns the
    first answer instead of doing the action twice.
    """
    case = case_of(session, case_id, staff)
    update_id = f"{action}:{staff.id}:{key or uuid.uuid4()}"
    return await _run(session, client, case, action, body, actor_of(staff), update_id)


async def respond(
    *, session: Session, client: Client, case: Case, action: str, body: dict[str, Any], actor: Actor, key: str
) -> ActionTaken:
    """A parent's or agency's answer through an emailed link: the link's action on the link's case, as
    them (the workflow lets them take that action only). The link page's key makes the Update id."""
    return await _run(session, client, case, action, body, actor, f"{action}:{actor.label}:{key}")


async def _run(
    session: Session,
    client: Client,
    case: Case,
    action: str,
    body: dict[str, Any],
    actor: Actor,
    update_id: str,
) -> ActionTaken:
    spec = action_of(case, action)
    if case.status == CaseStatus.closed:
        raise ApiError(status.HTTP_409_CONFLICT, CASE_CLOSED)
    try:
        payload = spec.payload.model_validate({**body, "actor": actor.model_dump()})
    except ValidationError as err:
        raise _invalid(_problems(err)) from err
    if outside := outside_window(payload, ""):
        raise _invalid(outside)
    before = case_service.written_at(session, case_id=case.id)
    result = await run_update(client, case.workflow_id, spec.update, payload, update_id)
    await _written(session, case, before)
    return ActionTaken(case_id=case.id, action=action, result=str(result), case=view_of(session, case))


async def decide(
    *, session: Session, client: Client, staff: Staff, approval_id: int, approve: bool, comment: str
) -> DecisionTaken:
    """The headteacher's decision on a pending approval: 404 unknown, 409 decided already or case closed."""
    approval = session.get(Approval, approval_id)
    case = approval and case_service.case_at_school(
        session, case_id=approval.case_id, school_id=staff.school_id
    )
    if approval is None or case is None:
        raise ApiError(status.HTTP_404_NOT_FOUND, "There is no such approval at your school.")
    if approval.status != ApprovalStatus.pending:
        raise ApiError(status.HTTP_409_CONFLICT, f"This approval was already {approval.status.value}.")
    if case.status == CaseStatus.closed:
        raise ApiError(status.HTTP_409_CONFLICT, "This case is closed: nothing more can be decided.")
    decision = ApprovalDecision(key=approval.key, approve=approve, comment=comment, actor=actor_of(staff))
    result = await run_update(
        client, case.workflow_id, "decide_approval", decision, f"decide:{approval_id}:{approve}"
    )
    return DecisionTaken(approval_id=approval_id, case_id=case.id, result=str(result))
