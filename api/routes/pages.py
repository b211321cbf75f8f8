"""The web pages the SENDCo and the headteacher work from: cases, one case with its actions, approvals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import Session, col, select
from starlette.datastructures import FormData

from api import forms
from api.deps import SessionDep
from api.errors import reason_of
from api.paging import paginate
from api.processes import GENERIC_ACTIONS, PROCESSES, Action, Process
from api.routes.approvals import DecisionBody, decide
from api.routes.cases import CaseStart, start_new_case, take_action
from api.routes.signin import safe_next
from api.temporal_calls import task_queue, temporal_client
from api.web import LONDON, page, redirect, role_name, web_staff
from domain.rules import rule
from domain.schemas import Role
from store import case_service
from store.casework import (
    Approval,
    ApprovalStatus,
    Case,
    CaseStatus,
    Deadline,
    DeadlineStatus,
)
from store.register import Pupil, Staff
from workflows.case import STAFF_WHO_ACT

router = APIRouter(tags=["pages"], include_in_schema=False)
SOON_DAYS = 7
PAGE_LENGTH = 25
OPEN_DEADLINE = (DeadlineStatus.pending, DeadlineStatus.missed, DeadlineStatus.escalated)
NO_ENGINE = (
    "The case engine is not answering just now, so nothing was done. "
    "Everything you entered is still here: try again in a minute."
)


# --- what the pages show -------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeadlineView:
    """A deadline as a person reads it: rule and citation, due date, and how long is left."""

    key: str
    step: str
    rule_id: str
    citation: str
    description: str
    owner: str
    due: dt.date
    status: str
    days: int

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_DEADLINE

    @property
    def urgency(self) -> str:
        """'late', 'soon' (within a week) or '' for the page to highlight."""
        if not self.is_open:
            return ""
        if self.days < 0 or self.status != DeadlineStatus.pending:
            return "late"
        return "soon" if self.days <= SOON_DAYS else ""

    @property
    def words(self) -> str:
        """'3 days left', 'due today', '2 days late' (or the status once it is no longer open)."""
        if not self.is_open:
            return self.status
        if self.days == 0:
            return "due today"
        count = abs(self.days)
        return f"{count} day{'' if count == 1 else 's'} {'left' if self.days > 0 else 'late'}"


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


def today() -> dt.date:
    """Today in England, where the deadlines fall."""
    return dt.datetime.now(LONDON).date()


def deadline_view(row: Deadline, on: dt.date) -> DeadlineView:
    found = rule(row.rule_id)
    return DeadlineView(
        key=row.key,
        step=row.step,
        rule_id=row.rule_id,
        citation=found.citation,
        description=found.description,
        owner=row.owner,
        due=row.due,
        status=row.status.value,
        days=(row.due - on).days,
    )


def process_title(name: str) -> str:
    process = PROCESSES.get(name)
    return process.title if process else forms.humanise(name)


def _by_id(session: Session, table: type[Any], ids: set[int]) -> dict[int, Any]:
    """Register rows by id, fetched in one query."""
    if not ids:
        return {}
    return {row.id: row for row in session.exec(select(table).where(col(table.id).in_(ids)))}


def _who(actor: str, names: dict[int, Staff]) -> str:
    """'staff:3' as the staff member's name and role; 'engine' as the case engine."""
    kind, _, ident = actor.partition(":")
    if kind == "staff" and ident.isdigit() and (person := names.get(int(ident))):
        return f"{person.name} ({role_name(person.role)})"
    return "Case engine" if actor == "engine" else actor


def _shown(value: Any) -> str:
    """A fact as the page shows it: dates in words, yes or no, lists joined."""
    if isinstance(value, dt.datetime):
        return f"{value:%d %b %Y %H:%M}"
    if isinstance(value, dt.date):
        return f"{value:%d %b %Y}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list | tuple):
        return ", ".join(_shown(v) for v in value)
    return str(value)


