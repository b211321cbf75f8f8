"""The pages a parent or agency opens from an emailed link: no sign-in, one case, one purpose.

GET /respond/<token> shows what is asked and a form; POST takes the link's action on the link's case,
as its recipient (`parent:<id>`, `agency:<id>`), through api.commands. A used, expired, revoked or
altered link gets a page saying whom to contact, changes nothing, is logged (no personal data) and
counted on the link; a client with too many refused links in a while gets 429.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile

from api import commands
from api.deps import SessionDep, same_origin
from api.errors import ApiError
from api.public import today
from api.temporal_calls import temporal_client
from api.web import page
from domain import words
from domain.links import PURPOSES, LinkPurpose, Purpose
from domain.schemas import Actor
from domain.uploads import allowed, safe_name, size_words, sniff
from infra.link_signing import form_ok, form_token, link_id_of
from infra.settings import get_settings
from store import case_files, links
from store.casework import Case, CaseStatus
from store.links import ActionLink, LinkState

log = logging.getLogger(__name__)
router = APIRouter(tags=["respond"], include_in_schema=False)

REFUSED = {  # what a refused link's page says happened (then whom to contact)
    LinkState.used: ("This link has already been used", "Your answer was sent with it before."),
    LinkState.expired: ("This link has expired", "It was for a limited time, and that time has passed."),
    LinkState.revoked: ("This link no longer works", "The school has replaced or withdrawn it."),
    LinkState.tampered: ("This link does not work", "It may have been copied wrongly from the email."),
}
CLOSED = ("This case is closed", "Nothing more can be sent for it.")
FORGED = ("Nothing was sent", "The form did not come from this page. Open the link from your email again.")
REFUSED_STATUS = {LinkState.tampered: status.HTTP_404_NOT_FOUND}
ENTERED = ("views", "attending", "given", "received", "note")  # what a form shows again, if refused


class BadAttempts:
    """Refused links per client in a sliding window (in this process): past the limit, 429."""

    def __init__(self) -> None:
        self.seen: dict[str, deque[float]] = {}

    def _recent(self, client: str) -> deque[float]:
        window = get_settings().link_bad_window_seconds
        times = self.seen.setdefault(client, deque())
        while times and times[0] < time.monotonic() - window:
            times.popleft()
        return times

    def blocked(self, client: str) -> bool:
        return len(self._recent(client)) >= get_settings().link_bad_attempts

    def add(self, client: str) -> None:
        self._recent(client).append(time.monotonic())

    def clear(self) -> None:
        self.seen.clear()


BAD_ATTEMPTS = BadAttempts()


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _refused_page(
    request: Request,
    session: Session,
    link: ActionLink | None,
    why: tuple[str, str],
    code: int,
    *,
    state: str,
) -> HTMLResponse:
    """The page for a link that cannot be used: what happened, whom to contact; logged and counted."""
    BAD_ATTEMPTS.add(_client(request))
    session.commit()  # the link's count of refused attempts
    log.warning(
        "action link refused: %s (link %s, %s refused on it)",
        state,
        link.id[:8] if link else "unknown",
        link.refused if link else "-",
    )
    # An altered token proves nothing of whose link it was: the page names no school for it.
    contact = links.reader_context(session, link) if link and state != LinkState.tampered else {}
    heading, reason = why
    return page(
        request, "respond_refused.html", {"heading": heading, "reason": reason, **contact}, status_code=code
    )


def _too_many(request: Request) -> HTMLResponse:
    log.warning("action links: a client was refused too often and is held back for a while")
    return page(
        request,
        "respond_refused.html",
        {"heading": "Too many tries", "reason": "", "wait": True},
        status_code=429,
    )


def _open(request: Request, session: Session, token: str) -> tuple[ActionLink, Case] | HTMLResponse:
    """The live link and its open case, or the refusal page."""
    if BAD_ATTEMPTS.blocked(_client(request)):
        return _too_many(request)
    link, state = links.check(session, token)
    if link is None or state != LinkState.live:
        code = REFUSED_STATUS.get(state, status.HTTP_410_GONE)
        return _refused_page(request, session, link, REFUSED[state], code, state=state.value)
    case = session.get(Case, link.case_id)
    if case is None or case.status == CaseStatus.closed:
        links.refuse(session, link)
        return _refused_page(request, session, link, CLOSED, status.HTTP_409_CONFLICT, state="closed")
    return link, case


def _form_page(
    request: Request,
    session: Session,
    link: ActionLink,
    case: Case,
    token: str,
    *,
    alert: str = "",
    entered: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    spec = PURPOSES[Purpose(link.purpose)]
    settings = get_settings()
    view = case.view or {}
    context: dict[str, Any] = {
        **links.reader_context(session, link),
        "spec": spec,
        "token": token,
        "form_token": form_token(link.id),
        "key": uuid.uuid4().hex,
        "alert": alert,
        "entered": {**dict.fromkeys(ENTERED, ""), **(entered or {})},
        "meeting": words.when(view.get("meeting"), stored=False) if view.get("meeting") else "",
        "location": view.get("meeting_location") or "",
        "expires": words.day(links.aware(link.expires_at)),
        "types": allowed(settings.upload_types),
        "max_size": size_words(settings.upload_max_bytes),
    }
    return page(request, "respond.html", context, status_code=status_code)


@router.get("/respond/{token}", response_class=HTMLResponse)
def respond_page(token: str, request: Request, session: SessionDep) -> Response:
    opened = _open(request, session, token)
    if isinstance(opened, HTMLResponse):
        return opened
    link, case = opened
    return _form_page(request, session, link, case, token)


class Refused(Exception):
    """What the reader entered cannot be sent: the reason, in words, shown above the form."""


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


async def _upload(form: FormData) -> tuple[str, str, bytes]:
    """The uploaded file's safe name, sniffed type and bytes (Refused: none, too large, not allowed)."""
    settings = get_settings()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise Refused("Choose the file to send.")
    data = await upload.read(settings.upload_max_bytes + 1)
    if len(data) > settings.upload_max_bytes:
        raise Refused(
            f"The file is too large: send a file of at most {size_words(settings.upload_max_bytes)}."
        )
    if not data:
        raise Refused("The file is empty: choose the file again.")
    kinds = allowed(settings.upload_types)
    found = sniff(data)
    if found is None or found not in kinds:
        names = (
            ", ".join(k.words for k in kinds[:-1]) + f" or {kinds[-1].words}"
            if len(kinds) > 1
            else kinds[0].words
        )
        raise Refused(f"This kind of file cannot be sent here: send a {names}.")
    return safe_name(upload.filename, found), found.content_type, data


