"""One school's data stays in that school: mailbox, agencies and schools, over HTTP against the real app.

Mail arrives at the real devmail SMTP server; cases start on a real Temporal dev server and worker.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
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
from sqlmodel import Session, col, select

from domain.schemas import Role
from engine.cli import main as cli
from store.casework import Case, OutboxMessage
from store.register import Agency, Parent, Pupil, PupilParent, School, Staff
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


# --- writes by another school ---------------------------------------------------------------------------
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# State-changing routes that cannot name another school's record: what each acts on instead.
OWN_ONLY = {
    ("POST", "/api/v1/timelines/preview"): "dates worked out from the facts given; reads and writes nothing",
    ("POST", "/codec/encode"): "encrypts the caller's own payloads, as their own school's",
    ("POST", "/signin"): "signs in the token's own holder",
    ("POST", "/signout"): "ends the caller's own session",
    ("POST", "/api/v1/agencies"): "adds an agency for the caller's own school's cases, whatever its LA",
    # No sign-in: the signed link is the only authority, for its own case (tests/web/test_action_links.py)
    ("POST", "/respond/{token}"): "answers as the holder of an emailed link, on that link's own case",
}
REFUSED = (403, 404)  # not your role, or (saying nothing of the other school's) no such record
NO_SUCH_HERE = (403, 422)  # the record named in the body: "no such pupil (staff member) at your school"
OWN_SCHOOLS = (200, 403)  # done, but for the caller's own school: a pupil on its own roll, its own year
IMPORT_HEADINGS = "UPN,Legal forename,Legal surname,Date of birth,Year group,SEN provision,Need 1"


def every_route(app: Any) -> Iterator[Any]:
    """Every route of the app, an included router's own too (FastAPI keeps them with their router)."""
    for route in app.routes:
        nested = getattr(route, "effective_route_contexts", None)
        yield from (nested() if nested else [route])


def writes_of(app: Any) -> list[tuple[str, str, bool]]:
    """(method, path, JSON API or not) of every state-changing route, in the app's own order."""
    found = []
    for route in every_route(app):
        for method in sorted(set(getattr(route, "methods", None) or ()) & WRITES):
            found.append((method, route.path, bool(route.include_in_schema)))
    return found


def fresh_pupil(engine: Engine, desk: Desk, provision: str) -> int:
    pupil = Pupil(
        school_id=desk.school.id,
        legal_name=f"Pupil of {desk.school.name} {uid()}",
        date_of_birth=dt.date(2016, 9, 1),
        year_group=4,
        sen_provision=provision,
        needs=["SLCN"] if provision != "N" else [],
        local_authority=desk.school.local_authority,
    )
    return add(engine, pupil).id


# The start facts of the processes whose start model gives no example.
START_FACTS = {
    "annual_review": {"cycle_start": (dt.date.today() - dt.timedelta(days=60)).isoformat(), "year_group": 6},
    "needs_assessment": {
        "year_group": 4,
        "evidence": "Two cycles of SEN support reviewed",
        "needs": ["SLCN"],
    },
}


def cases_of_every_process(engine: Engine, desk: Desk) -> dict[str, str]:
    """A case of each process at the desk's school, from its start model's example: {process: case id}."""
    from workflows.registry import PROCESSES

    with Session(engine) as s:
        teacher = s.exec(
            select(Staff.id).where(Staff.school_id == desk.school.id, Staff.role == "staff")
        ).one()
        other_school = s.exec(
            select(Agency.id).where(
                Agency.kind == "other", Agency.local_authority == desk.school.local_authority
            )
        ).first()
    client = desk.clients[Role.sendco]
    today = dt.date.today().isoformat()
    started = {}
    r = client.post(
        "/api/v1/cases",
        json={"process": "records_request", "pupil_id": desk.pupil.id, "facts": {"request_received": today}},
    )
    assert r.status_code == 201, r.text
    started["records_request"] = r.json()["id"]
    for name, process in PROCESSES.items():
        examples = (process.start.model_config.get("json_schema_extra") or {}).get("examples") or []
        facts = {**examples[0]} if examples else START_FACTS.get(name)
        if name in started or facts is None:
            continue
        if "class_teacher_id" in facts:
            facts["class_teacher_id"] = teacher
        for school_id in ("previous_school_id", "receiving_school_id"):  # another school, registered
            if school_id in facts:
                facts[school_id] = other_school
        provision = process.requires_provision.value if process.requires_provision else "N"
        who = fresh_pupil(engine, desk, provision)
        r = client.post("/api/v1/cases", json={"process": name, "pupil_id": who, "facts": facts})
        assert r.status_code == 201, (name, r.text)
        started[name] = r.json()["id"]
    return started


