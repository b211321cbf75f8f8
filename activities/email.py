"""The send_email activity: render, record in the outbox, send once over SMTP (exactly once per key)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from email.utils import format_datetime, parseaddr
from functools import partial
from itertools import pairwise
from typing import Any

import aiosmtplib
from jinja2 import TemplateError
from sqlalchemy import update
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import mime
from activities.links import links_for
from activities.recipients import Person, greeting_name, no_recipient, resolve
from activities.rendering import Rendered, render
from domain import words
from domain.schemas import EmailBatch, EmailRequest, EmailResult, Recipient
from infra.case_history import accepted_updates
from infra.database import session_scope
from infra.group_commit import WRITES
from infra.settings import Settings, get_settings
from store.casework import Case, OutboxCopy, OutboxMessage, OutboxStatus
from store.chronology import append
from store.register import Pupil, School
from store.register_service import sendco_of

log = logging.getLogger(__name__)

ADDRESS = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+")
NOTICE_TEMPLATE = "delivery-failed"
UNBUILDABLE = (
    "the email cannot be built for one recipient (a line break or control character in their name or"
    " address: correct it in the register)"
)


@dataclass(frozen=True)
class Outgoing:
    """One recipient's own copy, ready for SMTP: nobody sees another recipient's address."""

    data: bytes  # the MIME message, written out once when it was built and sent as is
    sender: str
    address: str
    copy_id: int  # its OutboxCopy row: claimed before SMTP, delivered after the 250
    attempt: int  # the attempt at its message that claims it


@dataclass(frozen=True)
class Prepared:
    """The copies still to send for one outbox message, and the attempt that will claim them."""

    copies: list[Outgoing]
    total: int
    attempt: int
    unbuildable: list[str] = field(default_factory=list)  # why any copy could not be built
    claimed: int | None = None  # the first copy, when claimed for this attempt as the copies were made


@dataclass(frozen=True)
class CaseInBatch:
    """A case a batch emails about: its rows, loaded once and held for the batch (the session's identity
    map holds rows weakly, so a row nobody holds is read again at every lookup), and its template context."""

    case: Case | None
    held: tuple[Any, ...]  # the case's pupil and school, which the recipients' lookups read again
    context: dict[str, Any]  # what every template may use about the case


CaseContexts = dict[str, CaseInBatch]  # by case id
HEARTBEAT_EVERY = 2.0  # seconds; the workflows' heartbeat timeout is a few of these


@activity.defn(name="send_email")
async def send_email(req: EmailRequest) -> EmailResult:
    """Send one logical email exactly once; 4xx and connection errors retry, 5xx fail for good."""
    async with _heartbeating():
        return await deliver(req, notify=True)


@activity.defn(name="send_emails")
async def send_emails(batch: EmailBatch) -> list[EmailResult]:
    """A step's emails, each exactly once per recipient; a 4xx retries the batch (sent copies skipped)."""
    async with _heartbeating():
        outcomes = await deliver_all(batch.emails, notify=True)
    return [
        EmailResult(key=req.key, status="failed") if isinstance(outcome, ApplicationError) else outcome
        for req, outcome in zip(batch.emails, outcomes, strict=True)
    ]


@asynccontextmanager
async def _heartbeating() -> AsyncIterator[None]:
    """Heartbeat while the activity runs (a slow SMTP server too), so a worker that dies is noticed
    within the heartbeat timeout and the copies it had not sent go on the next attempt."""

    async def beat() -> None:  # the first after 2 s: most batches finish before it (time-skipping tests too)
        while True:
            await asyncio.sleep(HEARTBEAT_EVERY)
            activity.heartbeat()

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()


EMAIL_ACTIVITIES = [send_email, send_emails]