def _body(spec: LinkPurpose, link: ActionLink, form: FormData, upload: str = "") -> dict[str, Any]:
    """The action's payload from what the reader entered and what the link binds (who, which step)."""
    on = today().isoformat()
    if spec.purpose == Purpose.give_views:
        views = _text(form, "views")
        if not views:
            raise Refused("Write your views in the box, then send them.")
        return {"received_on": on, "views": views[:4000]}
    if spec.purpose == Purpose.confirm_attendance:
        answer = _text(form, "attending")
        if answer not in ("yes", "no"):
            raise Refused("Choose whether you can come to the meeting.")
        return {"invitee": link.addressed, "attending": answer == "yes", "note": _text(form, "note")[:1000]}
    if spec.purpose == Purpose.upload_advice:
        note = _text(form, "note")
        return {"adviser": link.addressed, "received_on": on, "summary": (note or f"Sent as {upload}")[:4000]}
    if spec.purpose == Purpose.give_consent:
        answer = _text(form, "given")
        if answer not in ("yes", "no"):
            raise Refused("Choose whether you give your consent.")
        return {"given": answer == "yes", "answered_on": on, "note": _text(form, "note")[:2000]}
    if spec.purpose == Purpose.acknowledge_file:
        if _text(form, "received") != "yes":
            raise Refused("Tick the box to confirm the SEN file has arrived.")
        return {"acknowledged_on": on, "note": _text(form, "note")[:2000]}
    raise Refused("This link cannot be answered here: please reply to the school by email.")


@router.post("/respond/{token}", response_class=HTMLResponse)
async def respond(token: str, request: Request, session: SessionDep) -> Response:
    opened = _open(request, session, token)
    if isinstance(opened, HTMLResponse):
        return opened
    link, case = opened
    form = await request.form()
    if not same_origin(request) or not form_ok(link.id, _text(form, "form_token")):
        return _refused_page(request, session, link, FORGED, status.HTTP_403_FORBIDDEN, state="forged")
    spec = PURPOSES[Purpose(link.purpose)]
    entered = {k: _text(form, k) for k in ENTERED}
    settings = get_settings()
    kept: case_files.CaseFile | None = None
    try:
        name, content_type, data = await _upload(form) if spec.upload else ("", "", b"")
        body = _body(spec, link, form, f"{name} ({size_words(len(data))})" if data else "")
    except Refused as err:
        return _form_page(
            request, session, link, case, token, alert=str(err), entered=entered, status_code=422
        )
    if not links.use(session, link, single_use=spec.single_use):  # another request used it first
        links.refuse(session, link)
        return _refused_page(request, session, link, REFUSED[LinkState.used], 410, state="used")
    try:
        if spec.upload:
            kept = case_files.keep(
                session,
                settings,
                case_id=case.id,
                link_id=link.id,
                name=name,
                content_type=content_type,
                data=data,
                sent_by=link.recipient,
                purpose=link.purpose,
            )
            session.commit()  # never hold a write open across the Update: the case writes as it answers
        client = await temporal_client(request)
        await commands.respond(
            session=session,
            client=client,
            case=case,
            action=spec.actions[case.process],
            body=body,
            actor=Actor(responder=link.recipient),
            key=_text(form, "key") or uuid.uuid4().hex,
        )
    except Exception as err:
        session.rollback()
        if kept is not None:
            case_files.discard(session, settings, kept)
        links.release(session, link)
        if not isinstance(err, ApiError):
            raise
        alert = f"Nothing was sent: {err.message[:1].lower()}{err.message[1:]}"
        return _form_page(
            request, session, link, case, token, alert=alert, entered=entered, status_code=err.status_code
        )
    log.info("action link answered: %s (link %s)", link.purpose, link.id[:8])
    return RedirectResponse(f"/respond/{token}/sent", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/respond/{token}/sent", response_class=HTMLResponse)
def respond_sent(token: str, request: Request, session: SessionDep) -> Response:
    """After an answer: thanks, and whom to contact to change it (the link's signature must still check)."""
    link_id, signed = link_id_of(token)
    link = session.get(ActionLink, link_id) if signed else None
    if link is None:
        if BAD_ATTEMPTS.blocked(_client(request)):
            return _too_many(request)
        return _refused_page(request, session, None, REFUSED[LinkState.tampered], 404, state="tampered")
    spec = PURPOSES[Purpose(link.purpose)]
    context = {
        **links.reader_context(session, link),
        "spec": spec,
        "again": not spec.single_use,
        "token": token,
    }
    return page(request, "respond_sent.html", context)