async def at_rest(client: Any, workflow_ids: list[str], within: float = 60) -> dict[str, int]:
    """Wait until no workflow has a task or activity in flight; then the length of each one's history."""
    deadline = time.monotonic() + within
    while True:
        lengths, busy = {}, []
        for workflow_id in workflow_ids:
            described = await client.get_workflow_handle(workflow_id).describe()
            raw = described.raw_description
            if raw.pending_activities or raw.HasField("pending_workflow_task"):
                busy.append(workflow_id)
            lengths[workflow_id] = described.history_length
        if not busy:
            return lengths
        assert time.monotonic() < deadline, f"still busy: {busy}"
        await asyncio.sleep(0.3)


async def settled(
    client: Any, workflow_ids: list[str], engine: Engine, school: School, within: float = 60
) -> tuple[dict[str, list[tuple[Any, ...]]], dict[str, int]]:
    """The school's records and its workflows' history lengths once the cases have done what they do by
    themselves (a deadline already past is marked missed a moment after it is written): unchanged over 2 s."""
    deadline = time.monotonic() + within
    seen = (school_records(engine, school), await at_rest(client, workflow_ids))
    while True:
        await asyncio.sleep(2)
        now = (school_records(engine, school), await at_rest(client, workflow_ids))
        if now == seen:
            return now
        assert time.monotonic() < deadline, "the school's cases never settled"
        seen = now


def school_records(engine: Engine, school: School) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table that belongs to the school: its own, its cases', pupils', staff's, parents',
    outbox copies', and the agencies it registered."""
    from sqlalchemy import or_
    from sqlalchemy import select as select_rows
    from sqlmodel import SQLModel

    with Session(engine) as s:
        cases = set(s.exec(select(Case.id).where(Case.school_id == school.id)).all())
        pupils = set(s.exec(select(Pupil.id).where(Pupil.school_id == school.id)).all())
        staff = set(s.exec(select(Staff.id).where(Staff.school_id == school.id)).all())
        parents = set(
            s.exec(select(PupilParent.parent_id).where(col(PupilParent.pupil_id).in_(pupils))).all()
        )
        outbox = set(s.exec(select(OutboxMessage.id).where(col(OutboxMessage.case_id).in_(cases))).all())
        ours = {
            "school_id": {school.id},
            "case_id": cases,
            "pupil_id": pupils,
            "staff_id": staff,
            "outbox_id": outbox,
            "decided_by": staff,
            "started_by": staff,
        }
        own_ids = {"school": {school.id}, "case": cases, "pupil": pupils, "staff": staff, "parent": parents}
        found: dict[str, list[tuple[Any, ...]]] = {}
        for table in SQLModel.metadata.sorted_tables:
            terms = [table.c[name].in_(ids) for name, ids in ours.items() if name in table.c]
            if table.name in own_ids:
                terms.append(table.c["id"].in_(own_ids[table.name]))
            if terms:
                rows = s.connection().execute(select_rows(table).where(or_(*terms))).all()
                found[table.name] = sorted((tuple(map(repr, row)) for row in rows), key=repr)
    return found


@dataclass
class Attempt:
    """One write by another school's staff member: where, with what, and the answers it may have."""

    method: str
    url: str
    json: Any = None
    content: str | None = None
    data: dict[str, str] | None = None
    refused: tuple[int, ...] = REFUSED


def action_example(name: str) -> dict[str, Any]:
    """The first example body of an action (what a client would send), from the OpenAPI."""
    from api.main import app

    operation = app.openapi()["paths"][f"/api/v1/cases/{{case_id}}/actions/{name}"]["post"]
    content = (operation.get("requestBody") or {}).get("content", {}).get("application/json", {})
    examples = list((content.get("examples") or {}).values())
    return examples[0]["value"] if examples else {}


