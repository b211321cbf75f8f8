"""The web pages the SENDCo and the headteacher work from: cases, one case with its actions, approvals."""

from __future__ import annotations

import asyncio
import re
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
    People,
    action_choices,
    already_included,
    by_id,
    case_record,
    deadline_view,
    emails_of,
    facts_shown,
    next_deadlines,
    next_due,
    process_title,
    register_choices,
    staff_names,
    today,
    who,
)
from api.commands import CaseStart
from api.deps import SessionDep, check_role
from api.errors import ApiError, reason_of
from api.paging import paginate
from api.public import offered
from api.routes.approvals import DecisionBody
from api.routes.respond_staff import case_section
from api.routes.signin import safe_next
from api.temporal_calls import task_queue, temporal_client
from api.web import form_guard, page, redirect, web_staff
from domain import words
from domain.census import NeedType, SenProvision
from domain.rules import rule
from domain.schemas import Role
from store import case_service, register_service
from store.casework import Approval, ApprovalStatus, Case, CaseStatus
from store.register import Pupil, Staff
from store.week import Item, sendco_week
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
    pupil: str = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    """The SENDCo's working list: open cases first, soonest deadline first (one pupil's, if asked)."""
    staff = web_staff(request, session)
    chosen = CaseStatus(status_filter) if status_filter in set(CaseStatus) else None
    process = process if process in PROCESSES else ""
    one = session.get(Pupil, int(pupil)) if pupil.isdigit() and len(pupil) < 12 else None
    one = one if one is not None and one.school_id == staff.school_id else None
    soonest = next_due()
    query = (
        case_service.cases_query(
            school_id=staff.school_id,
            status=chosen,
            process=process or None,
            pupil_id=one.id if one else None,
        )
        .order_by(None)
        .order_by(col(Case.status) == CaseStatus.closed, soonest.is_(None), soonest)
        .order_by(col(Case.started_at).desc())
    )
    cases = paginate(session, query, offset, PAGE_LENGTH)
    on = today()
    pupils = by_id(session, Pupil, {c.pupil_id for c in cases.items})
    deadlines = next_deadlines(session, [c.id for c in cases.items], on)

    def url(at: int) -> str:
        query = {
            "status": chosen.value if chosen else "",
            "process": process,
            "pupil": str(one.id) if one else "",
            "offset": at,
        }
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
        "pupil": one,
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
    fields = _start_fields(session, staff, process)
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


def _start_fields(session: Session, staff: Staff, process: Process) -> list[forms.FormField]:
    """The start form's fields, people and agencies chosen from the register by name."""
    choices = register_choices(session, staff.school_id, process.start)
    for name in process.start.model_fields:
        if always := already_included(process, name):
            choices[name] = [(kind, text) for kind, text in forms.RECIPIENT_KINDS if kind not in always]
    return forms.form_fields(process.start, prefix="facts", choices=choices)


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
    fields = _start_fields(session, staff, process)
    values = forms.submitted(fields, form)
    pupil = str(form.get("pupil_id") or "")
    values["pupil_id"] = pupil
    try:
        check_role(staff, STAFF_WHO_ACT)
        unreadable = forms.entry_errors(fields, values)
        if unreadable:
            problems = [{"field": name, "reason": reason} for name, reason in unreadable.items()]
            raise ApiError(status.HTTP_422_UNPROCESSABLE_CONTENT, "Some answers need correcting.", problems)
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
        errors, loose = forms.errors_by_field(_problems(err), [*values, "process"], _titles(fields))
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
    await _set_up(session, started.id)
    return redirect(f"/cases/{started.id}", flash=f"Case started: {process.title}.")


async def _set_up(session: Session, case_id: str) -> None:
    """Wait (briefly) for the workflow's first write, so the new case's page says what to do next."""
    for _ in range(60):
        case = session.get(Case, case_id)
        if case is not None and case.next_action:
            return
        session.expire_all()
        await asyncio.sleep(0.05)