async def deliver(req: EmailRequest, *, notify: bool) -> EmailResult:
    """Send each recipient their own copy unless the outbox row is settled; notify the SENDCo on failure.
    A rejection (EmailRejected, NoRecipient) raises."""
    [outcome] = await deliver_all([req], notify=notify)
    if isinstance(outcome, ApplicationError):
        raise outcome
    return outcome


async def deliver_all(reqs: list[EmailRequest], *, notify: bool) -> list[EmailResult | ApplicationError]:
    """Each email's copies, one after another over one connection: its result, or the error that
    rejected it for good (recorded, the SENDCo told). Anything else raises (a deferral, a takeover): the
    activity is retried and the copies already delivered are skipped.

    Every email is prepared in one transaction, which claims the first copy; each copy's delivery is
    recorded in the transaction that claims the next one, so at most one copy is ever in flight.
    """
    reqs = [await _with_record(req) for req in reqs]
    prepared = await asyncio.to_thread(_prepare_all, reqs)
    copies = [copy for p in prepared if isinstance(p, Prepared) for copy in p.copies]
    following = {copy.copy_id: after for copy, after in pairwise(copies)}
    claimed = {p.claimed for p in prepared if isinstance(p, Prepared) and p.claimed is not None}
    outcomes: list[EmailResult | ApplicationError] = []
    async with Mailer() as mailer:
        for req, ready in zip(reqs, prepared, strict=True):
            if isinstance(ready, ApplicationError):  # NoRecipient: nobody to send it to
                await _reject(req, ready.message, notify=notify)
                outcomes.append(ready)
            elif isinstance(ready, EmailResult):
                log.info("email %s not sent again: %s", req.key, ready.status)
                outcomes.append(ready)
            else:
                outcomes.append(await _send_copies(req, ready, mailer, claimed, following, notify=notify))
    return outcomes


async def _with_record(req: EmailRequest) -> EmailRequest:
    """The request with what was recorded on the case, for the templates that show it."""
    if req.template in RECORD_TEMPLATES and req.case_id and "record" not in req.context:
        return req.model_copy(update={"context": {**req.context, "record": await _case_record(req)}})
    return req


async def _send_copies(
    req: EmailRequest,
    prepared: Prepared,
    mailer: Mailer,
    claimed: set[int],
    following: dict[int, Outgoing],
    *,
    notify: bool,
) -> EmailResult | ApplicationError:
    """Send one email's copies not yet delivered; the copy after each is claimed as it is recorded."""
    total = prepared.total
    refused = list(prepared.unbuildable)  # a copy that cannot be built is refused for good, as a 5xx
    sent = False  # whether the outbox row is marked sent (with the last copy's delivery)
    for copy in prepared.copies:  # a retry skips the copies already delivered
        if not (copy.copy_id in claimed or await asyncio.to_thread(_claim, copy.copy_id, prepared.attempt)):
            log.warning("email %s: a newer attempt has taken over (case %s)", req.key, req.case_id)
            raise ApplicationError(f"email {req.key} taken over by a newer attempt", type="EmailSuperseded")
        try:
            await mailer.send(copy)
        except (aiosmtplib.SMTPException, OSError, TimeoutError, ValueError) as exc:
            code, reply = smtp_reply(exc)
            if code is not None and code >= 500:
                refused.append(reply)
                continue
            await asyncio.to_thread(_record_deferral, req.key, reply)
            log.warning(
                "email %s deferred (case %s), will retry: %s", req.key, req.case_id, code or "no link"
            )
            raise ApplicationError(f"email {req.key} deferred: {reply}", type="EmailDeferred") from None
        last = copy is prepared.copies[-1]  # the last: the row is marked sent in the same transaction
        record = partial(
            _record_delivered_in,
            copy_id=copy.copy_id,
            sent=req if last else None,
            refused="; ".join(refused),
            total=total,
            claim_next=following.get(copy.copy_id),
        )
        nxt = await WRITES.write(record)  # with the other batches' (each waits for its own)
        if nxt is not None:
            claimed.add(nxt)
        sent = sent or last
    if refused and len(refused) == total:
        reply = "; ".join(refused)
        await _reject(req, reply, notify=notify)
        return ApplicationError(
            f"email {req.key} rejected: {reply}", type="EmailRejected", non_retryable=True
        )
    if not sent:
        await asyncio.to_thread(_mark_sent, req, "; ".join(refused), total)
    if refused and notify:
        await _notify_sendco(req, "; ".join(refused))
    log.info("email %s sent (case %s)", req.key, req.case_id)
    return EmailResult(key=req.key, status="sent", recipients=total - len(refused))