def attempts_on(method: str, path: str, api: bool, theirs: dict[str, Any]) -> list[Attempt]:
    """Every way one route can act on the other school's records (its ids in the path, or in the body)."""
    from api.routes.cases import actions_by_name

    case_of_action = theirs["case_of_action"]
    if path.endswith("/actions/{action}"):  # the pages' form of every action, on a case that has it
        return [
            Attempt(method, path.format(case_id=case_of_action[name], action=name), data={"note": "x"})
            for name in sorted(actions_by_name())
        ]
    if "/actions/" in path:
        name = path.rsplit("/", 1)[1]
        url = path.format(case_id=case_of_action[name])
        return [Attempt(method, url, json=action_example(name)) if api else Attempt(method, url, data={})]
    upn_csv = f"{IMPORT_HEADINGS}\n{theirs['upn']},Sam,Taken,01/03/2016,4,K,SLCN\n"
    named_in_body = {
        ("POST", "/api/v1/cases"): Attempt(
            method,
            path,
            json={
                "process": "records_request",
                "pupil_id": theirs["pupil_id"],
                "facts": {"request_received": dt.date.today().isoformat()},
            },
            refused=NO_SUCH_HERE,
        ),
        ("POST", "/cases/new"): Attempt(
            method,
            path,
            data={
                "process": "records_request",
                "pupil_id": str(theirs["pupil_id"]),
                "request_received": dt.date.today().strftime("%d/%m/%Y"),
            },
            refused=NO_SUCH_HERE,
        ),
        ("POST", "/api/v1/staff"): Attempt(
            method,
            path,
            json={
                "name": "Intruder",
                "email": f"{uid()}@x.example",
                "role": "sendco",
                "school_id": theirs["school_id"],
            },
        ),
        ("POST", "/api/v1/pupils"): Attempt(
            method,
            path,
            json={
                "legal_name": "Planted Pupil",
                "date_of_birth": "2016-03-01",
                "year_group": 4,
                "school_id": theirs["school_id"],
            },
        ),
        ("POST", "/api/v1/parents"): Attempt(
            method,
            path,
            json={"name": "Planted Parent", "email": f"{uid()}@x.example", "pupil_ids": [theirs["pupil_id"]]},
            refused=NO_SUCH_HERE,
        ),
        ("POST", "/api/v1/interventions"): Attempt(
            method,
            path,
            json={
                "name": "Planted",
                "delivery": "group",
                "staff_id": theirs["staff_id"],
                "sessions_per_week": 1,
                "weeks": 1,
                "cost_per_week": 1.0,
            },
            refused=NO_SUCH_HERE,
        ),
        ("POST", "/api/v1/register/import"): Attempt(
            method, path + "?commit=true", content=upn_csv, refused=OWN_SCHOOLS
        ),
        ("POST", "/codec/decode"): Attempt(method, path, json=theirs["payloads"]),
        ("POST", "/api/v1/schools"): Attempt(
            method, path, json={"name": f"Planted {uid()}", "local_authority": "Kent"}
        ),
        ("POST", "/api/v1/approvals/{approval_id}/decision"): Attempt(
            method, path.format(**theirs), json={"approve": True, "comment": "Agreed"}
        ),
        ("POST", "/approvals/{approval_id}/decision"): Attempt(
            method, path.format(**theirs), data={"decision": "approve", "comment": "Agreed"}
        ),
        ("PATCH", "/api/v1/pupils/{pupil_id}"): Attempt(
            method, path.format(**theirs), json={"year_group": 7}
        ),
        ("PATCH", "/api/v1/interventions/{intervention_id}"): Attempt(
            method, path.format(**theirs), json={"weeks": 12}
        ),
        ("PUT", "/api/v1/ep-allocations/{school_year}"): Attempt(
            method, path.format(**theirs), json={"allocated": 99}, refused=OWN_SCHOOLS
        ),
    }
    if (method, path) in named_in_body:
        return [named_in_body[(method, path)]]
    return [Attempt(method, path.format(**theirs), json={} if api else None, data=None if api else {})]