def facts_shown(process: Process | None, facts: dict[str, Any]) -> list[tuple[str, str]]:
    """The facts a case started from, labelled and readable (as stored if the model no longer fits)."""
    try:
        typed = process.facts.model_validate(facts) if process else None
    except ValidationError:
        typed = None
    values = {k: getattr(typed, k) for k in facts} if typed is not None else facts
    return [(forms.humanise(k), _shown(v)) for k, v in values.items() if v not in (None, "", [], {})]


def _require(staff: Staff, *roles: Role) -> None:
    """Refuse anyone outside the roles, as the JSON API does."""
    if Role(staff.role) not in roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"only the {' or '.join(roles)} can do this")


def _reason(err: HTTPException) -> str:
    """An HTTP refusal in words: the detail string, or every field reason of a 422."""
    if err.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        return f"{NO_ENGINE} ({err.detail})"
    if isinstance(err.detail, list):
        return "; ".join(str(p.get("reason")) for p in err.detail)
    return str(err.detail)


def _problems(err: HTTPException) -> list[dict[str, Any]]:
    """The refusal as `[{field, reason}]`, whatever its shape."""
    if isinstance(err.detail, list):
        return err.detail
    return [{"field": None, "reason": _reason(err)}]


# --- the list of cases ---------------------------------------------------------------------------------
def _next_due() -> Any:
    """The case's earliest open deadline, as a correlated subquery to order the list by."""
    return (
        select(func.min(Deadline.due))
        .where(Deadline.case_id == Case.id, col(Deadline.status).in_(OPEN_DEADLINE))
        .where(col(Deadline.completed_at).is_(None))
        .correlate(Case)
        .scalar_subquery()
    )


def _next_deadlines(session: Session, case_ids: list[str], on: dt.date) -> dict[str, DeadlineView]:
    """Each case's next open deadline, in one query."""
    rows = session.exec(
        case_service.deadlines_query()
        .where(col(Deadline.case_id).in_(case_ids), col(Deadline.status).in_(OPEN_DEADLINE))
        .where(col(Deadline.completed_at).is_(None))
    )
    found: dict[str, DeadlineView] = {}
    for row in rows:
        found.setdefault(row.case_id, deadline_view(row, on))
    return found


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
    next_due = _next_due()
    query = (
        case_service.cases_query(school_id=staff.school_id, status=chosen, process=process or None)
        .order_by(None)
        .order_by(col(Case.status) == CaseStatus.closed, next_due.is_(None), next_due)
        .order_by(col(Case.started_at).desc())
    )
    cases = paginate(session, query, offset, PAGE_LENGTH)
    on = today()
    pupils = _by_id(session, Pupil, {c.pupil_id for c in cases.items})
    deadlines = _next_deadlines(session, [c.id for c in cases.items], on)

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
    fields = forms.form_fields(process.facts, prefix="facts")
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
    fields = forms.form_fields(process.facts, prefix="facts")
    values = forms.submitted(fields, form)
    pupil = str(form.get("pupil_id") or "")
    values["pupil_id"] = pupil
    try:
        _require(staff, *STAFF_WHO_ACT)
        body = CaseStart(
            process=process.name,
            pupil_id=int(pupil) if pupil.isdigit() else 0,
            facts=forms.model_input(fields, values),
        )
        client = await temporal_client(request)
        started = await start_new_case(
            session=session, client=client, queue=task_queue(request), staff=staff, body=body
        )
    except HTTPException as err:
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
def _actions(process: Process) -> dict[str, Action]:
    """The process's own actions, then those every case has."""
    return {**process.actions, **{k: v for k, v in GENERIC_ACTIONS.items() if k not in process.actions}}