# --- one case ------------------------------------------------------------------------------------------
def _action_form(
    name: str, spec: Action, deadlines: list[DeadlineView], case: Case, people: People
) -> ActionForm:
    """The form for one action, its choices from the case: a deadline to move by what it is and who
    owns it, an adviser from those asked, who attended from those invited, each by name."""
    choices = {
        **register_choices(people.session, case.school_id, spec.payload),
        **action_choices(spec, case, people),
    }
    if name == "change-due-date":
        choices["key"] = [
            (
                d.key,
                f"{d.description[:1].upper()}{d.description[1:]} ({d.owner_words}), due {words.day(d.due)}",
            )
            for d in deadlines
            if d.is_open
        ]
    fields = forms.form_fields(spec.payload, prefix="body", choices=choices)
    return ActionForm(
        name=name,
        label=spec.title or forms.humanise(name),
        hint=next(iter((spec.payload.__doc__ or "").strip().splitlines()), ""),
        fields=fields,
        values=forms.defaults(fields),
    )


def _titles(fields: list[forms.FormField]) -> dict[str, str]:
    """A form's field names as their labels, for reasons that name a field."""
    return {f.path[-1]: f.label.lower() for f in fields}


async def _case_page(
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
    people = People(session, case)
    rows = list(session.exec(case_service.deadlines_query(case_id=case.id)))
    deadlines = [deadline_view(d, on, people) for d in rows]
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
                refused
                if refused and refused.name == name
                else _action_form(name, spec, deadlines, case, people)
            )
        if refused and refused.name not in {a.name for a in action_forms}:
            action_forms.append(refused)
    client = await _client_or_none(request)
    context = {
        "staff": staff,
        "case": case,
        "record": await case_record(client, case, people) if client else [],
        "flags": [words.flag(f) for f in case.flags or []],
        "step": words.step(case.step),
        "pupil": session.get(Pupil, case.pupil_id),
        "process_title": process_title(case.process),
        "started_by": who(f"staff:{case.started_by}", names),
        "next_deadline": deadline_view(upcoming, on, people) if upcoming else None,
        "next_action": words.plain(case.next_action, names=people.named),
        "deadlines": deadlines,
        "approvals": approvals,
        "chronology": [
            (e, who(e.actor, names, people), words.plain(e.detail, names=people.named)) for e in chronology
        ],
        "emails": emails_of(session, case.id),
        "actions": action_forms,
        **case_section(session, case, people),  # links sent to parents and agencies, files received
        "can_act": can_act,
        "is_head": Role(staff.role) == Role.headteacher,
        "alert": alert,
        "facts": facts_shown(process, case.view or {}, people),  # the workflow's own view of the case
        "given": facts_shown(process, case.facts or {}, people),  # what the SENDCo gave at the start
        "transfer": words.transfer((case.view or case.facts or {}).get("transfer"))
        if (case.view or case.facts or {}).get("transfer") not in (None, "none")
        else "",
    }
    return page(request, "case.html", context, active="cases", status_code=status_code)


def _not_found(request: Request, staff: Staff, what: str) -> HTMLResponse:
    """A page saying what was not found (a 404 that still looks like the product)."""
    context = {"staff": staff, "heading": "Not found", "message": what}
    return page(request, "message.html", context, active="cases", status_code=status.HTTP_404_NOT_FOUND)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(case_id: str, request: Request, session: SessionDep) -> HTMLResponse:
    """The case: where it is, what is next and by when, every deadline, and what has happened."""
    staff = web_staff(request, session)
    case = case_service.case_at_school(session, case_id=case_id, school_id=staff.school_id)
    if case is None:
        return _not_found(request, staff, "There is no such case.")
    return await _case_page(request, session, staff, case)


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
    people = People(session, case)
    deadlines = [
        deadline_view(d, today(), people) for d in session.exec(case_service.deadlines_query(case_id=case.id))
    ]
    attempt = _action_form(action, spec, deadlines, case, people)
    attempt.values = forms.submitted(attempt.fields, form)
    titles = _titles(attempt.fields)
    try:
        check_role(staff, STAFF_WHO_ACT)
        unreadable = forms.entry_errors(attempt.fields, attempt.values)
        if unreadable:
            problems = [{"field": name, "reason": reason} for name, reason in unreadable.items()]
            raise ApiError(status.HTTP_422_UNPROCESSABLE_CONTENT, "Some answers need correcting.", problems)
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
        prefix = (
            "" if err.errors and all(str(e["field"]).startswith("body.") for e in err.errors) else "body."
        )
        attempt.errors, loose = forms.errors_by_field(_problems(err, prefix), attempt.values, titles)
        attempt.refusal = words.sentence("; ".join(loose)) or "Please check the answers marked below."
        alert = f"{attempt.label} was not done. {attempt.refusal}"
        return await _case_page(
            request, session, staff, case, refused=attempt, alert=alert, status_code=err.status_code
        )
    return redirect(
        f"/cases/{case_id}", flash=_outcome(attempt.label, str(done.result), done.case.next_action)
    )


