"""The web pages the SENDCo and the headteacher work from: cases, one case with its actions, approvals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlmodel import Session, col, select
from starlette.datastructures import FormData

from api import commands, forms
from api.case_views import (
    SOON_DAYS,
    DeadlineView,
    by_id,
    deadline_view,
    facts_shown,
    next_deadlines,
    next_due,
    process_title,
    staff_names,
    today,
    who,
)
from api.commands import CaseStart
from api.deps import SessionDep, check_role
from api.errors import ApiError, reason_of, sentence
from api.paging import paginate
from api.public import offered
from api.routes.approvals import DecisionBody
from api.routes.signin import safe_next
from api.temporal_calls import task_queue, temporal_client
from api.web import form_guard, page, redirect, web_staff
from domain.schemas import Role
from store import case_service
from store.casework import Approval, ApprovalStatus, Case, CaseStatus
from store.register import Pupil, Staff
from workflows.process import STAFF_WHO_ACT, Action, Process
from workflows.registry import PROCESSES

router = APIRouter(tags=["pages"], include_in_schema=False, dependencies=[Depends(form_guard)])
PAGE_LENGTH = 25
NO_ENGINE = (
    "The case engine is not answering just now, so nothing was done. "
    "Everything you entered is still here: try again in a minute."
)


@dataclass
class ActionForm:
    """One action of a case as a form: its fields, what was entered and why it was refused."""

    name: str
    label: str
    hint: str
    fields: list[forms.FormField]
    values: forms.Values
    errors: dict[str, str] = field(default_factory=dict)
    refusal: str = ""


def _reason(err: ApiError) -> str:
    """A refusal in words: the engine not answering, or the refusal's own message."""
    if err.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        return NO_ENGINE
    return err.message


def _problems(err: ApiError, prefix: str = "") -> list[dict[str, Any]]:
    """The refusal as `[{field, reason}]` named as the form names its controls (or the message alone)."""
    if err.errors and err.status_code != status.HTTP_503_SERVICE_UNAVAILABLE:
        return [
            {"field": f"{prefix}{e['field']}" if e["field"] else None, "reason": e["reason"]}
            for e in err.errors
        ]
    return [{"field": None, "reason": _reason(err)}]