async def test_no_write_of_any_role_changes_another_schools_records(  # type: ignore[no-untyped-def]
    engine, kent, surrey, live_api, dev_env, smtp
) -> None:
    """Every state-changing route (JSON API and form posts), by each role of one school, on the other's."""
    from google.protobuf import json_format
    from temporalio.api.common.v1 import Payloads

    from api.main import create_app
    from domain.upn import make_upn
    from store import links
    from store.casework import Approval
    from store.provision import Intervention
    from tests.api.test_sessions import csrf_of, signed_in_browser

    cases = cases_of_every_process(engine, kent)
    kent_sendco = kent.clients[Role.sendco]
    r = kent_sendco.post(
        f"/api/v1/cases/{cases['records_request']}/actions/submit-for-approval", json={"note": "x"}
    )
    assert r.status_code == 200, r.text
    workflows = {name: f"{name}-{case_id}" for name, case_id in cases.items()}
    client = dev_env.client
    await at_rest(client, list(workflows.values()))
    with Session(engine) as s:
        approval_id = s.exec(select(Approval.id).where(Approval.case_id == cases["records_request"])).one()
        pupil = s.get(Pupil, kent.pupil.id)
        pupil.upn = make_upn(f"{uuid.uuid4().int % 10**11:011d}1")
        s.add(pupil)
        s.commit()
        upn = pupil.upn
        teacher = s.exec(
            select(Staff.id).where(Staff.school_id == kent.school.id, Staff.role == "staff")
        ).one()
    lego = add(
        engine,
        Intervention(
            school_id=kent.school.id,
            name=f"Kent Lego {uid()}",
            delivery="group",
            sessions_per_week=2,
            weeks=10,
            cost_per_week=45.0,
        ),
    )
    history = await client.get_workflow_handle(workflows["records_request"]).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes.input
    from api.routes.cases import actions_by_name
    from workflows.registry import PROCESSES

    case_of_action = {}
    for name in actions_by_name():
        having = [p for p in cases if PROCESSES[p].action(name) is not None]
        assert having, f"no process with a start example has the action {name}: start a case of one"
        case_of_action[name] = cases[having[0]]
    with Session(engine) as s:  # a link the school's case emailed (the SENDCo withdraws or resends it)
        link = links.issue(
            s,
            case_id=cases["records_request"],
            recipient="parent:1",
            addressed={"kind": "parent"},
            purpose="give-views",
            step="parent-views",
            source=f"tenancy-{uid()}",
            days=28,
        )
        s.commit()
        link_id = link.id
    theirs = {
        "case_of_action": case_of_action,
        "link_id": link_id,
        "case_id": cases["records_request"],
        "approval_id": approval_id,
        "pupil_id": kent.pupil.id,
        "intervention_id": lego.id,
        "school_id": kent.school.id,
        "staff_id": teacher,
        "school_year": 2026,  # not an id: the caller's own school's year
        "local_authority": kent.school.local_authority,
        "upn": upn,
        "payloads": json_format.MessageToDict(Payloads(payloads=list(started.payloads))),
    }

    before, lengths = await settled(client, list(workflows.values()), engine, kent.school)
    routes = writes_of(create_app())
    answers: list[tuple[str, str, Role, int]] = []
    wrong: list[tuple[str, str, int, str]] = []
    for role, api in surrey.clients.items():
        with Session(engine) as s:
            token = issue_token(
                s,
                s.exec(select(Staff.id).where(Staff.school_id == surrey.school.id, Staff.role == role)).one(),
            )
        with signed_in_browser(live_api, token) as browser:
            csrf = csrf_of(browser)
            for method, path, in_api in routes:
                if (method, path) in OWN_ONLY:
                    continue
                for attempt in attempts_on(method, path, in_api, theirs):
                    if in_api:
                        answer = api.request(
                            attempt.method,
                            attempt.url,
                            json=attempt.json,
                            content=attempt.content,
                            headers={"content-type": "text/csv"} if attempt.content else None,
                        )
                    else:
                        answer = browser.request(
                            attempt.method, attempt.url, data={"csrf_token": csrf, **(attempt.data or {})}
                        )
                    answers.append((attempt.method, attempt.url, role, answer.status_code))
                    if answer.status_code not in attempt.refused:
                        wrong.append((attempt.url, role.value, answer.status_code, answer.text[:200]))
                    if kent.pupil.legal_name in answer.text or kent.parent_email in answer.text:
                        wrong.append((attempt.url, role.value, answer.status_code, "shows the other's pupil"))
    after = school_records(engine, kent.school)
    changed = sorted(t for t in before if before[t] != after[t])
    grown = {w: n for w, n in (await at_rest(client, list(workflows.values()))).items() if n != lengths[w]}
    assert not wrong, "answered, not refused:\n" + "\n".join(map(str, wrong))
    assert not changed, "another school's writes changed its records:\n" + "\n".join(
        f"{t}: {sorted(set(after[t]) - set(before[t]))[:3]} was {sorted(set(before[t]) - set(after[t]))[:3]}"
        for t in changed
    )
    assert not grown, f"an Update reached the other school's workflows: {grown}"
    covered = {(m, p) for m, p, _ in routes} - set(OWN_ONLY)
    assert len(covered) > 60 and len(answers) >= 3 * len(covered), (len(covered), len(answers))
