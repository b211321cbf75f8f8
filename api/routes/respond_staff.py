"""The case page's links and files: what each parent and agency was sent, the SENDCo revoking a link,
and staff opening a file that came through one (signed-in pages, CSRF on every form)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session
from temporalio.service import RPCError

from api.case_views import People
from api.deps import SessionDep, check_role
from api.errors import ApiError
from api.temporal_calls import task_queue, temporal_client
from api.web import form_guard, page, redirect, web_staff
from domain import words
from domain.links import PURPOSES, RESEND_TEMPLATE, Purpose
from domain.schemas import EmailRequest, Recipient
from domain.uploads import size_words
from infra.settings import get_settings
from store import case_files, case_service, links
from store.casework import Case, CaseStatus
from store.links import LinkState
from workflows.process import STAFF_WHO_ACT
from workflows.resend_link import ResendLink, resend_workflow_id

router = APIRouter(tags=["pages"], include_in_schema=False, dependencies=[Depends(form_guard)])

STATE_WORDS = {
    LinkState.live: "Not used yet",
    LinkState.used: "Used",
    LinkState.expired: "Expired",
    LinkState.revoked: "Withdrawn",
}


def case_section(session: Session, case: Case, people: People) -> dict[str, Any]:
    """The case page's list of links sent and files received (its own section of case.html)."""
    at = links.now()
    shown = []
    for link in links.of_case(session, case_id=case.id):
        state = links.state_of(link, at)
        spec = PURPOSES.get(Purpose(link.purpose))
        when = {LinkState.used: link.used_at, LinkState.revoked: link.revoked_at}.get(state)
        shown.append(
            {
                "id": link.id,
                "who": people.name(link.recipient),
                "what": spec.title if spec else link.purpose,
                "sent": words.day(links.aware(link.created_at)),
                "until": words.day(links.aware(link.expires_at)),
                "state": STATE_WORDS[state] + (f" {words.day(links.aware(when))}" if when else ""),
                "live": state == LinkState.live,
                "refused": link.refused,
            }
        )
    files = [
        {
            "id": f.id,
            "name": f.name,
            "who": people.name(f.sent_by),
            "size": size_words(f.size),
            "when": words.when(f.stored_at),
        }
        for f in case_files.of_case(session, case_id=case.id)
    ]
    return {"links": shown, "files": files}


def _case(request: Request, session: Session, case_id: str) -> tuple[Any, Case | None]:
    staff = web_staff(request, session)
    return staff, case_service.case_at_school(session, case_id=case_id, school_id=staff.school_id)


def _case_link(
    request: Request, session: Session, case_id: str, link_id: str
) -> tuple[Any, Case | None, Any]:
    """The signed-in staff member, their school's case and the case's link (None where there is none)."""
    staff, case = _case(request, session, case_id)
    return staff, case, links.link_of(session, case_id=case.id, link_id=link_id) if case else None


def _said(
    request: Request, staff: Any, message: str, *, heading: str = "Not found", code: int = 404
) -> HTMLResponse:
    context = {"staff": staff, "heading": heading, "message": message}
    return page(request, "message.html", context, active="cases", status_code=code)


@router.post("/cases/{case_id}/links/{link_id}/revoke", response_model=None)
async def revoke_link(case_id: str, link_id: str, request: Request, session: SessionDep) -> Response:
    """Withdraw a link at once: opening it from then on says so, and changes nothing."""
    staff, case, link = _case_link(request, session, case_id, link_id)
    if case is None or link is None:
        return _said(request, staff, "There is no such case, or it has no such link.")
    try:
        check_role(staff, STAFF_WHO_ACT)
    except ApiError as err:
        return _said(request, staff, err.message, heading="Not allowed", code=err.status_code)
    links.revoke(session, case_id=case.id, link_id=link.id)
    who = People(session, case).name(link.recipient)
    return redirect(f"/cases/{case.id}#links", flash=f"The link sent to {who} no longer works.")


@router.post("/cases/{case_id}/links/{link_id}/resend", response_model=None)
async def resend_link(case_id: str, link_id: str, request: Request, session: SessionDep) -> Response:
    """Send the reader a new link for the same purpose (the old one stops working): by the worker."""
    staff, case, link = _case_link(request, session, case_id, link_id)
    if case is None or link is None:
        return _said(request, staff, "There is no such case, or it has no such link.")
    try:
        check_role(staff, STAFF_WHO_ACT)
        if case.status == CaseStatus.closed:
            raise ApiError(409, "This case is closed: no new link can be sent.")
        attempt = uuid.uuid4().hex[:12]
        req = EmailRequest(
            key=f"resend:{link.id}:{attempt}",
            case_id=case.id,
            template=RESEND_TEMPLATE,
            to=[Recipient.model_validate(link.addressed)],  # as the case knows them; to that one reader only:
            context={"link_purpose": link.purpose, "only_reader": link.recipient},
        )
        client = await temporal_client(request)
        try:
            await client.start_workflow(
                ResendLink.run, req, id=resend_workflow_id(link.id, attempt), task_queue=task_queue(request)
            )
        except RPCError as err:
            raise ApiError(
                503, "The engine could not send the link just now: try again in a minute."
            ) from err
        links.revoke(session, case_id=case.id, link_id=link.id)
    except ApiError as err:
        return _said(request, staff, err.message, heading="Not sent", code=err.status_code)
    who = People(session, case).name(link.recipient)
    return redirect(
        f"/cases/{case.id}#links", flash=f"A new link is on its way to {who}. The old one no longer works."
    )


@router.get("/cases/{case_id}/files/{file_id}", response_model=None)
def case_file(case_id: str, file_id: str, request: Request, session: SessionDep) -> Response:
    """A file sent with the case, as a download (its type as sniffed when it came, never guessed again)."""
    staff, case = _case(request, session, case_id)
    found = case_files.read(session, get_settings(), case_id=case.id, file_id=file_id) if case else None
    if found is None:
        return _said(request, staff, "There is no such file on this case.")
    row, data = found
    headers = {
        "Content-Disposition": f'attachment; filename="{row.name}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    return Response(data, media_type=row.content_type, headers=headers)