def _outcome(label: str, result: str, next_action: str) -> str:
    """What an action did, in words: 'Set the review meeting: done (Wed 20 Jan 2027, 10:00). Next: ...'."""
    said = words.shown(result)
    said = words.recommendation(result) if result in words.RECOMMENDATIONS else said
    done = (
        f"{label}: {said}."
        if said and said not in ("recorded", "submitted")
        else f"{label}: {said or 'done'}."
    )
    after = words.plain(next_action)
    return f"{done} Next: {after[:1].lower()}{after[1:]}." if after else done


# --- approvals ---------------------------------------------------------------------------------------
async def _approvals_page(
    request: Request, session: Session, staff: Staff, offset: int, *, alert: str = "", status_code: int = 200
) -> HTMLResponse:
    """Pending approvals of the school, each with what it rests on: the case's record and its flags."""
    waiting = paginate(session, case_service.approvals_query(school_id=staff.school_id), offset, PAGE_LENGTH)
    case_ids = {a.case_id for a in waiting.items}
    cases = {c.id: c for c in session.exec(select(Case).where(col(Case.id).in_(case_ids)))}
    pupils = by_id(session, Pupil, {c.pupil_id for c in cases.values()})
    client = await _client_or_none(request)
    rows = []
    for a in waiting.items:
        case = cases[a.case_id]
        people = People(session, case)
        rows.append(
            {
                "approval": a,
                "case": case,
                "pupil": pupils.get(case.pupil_id),
                "summary": words.plain(a.summary, names=people.named),
                "title": words.step(a.step),
                "flags": [words.flag(f) for f in case.flags or []],
                "record": await case_record(client, case, people) if client else [],
                "read": client is not None,
            }
        )
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


async def _client_or_none(request: Request) -> Any:
    """The Temporal client, or None when the engine is not answering (the page still shows the rest)."""
    try:
        return await temporal_client(request)
    except ApiError:
        return None


@router.get("/approvals", response_class=HTMLResponse)
async def approvals_page(
    request: Request, session: SessionDep, offset: Annotated[int, Query(ge=0)] = 0
) -> HTMLResponse:
    """What waits for the headteacher's decision, oldest first; only the headteacher sees the buttons."""
    return await _approvals_page(request, session, web_staff(request, session), offset)


def _decision(form: FormData) -> DecisionBody:
    """The button pressed (approve or reject) and the comment."""
    try:
        return DecisionBody(approve=form.get("decision") == "approve", comment=str(form.get("comment") or ""))
    except ValidationError as err:
        reasons = "; ".join(words.reword(reason_of(e)) for e in err.errors())
        raise ApiError(status.HTTP_422_UNPROCESSABLE_CONTENT, f"Comment: {reasons}") from err


async def _decided(session: Session, approval: Approval) -> None:
    """Wait (briefly) until the workflow has written the decision, so the next page no longer offers it."""
    for _ in range(60):
        session.refresh(approval)
        if approval.status != ApprovalStatus.pending:
            return
        await asyncio.sleep(0.05)


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
        alert = f"The decision was not recorded. {words.sentence(words.plain(_reason(err)))}"
        return await _approvals_page(request, session, staff, 0, alert=alert, status_code=err.status_code)
    await _decided(session, approval)
    back = safe_next(str(form.get("back") or "/approvals"))
    verdict = "approved" if done.result == "approved" else "sent back to the SENDCo with your comment"
    return redirect(back, flash=f"Decision recorded: {verdict}.")