class Mailer:
    """One SMTP connection for a run of copies: opened at the first, dropped after any failure (the
    next copy opens a new one), closed with QUIT at the end."""

    def __init__(self) -> None:
        self._smtp: aiosmtplib.SMTP | None = None

    async def __aenter__(self) -> Mailer:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None and smtp.is_connected:
            try:
                await smtp.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                smtp.close()

    async def send(self, copy: Outgoing) -> None:
        """Send one copy to its one recipient; the server's 250 has been read when this returns."""
        if self._smtp is None or not self._smtp.is_connected:
            settings = get_settings()
            smtp = aiosmtplib.SMTP(
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=settings.smtp_password,
                start_tls=settings.smtp_starttls,
                timeout=30,
            )
            await smtp.connect()
            self._smtp = smtp
        try:
            await self._smtp.sendmail(copy.sender, [copy.address], copy.data)
        except BaseException:
            smtp, self._smtp = self._smtp, None
            smtp.close()  # whatever state the transaction left it in, the next copy starts afresh
            raise


def smtp_reply(exc: BaseException) -> tuple[int | None, str]:
    """The SMTP code (None: no connection; 550: unsendable address) and the reply without addresses."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        text = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        return (min(codes) if codes else None), scrub(text)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return exc.code, scrub(f"{exc.code} {exc.message}")
    if isinstance(exc, ValueError):
        return 550, scrub(f"address cannot be sent: {exc}")
    return None, scrub(f"{type(exc).__name__}: {exc}")


def scrub(text: str) -> str:
    """The text with every email address replaced by <address>."""
    return ADDRESS.sub("<address>", text)[:1000]


# --- outbox and chronology (run in a thread: the database is synchronous) ----------------------------
RECORD_TEMPLATES = frozenset({"approval-request"})  # emails that show what was recorded on the case


async def _case_record(req: EmailRequest) -> list[dict[str, Any]]:
    """What staff recorded on the case this cycle (from its workflow's history), for the headteacher to
    read in the email itself; empty outside a worker or when the history cannot be read."""
    try:
        client = activity.client()
        with session_scope() as session:
            case = _case(session, req.case_id)
            workflow_id = case.workflow_id if case else ""
        updates = await accepted_updates(client, workflow_id)
    except Exception:  # not in a worker's activity, or the history unreadable: the summary alone
        return []
    return await asyncio.to_thread(_recorded, req.case_id, updates)


def _recorded(case_id: str | None, updates: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """Each recorded action as a title and its entries in words, people by the register's names."""
    with session_scope() as session:
        case = _case(session, case_id)

        def name(label: str) -> str | None:
            kind, _, ident = label.partition(":")
            recipient = {"kind": kind}
            if ident.isdigit():
                recipient["staff_id" if kind in STAFF_KINDS else "agency_id"] = ident
            try:
                people = resolve(session, case=case, recipients=[Recipient.model_validate(recipient)])
            except ApplicationError:
                return None
            return " and ".join(p.name for p in people) or None

        def shown(value: Any) -> str:
            if isinstance(value, dict) and "kind" in value:  # a recipient
                value = Recipient.model_validate(value).label
                return name(value) or words.kind(value.partition(":")[0])
            if isinstance(value, list) and value and all(isinstance(v, dict) and "kind" in v for v in value):
                return "; ".join(shown(v) for v in value)
            return words.shown(value, names=name)

        record = []
        for update, data in updates:
            if update in NOT_RECORDED or not isinstance(data, dict):
                continue
            items = [
                (words.humanise(k), shown(v))
                for k, v in data.items()
                if k != "actor" and v not in (None, "", [], {})
            ]
            record.append({"title": words.humanise(update), "entries": items})
        return record


NOT_RECORDED = frozenset({"ready", "change_due_date", "decide_approval"})


def _prepare(req: EmailRequest) -> Prepared | EmailResult:
    """One email's `_prepare_all` (a NoRecipient raises)."""
    [prepared] = _prepare_all([req])
    if isinstance(prepared, ApplicationError):
        raise prepared
    return prepared


def _prepare_all(reqs: list[EmailRequest]) -> list[Prepared | EmailResult | ApplicationError]:
    """Every email's `_plan_in`, then its rows written, in one transaction that claims the first copy to
    be sent. Everything is read, rendered and built before the first row is written, so SQLite's one
    write lock, which every other step's record write waits for, is held only while the rows are."""
    planned: list[Planned | EmailResult | ApplicationError] = []
    cases: CaseContexts = {}  # a batch's emails are mostly of one case: its names are looked up once
    with session_scope() as session:
        keys = [req.key for req in reqs]
        rows = {
            row.key: row
            for row in session.exec(select(OutboxMessage).where(col(OutboxMessage.key).in_(keys)))
        }
        with session.no_autoflush:
            for req in reqs:
                try:
                    planned.append(_plan_in(session, req, cases, rows))
                except ApplicationError as err:
                    if err.type != "NoRecipient":
                        raise
                    planned.append(err)  # found before anything of it was written: the others go on
        session.flush()  # the rows and links: the write lock is held from here to the commit
        prepared = _copies(session, planned)
        for i, ready in enumerate(prepared):
            if isinstance(ready, Prepared) and ready.copies:  # the next thing this attempt does is send it
                copy = ready.copies[0]
                if _claim_in(session, copy.copy_id, copy.attempt):
                    prepared[i] = replace(ready, claimed=copy.copy_id)
                break
    return prepared


@dataclass(frozen=True)
class Planned:
    """One email read and built, its row not yet written: each undelivered copy's message (by address)
    or why it cannot be built."""

    row: OutboxMessage
    people: list[Person]
    copies: dict[str, OutboxCopy]  # the copy rows it already has, by address
    messages: dict[str, bytes]
    unbuildable: list[str]


def _plan_in(
    session: Session, req: EmailRequest, cases: CaseContexts, rows: dict[str, OutboxMessage]
) -> Planned | EmailResult:
    """Settled rows short-circuit; otherwise mark the row (in `rows` by key, when there is one) pending
    (attempts+1, this attempt's number) and build the copies not yet delivered (with the reasons for any
    that cannot be built). Nothing is written here: the caller flushes once every email is planned."""
    row = rows.get(req.key)
    if row is not None and row.status == OutboxStatus.sent:
        return EmailResult(key=req.key, status="already-sent", recipients=len(row.recipients))
    if row is not None and row.status == OutboxStatus.failed:
        return EmailResult(key=req.key, status="failed", recipients=0)
    settings = get_settings()
    if (about := cases.get(req.case_id or "")) is None:
        about = cases[req.case_id or ""] = _case_in_batch(session, req.case_id)
    case = about.case
    people = resolve(session, case=case, recipients=req.to)
    if only := req.context.get("only_reader"):  # a link sent again: to that one parent or agency
        people = [p for p in people if p.ref == only] or people[:0]
        if not people:
            raise no_recipient(req.to[0].kind, "the reader is no longer in the register")
    copies: dict[str, OutboxCopy] = {}  # a message never tried before has no copies yet
    if row is not None:
        had = session.exec(select(OutboxCopy).where(OutboxCopy.outbox_id == row.id))
        copies = {c.address: c for c in had}
    row = rows[req.key] = row or _new_row(req)
    try:
        shared = {**req.context, **about.context}
        rendered = {p.email: _render(session, req, case, p, settings, shared) for p in people}
    except TemplateError as exc:
        raise ApplicationError(
            f"email template {req.template} failed: {exc}", type="EmailTemplateError", non_retryable=True
        ) from None
    row.status = OutboxStatus.pending
    row.recipients = [p.email for p in people]
    row.subject = rendered[people[0].email].subject[:300]
    row.template = req.template
    row.case_id = req.case_id
    row.attempts += 1
    session.add(row)
    from_addr = parseaddr(settings.mail_from)[1]
    messages, unbuildable = {}, []
    for person in people:
        copy = copies.get(person.email)
        if (copy.delivered_at is not None) if copy else (person.email in row.delivered):
            continue
        msg_id = copy.message_id if copy else message_id(f"{row.key}:{person.email}", from_addr)
        try:
            messages[person.email] = _message(req, rendered[person.email], person, settings, msg_id)
        except ValueError as exc:  # a name or address no header can carry (CR, LF): never retried
            unbuildable.append(scrub(f"{UNBUILDABLE}: {exc}"))
    return Planned(row, people, copies, messages, unbuildable)


def _copies(
    session: Session, planned: list[Planned | EmailResult | ApplicationError]
) -> list[Prepared | EmailResult | ApplicationError]:
    """Each planned email's copy rows, those it lacks made (in one flush; delivered if the row's
    `delivered` lists the address, as rows written before copies existed do), and the copies to send."""
    from_addr = parseaddr(get_settings().mail_from)[1]
    for plan in planned:
        if isinstance(plan, Planned):
            for person in plan.people:
                if person.email not in plan.copies:
                    plan.copies[person.email] = _copy_row(session, plan.row, person.email, from_addr)
    session.flush()
    prepared: list[Prepared | EmailResult | ApplicationError] = []
    for plan in planned:
        if not isinstance(plan, Planned):
            prepared.append(plan)
            continue
        row = plan.row
        outgoing = []
        for person in plan.people:
            if (data := plan.messages.get(person.email)) is not None:
                copy_id = plan.copies[person.email].id
                assert copy_id is not None
                outgoing.append(Outgoing(data, from_addr, person.email, copy_id, row.attempts))
        prepared.append(Prepared(outgoing, len(plan.people), row.attempts, plan.unbuildable))
    return prepared


def _copy_row(session: Session, row: OutboxMessage, address: str, from_addr: str) -> OutboxCopy:
    """A new copy row for the recipient (written at the session's next flush)."""
    copy = OutboxCopy(
        outbox_id=row.id,
        address=address,
        message_id=message_id(f"{row.key}:{address}", from_addr),
        delivered_at=(row.sent_at or row.created_at) if address in row.delivered else None,
    )
    session.add(copy)
    return copy


def _claim(copy_id: int, attempt: int) -> bool:
    """Claim the copy for this attempt before it is sent (committed first): True unless it was delivered
    meanwhile or a newer attempt holds it. A claim of an older attempt (its sender died or timed out with
    the copy in flight) is taken over: that copy is the one duplicate possible."""
    with session_scope() as session:
        return _claim_in(session, copy_id, attempt)


def _claim_in(session: Session, copy_id: int, attempt: int) -> bool:
    """`_claim` in the caller's transaction (committed before the copy is sent)."""
    claimed = session.connection().execute(
        update(OutboxCopy)
        .where(
            col(OutboxCopy.id) == copy_id,
            col(OutboxCopy.delivered_at).is_(None),
            col(OutboxCopy.claimed_attempt) < attempt,
        )
        .values(
            claimed_attempt=attempt,
            claims=col(OutboxCopy.claims) + 1,
            claimed_at=dt.datetime.now(dt.UTC),
        )
    )
    return claimed.rowcount == 1


def _render(
    session: Session,
    req: EmailRequest,
    case: Case | None,
    person: Person,
    settings: Settings,
    shared: dict[str, Any],
) -> Rendered:
    """The person's own message: the request's and the case's context, and their name, case URL, links."""
    context = {**shared, **_reader_context(case, person, settings)}
    context["links"] = links_for(session, req, case, person, settings)  # this reader's own, if any
    return render(req.template, context)


def _record_delivered_in(
    session: Session,
    *,
    copy_id: int,
    sent: EmailRequest | None = None,
    refused: str = "",
    total: int = 0,
    claim_next: Outgoing | None = None,
) -> int | None:
    """Right after the server's 250: this recipient has their copy, so no retry sends it again. With
    `sent` (the message's last copy), the outbox row is marked sent in the same transaction; with
    `claim_next`, that copy is claimed in it too (its id if it was: it is sent next)."""
    db = session.connection()  # read first, then write: the write lock is held for the writes only
    of = select(OutboxCopy.outbox_id, OutboxCopy.address).where(OutboxCopy.id == copy_id)
    if (copy := db.execute(of).first()) is not None:
        row = session.get(OutboxMessage, copy.outbox_id)
        db.execute(
            update(OutboxCopy)
            .where(col(OutboxCopy.id) == copy_id)
            .values(delivered_at=dt.datetime.now(dt.UTC))
        )
        if row is not None and copy.address not in row.delivered:
            row.delivered = [*row.delivered, copy.address]
            session.add(row)
        if sent is not None:
            _sent_in(session, sent, refused, total, row)
    if claim_next is not None and _claim_in(session, claim_next.copy_id, claim_next.attempt):
        return claim_next.copy_id
    return None


def _record_deferral(key: str, reply: str) -> None:
    with session_scope() as session:
        row = _row(session, key)
        if row is not None:
            row.error = reply[:2000]
            session.add(row)


def _mark_sent(req: EmailRequest, refused: str, total: int) -> None:
    with session_scope() as session:
        _sent_in(session, req, refused, total)


def _sent_in(
    session: Session, req: EmailRequest, refused: str, total: int, row: OutboxMessage | None = None
) -> None:
    """Mark the outbox row (`row`, when the caller has it) sent, noting on the case any recipients who
    were refused."""
    row = row or _row(session, req.key)
    if row is None:
        return
    row.status = OutboxStatus.sent
    row.sent_at = dt.datetime.now(dt.UTC)
    row.error = f"some recipients refused: {refused}"[:2000] if refused else None
    session.add(row)
    if refused and req.case_id:
        append(
            session,
            case_id=req.case_id,
            actor="engine",
            action="email-partly-refused",
            detail=f"Email '{req.template}' (outbox key {req.key}) was refused for some of its "
            f"{total} recipients: {refused}",
        )


async def _reject(req: EmailRequest, reply: str, *, notify: bool) -> None:
    """Mark the row failed, note it on the case and tell the SENDCo (unless this is that notice)."""
    await asyncio.to_thread(_record_failure, req, reply)
    log.warning("email %s failed for good (case %s)", req.key, req.case_id)
    if notify:
        await _notify_sendco(req, reply)


def _record_failure(req: EmailRequest, reply: str) -> None:
    with session_scope() as session:
        row = _row(session, req.key) or _new_row(req)
        row.status = OutboxStatus.failed
        row.error = reply[:2000]
        session.add(row)
        if req.case_id and session.get(Case, req.case_id) is not None:
            append(
                session,
                case_id=req.case_id,
                actor="engine",
                action="email-failed",
                detail=f"Email '{req.template}' (outbox key {req.key}) could not be delivered: {reply}",
            )


async def _notify_sendco(req: EmailRequest, reply: str) -> None:
    """Send the delivery-failed notice to the SENDCo of the case's school, never recursing."""
    if req.case_id is None:
        return
    notice = EmailRequest(
        key=f"{req.key}:delivery-failed",
        case_id=req.case_id,
        template=NOTICE_TEMPLATE,
        to=[Recipient(kind="sendco")],
        context={"failed_template": req.template, "failed_key": req.key, "error": reply},
    )
    try:
        await deliver(notice, notify=False)
    except Exception:
        log.warning("delivery-failed notice %s could not be sent (case %s)", notice.key, req.case_id)


def _row(session: Session, key: str) -> OutboxMessage | None:
    return session.exec(select(OutboxMessage).where(OutboxMessage.key == key)).first()


def _new_row(req: EmailRequest) -> OutboxMessage:
    return OutboxMessage(
        key=req.key,
        case_id=req.case_id,
        template=req.template,
        subject="",
        created_at=dt.datetime.now(dt.UTC),
    )


def _case(session: Session, case_id: str | None) -> Case | None:
    if case_id is None:
        return None
    case = session.get(Case, case_id)
    if case is None:
        raise ApplicationError(f"unknown case {case_id}", type="UnknownCase", non_retryable=True)
    return case


STAFF_KINDS = frozenset({"sendco", "headteacher", "staff"})


def _case_in_batch(session: Session, case_id: str | None) -> CaseInBatch:
    """The case (UnknownCase if there is none) and what every template may use about it, looked up here so
    that workflows never carry names."""
    case = _case(session, case_id)
    pupil = session.get(Pupil, case.pupil_id) if case else None
    school = session.get(School, case.school_id) if case else None
    words = pupil.legal_name.split() if pupil else []
    sendco = sendco_of(session, case.school_id) if case else None
    return CaseInBatch(
        case,
        (pupil, school),
        {
            "sendco_name": sendco.name if sendco else "",  # who parents are told to contact
            "sendco_email": sendco.email if sendco else "",
            "school": school.name if school else "",
            "pupil_initials": "".join(w[0].upper() for w in words),
            "pupil_first_name": words[0] if words else "",
            "case_ref": case.id[:8] if case else "",
        },
    )


def _reader_context(case: Case | None, person: Person, settings: Settings) -> dict[str, Any]:
    """What every template may use about its one reader."""
    for_staff = person.kind in STAFF_KINDS
    return {
        # The case page is for staff: parents and agencies get who to contact instead.
        "case_url": f"{settings.public_url.rstrip('/')}/cases/{case.id}" if case and for_staff else "",
        "for_staff": for_staff,
        "recipient_name": greeting_name([person]),
    }


# --- MIME ---------------------------------------------------------------------------------------------
def _message(req: EmailRequest, rendered: Rendered, person: Person, settings: Settings, msg_id: str) -> bytes:
    """One recipient's MIME message: text and HTML alternatives, plus the .ics invitation if any.

    ValueError if it cannot be built or written out (a header value with a line break in it).
    """
    from_name, from_addr = parseaddr(settings.mail_from)
    headers = {
        "Subject": rendered.subject,
        "From": mime.mailbox(from_name, from_addr),
        "To": mime.mailbox(person.name, person.email),
        "Date": format_datetime(dt.datetime.now(dt.UTC)),
        "Message-ID": msg_id,
        "Auto-Submitted": "auto-generated",
        "X-Send-Outbox-Key": req.key,
    }
    calendar = None
    if req.invite is not None:
        calendar = mime.invitation(req.invite, organizer=(from_name, from_addr), people=[person])
    # Written out now: a header that cannot be fails here, not at send.
    return mime.message(headers, rendered.text, rendered.html, calendar)


def message_id(key: str, from_addr: str) -> str:
    """A Message-ID that is the same on every attempt for the key."""
    domain = from_addr.rpartition("@")[2] or "send-engine.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}@{domain}>"
