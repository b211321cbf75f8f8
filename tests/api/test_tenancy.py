"""One school's data stays in that school: mailbox, agencies and schools, over HTTP against the real app.

Mail arrives at the real devmail SMTP server; cases start on a real Temporal dev server and worker.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from domain.schemas import Role
from engine.cli import main as cli
from store.casework import Case, OutboxMessage
from store.register import Parent, Pupil, PupilParent, School, Staff
from store.tokens import issue_token
from tests.api.test_mailbox import devmail_port  # noqa: F401  (the real devmail server, as a fixture)
from tests.conftest import client_for


def uid() -> str:
    return uuid.uuid4().hex[:10]


@dataclass
class Desk:
    """A school with a signed-in SENDCo, headteacher and teacher, a pupil with an EHC plan and a parent."""

    school: School
    pupil: Pupil
    parent_email: str
    sendco_id: int
    clients: dict[Role, httpx.Client]


def add(engine: Engine, row: Any) -> Any:
    with Session(engine, expire_on_commit=False) as s:
        s.add(row)
        s.commit()
        s.refresh(row)
        return row


def desk(api_url: str, engine: Engine, name: str, la: str) -> Iterator[Desk]:
    school = add(engine, School(name=name, local_authority=la))
    staff = {
        role: add(
            engine, Staff(school_id=school.id, name=f"{name} {role}", email=f"{uid()}@s.example", role=role)
        )
        for role in (Role.sendco, Role.headteacher, Role.staff)
    }
    pupil = add(
        engine,
        Pupil(
            school_id=school.id,
            legal_name=f"Pupil of {name}",
            date_of_birth=dt.date(2015, 5, 1),
            year_group=6,
            sen_provision="E",
            needs=["ASD"],
        ),
    )
    parent = add(engine, Parent(name=f"Parent at {name}", email=f"parent-{uid()}@home.example"))
    add(engine, PupilParent(pupil_id=pupil.id, parent_id=parent.id))
    with Session(engine) as s:
        tokens = {role: issue_token(s, member.id) for role, member in staff.items()}
    with ExitStack() as stack:
        clients = {role: stack.enter_context(client_for(api_url, token)) for role, token in tokens.items()}
        yield Desk(school, pupil, parent.email, staff[Role.sendco].id, clients)


@pytest.fixture
def kent(api_url: str, engine: Engine, pupil) -> Iterator[Desk]:  # type: ignore[no-untyped-def]
    """A Kent school (the session's Kent agencies of every kind are registered by the `pupil` fixture)."""
    yield from desk(api_url, engine, "Kent Oak", "Kent")


@pytest.fixture
def surrey(api_url: str, engine: Engine) -> Iterator[Desk]:
    """A school in an LA (a fresh one, standing for Surrey) that has no agencies registered yet."""
    yield from desk(api_url, engine, "Surrey Elm", f"Surrey-{uid()}")


async def deliver(port: int, *, to: str, subject: str, outbox_key: str | None = None) -> None:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = "SEND case engine <send-engine@school.invalid>"
    message["To"] = to
    if outbox_key:
        message["X-Send-Outbox-Key"] = outbox_key
    message.set_content(f"Body of {subject}")
    await aiosmtplib.send(message, hostname="127.0.0.1", port=port)


def case_with_outbox(engine: Engine, desk: Desk) -> str:
    """A case at the desk's school and an outbox row of it; returns the outbox key."""
    now = dt.datetime.now(dt.UTC)
    case_id = str(uuid.uuid4())
    add(
        engine,
        Case(
            id=case_id,
            process="annual_review",
            workflow_id=f"annual_review-{case_id}",
            pupil_id=desk.pupil.id,
            school_id=desk.school.id,
            started_by=desk.sendco_id,
            started_at=now,
            updated_at=now,
        ),
    )
    key = f"annual_review-{case_id}:invite:parent:0"
    add(engine, OutboxMessage(key=key, case_id=case_id, template="x", subject="x", created_at=now))
    return key


def subjects(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {m["subject"] for m in response.json()["items"]}


async def test_mailbox_every_route_role_and_other_school(engine, kent, surrey, devmail_port) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    marker = uid()
    # Kent's letter is attributed by its outbox key (the case's school), even to an address nobody knows;
    # Surrey's by its recipient, a parent of a Surrey pupil; a stray message belongs to nobody.
    kent_subject, surrey_subject, stray = f"Kent {marker}", f"Surrey {marker}", f"Stray {marker}"
    await deliver(devmail_port, to=f"x-{marker}@nowhere.example", subject=kent_subject,
                  outbox_key=case_with_outbox(engine, kent))  # fmt: skip
    await deliver(devmail_port, to=surrey.parent_email, subject=surrey_subject)
    await deliver(devmail_port, to=f"y-{marker}@nowhere.example", subject=stray)

    ids: dict[str, int] = {}
    for desk, own, other in ((kent, kent_subject, surrey_subject), (surrey, surrey_subject, kent_subject)):
        for role in (Role.sendco, Role.headteacher):
            shown = subjects(desk.clients[role].get("/api/v1/mailbox", params={"limit": 200}))
            assert own in shown and other not in shown and stray not in shown, (desk.school.name, role)
        (item,) = [
            m for m in desk.clients[Role.sendco].get("/api/v1/mailbox").json()["items"] if m["subject"] == own
        ]
        ids[own] = item["id"]

    for desk, own, other in ((kent, kent_subject, surrey_subject), (surrey, surrey_subject, kent_subject)):
        for role in (Role.sendco, Role.headteacher):
            client = desk.clients[role]
            assert client.get(f"/api/v1/mailbox/{ids[own]}").json()["subject"] == own
            refused = client.get(f"/api/v1/mailbox/{ids[other]}")
            assert refused.status_code == 404 and other not in refused.text  # says nothing of the other's
        teacher = desk.clients[Role.staff]
        for path in ("/api/v1/mailbox", f"/api/v1/mailbox/{ids[own]}", f"/api/v1/mailbox/{ids[other]}"):
            refused = teacher.get(path)
            assert refused.status_code == 403, path
            assert refused.json()["code"] == "forbidden" and own not in refused.text


def test_the_mailbox_pages_are_for_the_sendco_and_headteacher_of_the_school(api_url, engine, kent) -> None:  # type: ignore[no-untyped-def]
    from tests.api.test_sessions import signed_in_browser

    with Session(engine) as s:
        teacher = s.exec(select(Staff).where(Staff.school_id == kent.school.id, Staff.role == "staff")).one()
        head = s.exec(
            select(Staff).where(Staff.school_id == kent.school.id, Staff.role == "headteacher")
        ).one()
        teacher_token, head_token = issue_token(s, teacher.id), issue_token(s, head.id)
    with signed_in_browser(api_url, teacher_token) as browser:
        page = browser.get("/mailbox")
        assert page.status_code == 403
        assert "Only the SENDCo or the headteacher can read the school" in page.text
        assert browser.get("/mailbox/1").status_code == 403
    with signed_in_browser(api_url, head_token) as browser:
        assert browser.get("/mailbox").status_code == 200


def test_a_school_never_uses_another_las_agencies(live_api, kent, surrey) -> None:  # type: ignore[no-untyped-def]
    # Kent has every kind of agency; Surrey none. Surrey's annual review is refused, naming what to add.
    plan = (dt.date.today() - dt.timedelta(days=60)).isoformat()
    start = {"process": "annual_review", "facts": {"cycle_start": plan, "year_group": 6}}
    refused = surrey.clients[Role.sendco].post("/api/v1/cases", json={**start, "pupil_id": surrey.pupil.id})
    assert refused.status_code == 422, refused.text
    message = refused.json()["message"]
    la = surrey.school.local_authority
    assert message.startswith(f"Register the {la} LA SEN team, health service and social care team first")
    assert "Kent" not in message
    assert surrey.clients[Role.sendco].get("/api/v1/cases").json()["total"] == 0  # nothing left behind

    # Kent's (the control) starts: the check is about the register, not the process.
    started = kent.clients[Role.sendco].post("/api/v1/cases", json={**start, "pupil_id": kent.pupil.id})
    assert started.status_code == 201, started.text


def test_schools_are_added_by_the_administrator_only(engine, kent, capsys) -> None:  # type: ignore[no-untyped-def]
    body = {"name": f"Fuzzed {uid()}", "local_authority": "Kent"}
    for role, client in kent.clients.items():
        refused = client.post("/api/v1/schools", json=body)
        assert refused.status_code == 403, role
        assert "send-engine create-school" in refused.json()["message"]
    with Session(engine) as s:
        assert s.exec(select(School).where(School.name == body["name"])).first() is None

    name = f"Admin's {uid()}"
    assert cli(["create-school", name, "--local-authority", "Surrey"]) == 0
    assert f"added: {name} (Surrey)" in capsys.readouterr().out
    with Session(engine) as s:
        assert s.exec(select(School).where(School.name == name)).one().local_authority == "Surrey"
    assert cli(["create-school", "", "--local-authority", "Surrey"]) == 2


# Reads that are shared on purpose: the health check, and agencies (an LA's services serve every school).
SHARED_READS = {"/health", "/api/v1/agencies", "/api/v1/agencies/{agency_id}"}


def test_no_read_of_any_role_shows_another_schools_records(engine, kent, surrey, api_url) -> None:  # type: ignore[no-untyped-def]
    """Every GET in the OpenAPI, by each role of one school, with the other school's ids: refused or empty."""
    from api.main import create_app
    from store.provision import Intervention

    key = case_with_outbox(engine, kent)
    case_id = key.split(":")[0].removeprefix("annual_review-")
    with Session(engine) as s:
        parent_id = s.exec(select(Parent.id).where(Parent.email == kent.parent_email)).one()
    lego = add(
        engine,
        Intervention(
            school_id=kent.school.id,
            name=f"Kent Oak Lego {uid()}",
            delivery="group",
            sessions_per_week=2,
            weeks=10,
            cost_per_week=45.0,
        ),
    )
    ids = {
        "case_id": case_id,
        "school_id": kent.school.id,
        "staff_id": kent.sendco_id,
        "pupil_id": kent.pupil.id,
        "parent_id": parent_id,
        "intervention_id": lego.id,
        "school_year": 2026,  # not an id: the caller's own school's year
        "mail_id": 1,
    }
    theirs = [kent.pupil.legal_name, kent.parent_email, case_id, lego.name, kent.school.name]
    spec = create_app().openapi()["paths"]
    paths = [p for p, item in spec.items() if "get" in item and p not in SHARED_READS]
    checked = 0
    for path in paths:
        url = path.format(**ids)
        for role, client in surrey.clients.items():
            answer = client.get(url)
            if "{" in path.replace("{school_year}", ""):
                assert answer.status_code in (403, 404), (path, role, answer.status_code, answer.text[:200])
            else:
                assert answer.status_code in (200, 403), (path, role, answer.status_code, answer.text[:200])
            assert not [t for t in theirs if t in answer.text], (path, role)
            checked += 1
    assert checked == 3 * len(paths) and len(paths) > 20