# --- home: My week (the SENDCo), approvals and escalations (the headteacher) ------------------------------
@dataclass
class Due:
    """One open deadline on the home page: the deadline in words, its case and pupil."""

    deadline: DeadlineView
    case: Case
    pupil: Pupil | None


@router.get("/", response_model=None)
def home(request: Request, session: SessionDep) -> Response:
    """Signed in: My week (the headteacher's home for the headteacher); signed out: the sign-in page."""
    staff = web_staff(request, session, next_path="/")
    on = today()
    found = sendco_week(session, staff.school_id, on)
    people: dict[str, People] = {}

    def shown(items: list[Item]) -> list[Due]:
        return [
            Due(
                deadline_view(i.deadline, on, people.setdefault(i.case.id, People(session, i.case))),
                i.case,
                i.pupil,
            )
            for i in items
        ]

    approvals = [
        {"approval": a, "case": c, "pupil": p, "summary": words.plain(a.summary)}
        for a, c, p in found.approvals
    ]
    context = {
        "staff": staff,
        "is_head": Role(staff.role) == Role.headteacher,
        "today": on,
        "back_on": found.back_on,
        "works_every_day": found.works_every_weekday,
        "working_days": words.working_pattern(found.working_days),
        "overdue": shown(found.overdue),
        "due_soon": shown(found.due_soon),
        "coming": shown(found.coming),
        "others": shown(found.others),
        "escalated": shown(found.escalated),
        "approvals": approvals,
        "process_title": process_title,
    }
    return page(request, "home.html", context, active="home")


# --- the SEND register ---------------------------------------------------------------------------------
@router.get("/register", response_class=HTMLResponse)
def register_page(
    request: Request,
    session: SessionDep,
    provision: str = "",
    need: str = "",
    year_group: str = "",
    has_open_case: str = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    """Every pupil with SEN provision: needs, open cases and the next deadline; filters and a CSV export."""
    staff = web_staff(request, session)
    chosen = {
        "provision": SenProvision(provision) if provision in set(SenProvision) else None,
        "need": NeedType(need) if need in set(NeedType) else None,
        "year_group": int(year_group) if re.fullmatch(r"-?\d{1,2}", year_group) else None,
        "has_open_case": {"yes": True, "no": False}.get(has_open_case),
    }
    found = register_service.register(
        session, school_id=staff.school_id, offset=offset, limit=PAGE_LENGTH, **chosen
    )
    on = today()
    query = {k: v for k, v in {"provision": provision, "need": need, "year_group": year_group}.items() if v}
    if chosen["has_open_case"] is not None:
        query["has_open_case"] = has_open_case
    api_query = {k: v for k, v in query.items() if k != "has_open_case"}
    if chosen["has_open_case"] is not None:
        api_query["has_open_case"] = "true" if chosen["has_open_case"] else "false"
    rows = [
        {
            "entry": e,
            "needs": [words.need(n.value) for n in e.needs],
            "provision": words.provision(e.sen_provision.value),
            "year": words.year_group(e.year_group),
            "cases": [(c.id, process_title(c.process)) for c in e.open_cases],
            "due": e.next_deadline,
            "due_words": words.deadline_status("pending", e.next_deadline.due, None, on)
            if e.next_deadline
            else "",
            "due_what": rule(e.next_deadline.rule_id).description if e.next_deadline else "",
        }
        for e in found.items
    ]
    context = {
        "staff": staff,
        "page": found,
        "rows": rows,
        "chosen": {
            "provision": provision,
            "need": need,
            "year_group": year_group,
            "has_open_case": has_open_case,
        },
        "provisions": [(p.value, words.provision(p.value)) for p in SenProvision],
        "needs": [(n.value, words.need(n.value)) for n in NeedType],
        "years": [(str(y), words.year_group(y)) for y in range(-2, 15)],
        "csv_url": "/api/v1/register.csv" + (f"?{urlencode(api_query)}" if api_query else ""),
        "previous_url": "/register?" + urlencode({**query, "offset": max(offset - PAGE_LENGTH, 0)}),
        "next_url": "/register?" + urlencode({**query, "offset": offset + PAGE_LENGTH}),
        "filtered": bool(query),
    }
    return page(request, "register.html", context, active="register")