@router.get("/cases", response_class=HTMLResponse)
def cases_page(
    request: Request,
    session: SessionDep,
    status_filter: Annotated[str, Query(alias="status")] = "",
    process: str = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    """The SENDCo's working list: open cases first, soonest deadline first."""
    staff = web_staff(request, session)
    chosen = CaseStatus(status_filter) if status_filter in set(CaseStatus) else None
    process = process if process in PROCESSES else ""
    soonest = next_due()
    query = (
        case_service.cases_query(school_id=staff.school_id, status=chosen, process=process or None)
        .order_by(None)
        .order_by(col(Case.status) == CaseStatus.closed, soonest.is_(None), soonest)
        .order_by(col(Case.started_at).desc())
    )
    cases = paginate(session, query, offset, PAGE_LENGTH)
    on = today()
    pupils = by_id(session, Pupil, {c.pupil_id for c in cases.items})
    deadlines = next_deadlines(session, [c.id for c in cases.items], on)

    def url(at: int) -> str:
        query = {"status": chosen.value if chosen else "", "process": process, "offset": at}
        return "/cases?" + urlencode({k: v for k, v in query.items() if v})

    rows = [
        {"case": c, "pupil": pupils.get(c.pupil_id), "deadline": deadlines.get(c.id)} for c in cases.items
    ]
    context = {
        "staff": staff,
        "page": cases,
        "rows": rows,
        "status": chosen.value if chosen else "",
        "process": process,
        "processes": PROCESSES,
        "statuses": list(CaseStatus),
        "can_start": Role(staff.role) in STAFF_WHO_ACT,
        "soon_days": SOON_DAYS,
        "previous_url": url(max(offset - PAGE_LENGTH, 0)),
        "next_url": url(offset + PAGE_LENGTH),
        "process_title": process_title,
    }
    return page(request, "cases.html", context, active="cases")


# --- starting a case -----------------------------------------------------------------------------------
def _new_case_page(
    request: Request,
    session: SessionDep,
    staff: Staff,
    process: Process,
    *,
    values: forms.Values | None = None,
    errors: dict[str, str] | None = None,
    alerts: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The start form for a process: fresh, or as submitted with the reasons it was refused."""
    fields = forms.form_fields(process.start, prefix="facts")
    pupils = session.exec(
        select(Pupil).where(Pupil.school_id == staff.school_id).order_by(col(Pupil.legal_name))
    ).all()
    context = {
        "staff": staff,
        "process": process,
        "processes": PROCESSES,
        "pupils": pupils,
        "fields": fields,
        "values": values if values is not None else forms.defaults(fields),
        "errors": errors or {},
        "alerts": alerts or [],
        "can_start": Role(staff.role) in STAFF_WHO_ACT,
    }
    return page(request, "case_new.html", context, active="cases", status_code=status_code)


def _chosen_process(name: str | None) -> Process:
    """The process asked for, or the first one."""
    return PROCESSES.get(name or "") or next(iter(PROCESSES.values()))


@router.get("/cases/new", response_class=HTMLResponse)
def new_case_page(request: Request, session: SessionDep, process: str = "") -> HTMLResponse:
    """Choose the process and the pupil, and give the facts the process starts from."""
    staff = web_staff(request, session)
    return _new_case_page(request, session, staff, _chosen_process(process))


@router.post("/cases/new", response_model=None)
async def new_case(request: Request, session: SessionDep) -> Response:
    """Start the case as the JSON API does; on refusal show the form again, reasons by the fields."""
    staff = web_staff(request, session)
    form = await request.form()
    process = _chosen_process(str(form.get("process") or ""))
    fields = forms.form_fields(process.start, prefix="facts")
    values = forms.submitted(fields, form)
    pupil = str(form.get("pupil_id") or "")
    values["pupil_id"] = pupil
    try:
        check_role(staff, STAFF_WHO_ACT)
        body = CaseStart(
            process=process.name,
            pupil_id=int(pupil) if pupil.isdigit() else 0,
            facts=forms.model_input(fields, values),
        )
        client = await temporal_client(request)
        started = await commands.start(
            session=session, client=client, queue=task_queue(request), staff=staff, body=body
        )
    except ApiError as err:
        errors, loose = forms.errors_by_field(_problems(err), [*values, "process"])
        if "pupil_id" in errors and not pupil:
            errors["pupil_id"] = "choose the pupil"
        alerts = loose or ["Please check the answers marked below."]
        return _new_case_page(
            request,
            session,
            staff,
            process,
            values=values,
            errors=errors,
            alerts=alerts,
            status_code=err.status_code,
        )
    return redirect(f"/cases/{started.id}", flash=f"Case started: {process.title}.")


# --- one case ------------------------------------------------------------------------------------------
def _action_form(name: str, spec: Action, deadlines: list[DeadlineView]) -> ActionForm:
    """The form for one action; the generic actions pick one of the case's open deadlines by its key."""
    keys = [(d.key, f"{d.rule_id}: {d.step}, due {d.due:%d %b %Y}") for d in deadlines if d.is_open]
    choices = {"key": keys} if name == "change-due-date" else None
    fields = forms.form_fields(spec.payload, prefix="body", choices=choices)
    return ActionForm(
        name=name,
        label=spec.title or forms.humanise(name),
        hint=next(iter((spec.payload.__doc__ or "").strip().splitlines()), ""),
        fields=fields,
        values=forms.defaults(fields),
    )


def _case_page(
    request: Request,
    session: Session,
    staff: Staff,
    case: Case,
    *,
    refused: ActionForm | None = None,
    alert: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    """The case page; `refused` is an action form shown again as submitted, with its reasons."""
    on = today()
    process = PROCESSES.get(case.process)
    rows = list(session.exec(case_service.deadlines_query(case_id=case.id)))
    deadlines = [deadline_view(d, on) for d in rows]
    upcoming = case_service.next_deadline(session, case_id=case.id)
    chronology = case_service.chronology(session, case_id=case.id)
    approvals = session.exec(
        case_service.approvals_query(status=ApprovalStatus.pending).where(Approval.case_id == case.id)
    ).all()
    names = staff_names(session, chronology, case.started_by)
    can_act = Role(staff.role) in STAFF_WHO_ACT and case.status == CaseStatus.open and process is not None
    action_forms = []
    if can_act and process is not None:
        for name, spec in offered(process, case, rows).items():  # only what can be done now
            action_forms.append(
                refused if refused and refused.name == name else _action_form(name, spec, deadlines)
            )
        if refused and refused.name not in {a.name for a in action_forms}:
            action_forms.append(refused)
    context = {
        "staff": staff,
        "case": case,
        "pupil": session.get(Pupil, case.pupil_id),
        "process_title": process_title(case.process),
        "started_by": who(f"staff:{case.started_by}", names),
        "next_deadline": deadline_view(upcoming, on) if upcoming else None,
        "deadlines": deadlines,
        "approvals": approvals,
        "chronology": [(e, who(e.actor, names)) for e in chronology],
        "actions": action_forms,
        "can_act": can_act,
        "is_head": Role(staff.role) == Role.headteacher,
        "alert": alert,
        "facts": facts_shown(process, case.view or {}),  # the workflow's own view of the case
        "given": facts_shown(process, case.facts or {}),  # what the SENDCo gave at the start
    }
    return page(request, "case.html", context, active="cases", status_code=status_code)


def _not_found(request: Request, staff: Staff, what: str) -> HTMLResponse:
    """A page saying what was not found (a 404 that still looks like the product)."""
    context = {"staff": staff, "heading": "Not found", "message": what}
    return page(request, "message.html", context, active="cases", status_code=status.HTTP_404_NOT_FOUND)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(case_id: str, request: Request, session: SessionDep) -> HTMLResponse:
    """The case: where it is, what is next and by when, every deadline, and what has happened."""
    staff = web_staff(request, session)
    case = case_service.case_at_school(session, case_id=case_id, school_id=staff.school_id)
    if case is None:
        return _not_found(request, staff, "There is no such case.")
    return _case_page(request, session, staff, case)


@router.post("/cases/{case_id}/actions/{action}", response_model=None)
async def case_action(case_id: str, action: str, request: Request, session: SessionDep) -> Response:
    """Run the action's Update as the JSON API does; back to the case with the outcome or the refusal."""
    staff = web_staff(request, session)
    case = case_service.case_at_school(session, case_id=case_id, school_id=staff.school_id)
    process = PROCESSES.get(case.process) if case else None
    spec = process.action(action) if process else None
    if case is None or spec is None:
        return _not_found(request, staff, "There is no such case, or it has no such action.")
    form = await request.form()
    deadlines = [
        deadline_view(d, today()) for d in session.exec(case_service.deadlines_query(case_id=case.id))
    ]
    attempt = _action_form(action, spec, deadlines)
    attempt.values = forms.submitted(attempt.fields, form)
    try:
        check_role(staff, STAFF_WHO_ACT)
        client = await temporal_client(request)
        body = forms.model_input(attempt.fields, attempt.values)
        done = await commands.take_action(
            session=session,
            client=client,
            staff=staff,
            case_id=case_id,
            action=action,
            body=body,
            key=forms.action_key(form),
        )
    except ApiError as err:
        attempt.errors, loose = forms.errors_by_field(_problems(err, "body."), attempt.values)
        attempt.refusal = sentence("; ".join(loose)) or "Please check the answers marked below."
        alert = f"{attempt.label} was not done. {attempt.refusal}"
        return _case_page(
            request, session, staff, case, refused=attempt, alert=alert, status_code=err.status_code
        )
    return redirect(f"/cases/{case_id}", flash=f"{attempt.label}: {done.result}.")


# --- approvals ---------------------------------------------------------------------------------------
def _approvals_page(
    request: Request, session: Session, staff: Staff, offset: int, *, alert: str = "", status_code: int = 200
) -> HTMLResponse:
    """Pending approvals of the staff member's school, with an alert when a decision was refused."""
    waiting = paginate(session, case_service.approvals_query(school_id=staff.school_id), offset, PAGE_LENGTH)
    case_ids = {a.case_id for a in waiting.items}
    cases = {c.id: c for c in session.exec(select(Case).where(col(Case.id).in_(case_ids)))}
    pupils = by_id(session, Pupil, {c.pupil_id for c in cases.values()})
    rows = [
        {"approval": a, "case": cases[a.case_id], "pupil": pupils.get(cases[a.case_id].pupil_id)}
        for a in waiting.items
    ]
    context = {
        "staff": staff,
        "page": waiting,
        "rows": rows,
        "is_head": Role(staff.role) == Role.headteacher,
        "alert": alert,
        "process_title": process_title,
        "previous_url": f"/approvals?offset={max(offset - PAGE_LENGTH, 0)}",
        "next_url": f"/approvals?offset={offset + PAGE_LENGTH}",
    }
    return page(request, "approvals.html", context, active="approvals", status_code=status_code)


@router.get("/approvals", response_class=HTMLResponse)
def approvals_page(
    request: Request, session: SessionDep, offset: Annotated[int, Query(ge=0)] = 0
) -> HTMLResponse:
    """What waits for the headteacher's decision, oldest first; only the headteacher sees the buttons."""
    return _approvals_page(request, session, web_staff(request, session), offset)


def _decision(form: FormData) -> DecisionBody:
    """The button pressed (approve or reject) and the comment."""
    try:
        return DecisionBody(approve=form.get("decision") == "approve", comment=str(form.get("comment") or ""))
    except ValidationError as err:
        reasons = "; ".join(reason_of(e) for e in err.errors())
        raise ApiError(status.HTTP_422_UNPROCESSABLE_CONTENT, f"Comment: {reasons}") from err


@router.post("/approvals/{approval_id}/decision", response_model=None)
async def approval_decision(approval_id: int, request: Request, session: SessionDep) -> Response:
    """The headteacher approves or rejects (with a comment); back where the buttons were, with the outcome."""
    staff = web_staff(request, session)
    form = await request.form()
    approval = session.get(Approval, approval_id)
    if approval is None or not case_service.case_at_school(
        session, case_id=approval.case_id, school_id=staff.school_id
    ):
        return _not_found(request, staff, "There is no such approval.")
    try:
        check_role(staff, [Role.headteacher])
        client = await temporal_client(request)
        decision = _decision(form)
        done = await commands.decide(
            session=session,
            client=client,
            staff=staff,
            approval_id=approval_id,
            approve=decision.approve,
            comment=decision.comment,
        )
    except ApiError as err:
        alert = f"The decision was not recorded. {sentence(_reason(err))}"
        return _approvals_page(request, session, staff, 0, alert=alert, status_code=err.status_code)
    back = safe_next(str(form.get("back") or "/approvals"))
    return redirect(back, flash=f"Decision recorded: {done.result}.")
