"""The development mailbox: messages the embedded SMTP server received, as JSON and as web pages."""

from __future__ import annotations

import datetime as dt
from email import message_from_string, policy
from email.message import EmailMessage
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String, cast, func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from api.deps import SessionDep, require_role
from api.paging import Page, paginate
from api.web import page, web_staff
from domain.schemas import Role
from store.casework import ReceivedMail
from store.register import Staff

router = APIRouter(tags=["mailbox"])
MAX_LIMIT = 200
# Mail is kept per school, and only these read it (a teacher's page would show parents' letters).
READERS = (Role.sendco, Role.headteacher)
reader = require_role(*READERS)
NOT_YOURS = "Only the SENDCo or the headteacher can read the school's mailbox."


class MailSummary(BaseModel):
    """One received message in the list."""

    model_config = ConfigDict(populate_by_name=True)

    id: int
    received_at: dt.datetime
    from_: str = Field(alias="from")
    to: list[str]
    subject: str
    has_attachment: bool


class MailDetail(MailSummary):
    """One received message in full: headers, both bodies and the names of its attachments."""

    message_id: str | None
    headers: list[Annotated[list[str], Field(min_length=2, max_length=2)]] = Field(
        description="Each header as [name, value], in order"
    )
    text: str | None
    html: str | None
    attachments: list[str]


def mailbox_query(*, school_id: int, to: str | None = None) -> SelectOfScalar[ReceivedMail]:
    """The school's received mail, newest first, optionally only that sent to one address (any case)."""
    newest = (col(ReceivedMail.received_at).desc(), col(ReceivedMail.id).desc())
    statement = select(ReceivedMail).where(ReceivedMail.school_id == school_id).order_by(*newest)
    if to:
        quoted = '"' + to.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"'
        recipients = func.lower(cast(ReceivedMail.recipients, String))
        statement = statement.where(recipients.like(f"%{quoted}%", escape="\\"))
    return statement


def parsed(row: ReceivedMail) -> EmailMessage:
    return message_from_string(row.raw, policy=policy.default)  # type: ignore[return-value]


def summary(row: ReceivedMail) -> MailSummary:
    message = parsed(row)
    return MailSummary(
        id=row.id or 0,
        received_at=row.received_at,
        from_=row.mail_from,
        to=row.recipients,
        subject=row.subject,
        has_attachment=any(True for _ in message.iter_attachments()),
    )


def detail(row: ReceivedMail) -> MailDetail:
    message = parsed(row)
    attachments = [p.get_filename() or p.get_content_type() for p in message.iter_attachments()]
    return MailDetail(
        **summary(row).model_dump(by_alias=False),
        message_id=row.message_id,
        headers=[[name, str(value)] for name, value in message.items()],
        text=_body(message, "plain"),
        html=_body(message, "html"),
        attachments=attachments,
    )


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    try:
        return part.get_content()
    except (LookupError, KeyError):  # unknown charset: show what we can
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else None


def _get(session: Session, mail_id: int, staff: Staff) -> ReceivedMail:
    """The message, if it is the staff member's school's (404 otherwise, saying nothing of other schools)."""
    row = session.get(ReceivedMail, mail_id)
    if row is None or row.school_id is None or row.school_id != staff.school_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "There is no such message.")
    return row


Offset = Annotated[int, Query(ge=0, description="Messages to skip")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page length")]
To = Annotated[str | None, Query(description="Only messages sent to this address")]


# --- JSON ---------------------------------------------------------------------------------------------
@router.get("/api/v1/mailbox", response_model=Page[MailSummary])
def list_mailbox(
    session: SessionDep, staff: Annotated[Staff, reader], offset: Offset = 0, limit: Limit = 50, to: To = None
) -> Any:
    """Your school's received messages, newest first (the SENDCo and the headteacher only)."""
    return paginate(session, mailbox_query(school_id=staff.school_id, to=to), offset, limit, to=summary)


@router.get("/api/v1/mailbox/{mail_id}", response_model=MailDetail)
def read_mail(mail_id: int, session: SessionDep, staff: Annotated[Staff, reader]) -> Any:
    """One of your school's received messages in full (the SENDCo and the headteacher only)."""
    return detail(_get(session, mail_id, staff))


# --- web pages ------------------------------------------------------------------------------------------
def _not_a_reader(request: Request, staff: Staff) -> HTMLResponse | None:
    if Role(staff.role) in READERS:
        return None
    context = {"staff": staff, "heading": "Mailbox", "message": NOT_YOURS}
    return page(request, "message.html", context, active="mailbox", status_code=status.HTTP_403_FORBIDDEN)


@router.get("/mailbox", response_class=HTMLResponse, include_in_schema=False)
def mailbox_page(
    request: Request, session: SessionDep, offset: Offset = 0, limit: Limit = 50, to: To = None
) -> HTMLResponse:
    staff = web_staff(request, session)
    if (refused := _not_a_reader(request, staff)) is not None:
        return refused
    messages = paginate(session, mailbox_query(school_id=staff.school_id, to=to), offset, limit, to=summary)

    def url(at: int) -> str:
        query = {"offset": at, "limit": limit, "to": to}
        return "/mailbox?" + urlencode({k: v for k, v in query.items() if v})

    return page(
        request,
        "mailbox.html",
        {
            "staff": staff,
            "page": messages,
            "to": to,
            "newer_url": url(max(offset - limit, 0)),
            "older_url": url(offset + limit),
        },
        active="mailbox",
    )


@router.get("/mailbox/{mail_id}", response_class=HTMLResponse, include_in_schema=False)
def mail_page(mail_id: int, request: Request, session: SessionDep) -> HTMLResponse:
    staff = web_staff(request, session)
    if (refused := _not_a_reader(request, staff)) is not None:
        return refused
    mail = detail(_get(session, mail_id, staff))
    return page(request, "mailbox_message.html", {"staff": staff, "mail": mail}, active="mailbox")