def _action_form(name: str, spec: Action, deadlines: list[DeadlineView]) -> ActionForm:
    """The form for one action; the generic actions pick one of the case's open deadlines by its key."""
    keys = [(d.key, f"{d.rule_id}: {d.step}, due {d.due:%d %b %Y}") for d in deadlines if d.is_open]
    choices = {"key": keys} if name in GENERIC_ACTIONS else None
    fields = forms.form_fields(spec.payload, prefix="body", choices=choices)
    return ActionForm(
        name=name,
        label=forms.humanise(name),
        hint=(spec.payload.__doc__ or "").strip().splitlines()[0] if spec.payload.__doc__ else "",
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
    on = today()
    process = PROCESSES.get(case.process)
    deadlines = [deadline_view(d, on) for d in session.exec(case_service.deadlines_query(case_id=case.id))]
    upcoming = case_service.next_deadline(session, case_id=case.id)
    chronology = case_service.chronology(session, case_id=case.id)
    approvals = session.exec(
        case_service.approvals_query(status=ApprovalStatus.pending).where(Approval.case_id == case.id)
    ).all()
    people = {int(e.actor.split(":")[1]) for e in chronology if e.actor.split(":")[-1].isdigit()}
    names = _by_id(session, Staff, people | {case.started_by})
    can_act = Role(staff.role) in STAFF_WHO_ACT and case.status == CaseStatus.open and process is not None
    action_forms = []
    if can_act and process is not None:
        for name, spec in _actions(process).items():
            action_forms.append(
                refused if refused and refused.name == name else _action_form(name, spec, deadlines)
            )
    context = {
        "staff": staff,
        "case": case,
        "pupil": session.get(Pupil, case.pupil_id),
        "process_title": process_title(case.process),
        "started_by": _who(f"staff:{case.started_by}", names),
        "next_deadline": deadline_view(upcoming, on) if upcoming else None,
        "deadlines": deadlines,
        "approvals": approvals,
        "chronology": [(e, _who(e.actor, names)) for e in chronology],
        "actions": action_forms,
        "can_act": can_act,
        "is_head": Role(staff.role) == Role.headteacher,
        "alert": alert,
        "facts": facts_shown(process, case.facts),
    }
    return page(request, "case.html", context, active="cases", status_code=status_code)


def _not_found(request: Request, staff: Staff, what: str) -> HTMLResponse:
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
        _require(staff, *STAFF_WHO_ACT)
        client = await temporal_client(request)
        body = forms.model_input(attempt.fields, attempt.values)
        done = await take_action(
            session=session, client=client, staff=staff, case_id=case_id, action=action, body=body
        )
    except HTTPException as err:
        attempt.errors, loose = forms.errors_by_field(_problems(err), attempt.values)
        attempt.refusal = "; ".join(loose) or "Please check the answers marked below."
        alert = f"{attempt.label} was not done: {attempt.refusal}"
        return _case_page(
            request, session, staff, case, refused=attempt, alert=alert, status_code=err.status_code
        )
    return redirect(f"/cases/{case_id}", flash=f"{attempt.label}: {done['result']}.")


# --- approvals ---------------------------------------------------------------------------------------
def _approvals_page(
    request: Request, session: Session, staff: Staff, offset: int, *, alert: str = "", status_code: int = 200
) -> HTMLResponse:
    waiting = paginate(session, case_service.approvals_query(school_id=staff.school_id), offset, PAGE_LENGTH)
    case_ids = {a.case_id for a in waiting.items}
    cases = {c.id: c for c in session.exec(select(Case).where(col(Case.id).in_(case_ids)))}
    pupils = _by_id(session, Pupil, {c.pupil_id for c in cases.values()})
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
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"comment: {reasons}") from err


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
        _require(staff, Role.headteacher)
        client = await temporal_client(request)
        done = await decide(approval_id, _decision(form), session, client, staff)
    except HTTPException as err:
        alert = f"The decision was not recorded: {_reason(err)}"
        return _approvals_page(request, session, staff, 0, alert=alert, status_code=err.status_code)
    back = safe_next(str(form.get("back") or "/approvals"))
    return redirect(back, flash=f"Decision recorded: {done['result']}.")
