"""The register over HTTP against the real app: auth, roles, own school only, 4xx reasons, paging."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from domain.schemas import Role
from store.casework import Case, CaseStatus
from store.register import School, Staff
from store.tokens import issue_token
from tests.conftest import client_for

PUPIL = {"legal_name": "Sam Pupil", "date_of_birth": "2016-03-01", "year_group": 4}
LISTS = ["/api/v1/schools", "/api/v1/staff", "/api/v1/pupils", "/api/v1/parents", "/api/v1/agencies"]


def post(client: httpx.Client, resource: str, **body: Any) -> httpx.Response:
    return client.post(f"/api/v1/{resource}", json=body)


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return response.json()


@dataclass
class Desk:
    """A fresh school with a signed-in SENDCo, headteacher and teacher, each an HTTP client."""

    id: int
    staff_ids: list[int]  # sendco, headteacher, teacher
    sendco: httpx.Client
    head: httpx.Client
    teacher: httpx.Client


def desk(api_url: str, engine: Engine, name: str) -> Iterator[Desk]:
    """Add the school and its three staff to the register, and sign each of them in."""
    roles = [Role.sendco, Role.headteacher, Role.staff]
    with Session(engine, expire_on_commit=False) as s:
        school = School(name=name, local_authority="Kent")
        s.add(school)
        s.commit()
        staff = [
            Staff(school_id=school.id, name=f"{name} {r}", email=f"{uuid.uuid4().hex}@example.org", role=r)
            for r in roles
        ]
        s.add_all(staff)
        s.commit()
        tokens = [issue_token(s, member.id) for member in staff]
    with ExitStack() as stack:
        sendco, head, teacher = (stack.enter_context(client_for(api_url, token)) for token in tokens)
        yield Desk(school.id, [member.id for member in staff], sendco, head, teacher)


@pytest.fixture
def oak(api_url: str, engine: Engine) -> Iterator[Desk]:
    yield from desk(api_url, engine, "Oak Primary")


@pytest.fixture
def elm(api_url: str, engine: Engine) -> Iterator[Desk]:
    """A second school of the trust: its staff must see and change nothing of Oak's."""
    yield from desk(api_url, engine, "Elm Academy")


def add_pupil(client: httpx.Client, school_id: int, **fields: Any) -> dict[str, Any]:
    return created(client.post("/api/v1/pupils", json={**PUPIL, "school_id": school_id, **fields}))


def total(client: httpx.Client, path: str, **params: Any) -> int:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()["total"]


def refused(response: httpx.Response, status: int, field: str | None, reason: str) -> None:
    """The response is `status` with a {field, reason} item for `field` whose reason contains `reason`."""
    assert response.status_code == status, response.text
    answer = response.json()
    assert answer["code"] == {403: "forbidden", 409: "conflict", 422: "invalid"}[status]
    assert answer["message"] and answer["message"][0].isupper()  # a sentence for a person
    items = answer["errors"]
    assert all(set(item) == {"field", "reason"} for item in items)
    assert any(item["field"] == field and reason in item["reason"] for item in items), items


@pytest.mark.parametrize("path", LISTS)
def test_every_endpoint_needs_a_token(api_url: str, path: str) -> None:
    with httpx.Client(base_url=api_url) as anonymous:
        assert anonymous.get(path).status_code == 401
        assert anonymous.get(f"{path}/1").status_code == 401
        assert anonymous.post(path, json={}).status_code == 401
    assert httpx.get(f"{api_url}{path}", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_staff_role_reads_but_cannot_write(oak: Desk) -> None:
    as_teacher, as_sendco = oak.teacher, oak.sendco
    pupil = add_pupil(as_sendco, oak.id)
    for path in LISTS:
        assert as_teacher.get(path).status_code == 200
        assert as_teacher.post(path, json={}).status_code == 403
    assert as_teacher.get(f"/api/v1/pupils/{pupil['id']}").status_code == 200
    assert as_teacher.patch(f"/api/v1/pupils/{pupil['id']}", json={"year_group": 5}).status_code == 403
    assert as_teacher.delete(f"/api/v1/pupils/{pupil['id']}").status_code == 403
    assert as_teacher.get(f"/api/v1/pupils/{pupil['id']}").json()["year_group"] == 4


def test_create_and_read_each_resource(oak: Desk) -> None:
    as_sendco, as_head, school_id = oak.sendco, oak.head, oak.id
    email = f"{uuid.uuid4().hex[:8]}@example.org"
    staff = created(post(as_head, "staff", name="T", email=email, role="staff", school_id=school_id))
    pupil = add_pupil(as_head, school_id, sen_provision="K", needs=["SLCN"])
    parent = created(post(as_sendco, "parents", name="P", email=email, pupil_ids=[pupil["id"]]))
    agency = created(post(as_sendco, "agencies", kind="ep_service", name="EPS", email=email))
    for path, made in [
        ("schools", {"id": school_id}),
        ("staff", staff),
        ("pupils", pupil),
        ("parents", parent),
        ("agencies", agency),
    ]:
        got = as_sendco.get(f"/api/v1/{path}/{made['id']}")
        assert got.status_code == 200 and got.json()["id"] == made["id"]
        missing = as_sendco.get(f"/api/v1/{path}/999999")
        assert missing.status_code == 404 and "999999" in missing.json()["message"]
    assert parent["pupil_ids"] == [pupil["id"]]
    assert "digest" not in staff and set(staff) == {"id", "name", "email", "role", "school_id"}


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"sen_provision": "S"}, "sen_provision", "provision S (statement) is obsolete"),
        ({"sen_provision": "E", "needs": ["NSA"]}, "needs", "NSA (no specialist assessment) is only valid"),
        ({"sen_provision": "K", "needs": ["ASD", "HI", "VI"]}, "needs", "at most two ranked need types"),
        ({"sen_provision": "N", "needs": ["ASD"]}, "needs", "provision N carries no need type"),
        ({"sen_provision": "K"}, "needs", "provision K needs at least a rank-1 need type"),
        ({"year_group": 15}, "year_group", "Enter 14 or less"),
        ({"legal_name": None}, "legal_name", "Enter this as text"),
        ({"date_of_birth": "not a date"}, "date_of_birth", "date"),
    ],
)
def test_bad_pupil_is_refused_with_field_and_reason(
    oak: Desk, fields: dict[str, Any], field: str, reason: str
) -> None:
    response = oak.sendco.post("/api/v1/pupils", json={**PUPIL, "school_id": oak.id, **fields})
    refused(response, 422, field, reason)
    assert total(oak.sendco, "/api/v1/pupils") == 0


def test_missing_field_and_a_school_not_your_own(oak: Desk) -> None:
    body = {k: v for k, v in PUPIL.items() if k != "date_of_birth"} | {"school_id": oak.id}
    refused(oak.sendco.post("/api/v1/pupils", json=body), 422, "date_of_birth", "This is needed")
    refused(post(oak.sendco, "pupils", **PUPIL, school_id=999999), 403, "school_id", "your own school")
    assert total(oak.sendco, "/api/v1/pupils") == 0


def test_bad_email_duplicate_email_and_unknown_pupil(oak: Desk) -> None:
    as_sendco, school_id = oak.sendco, oak.id
    staff = {"name": "T", "role": "staff", "school_id": school_id}
    refused(as_sendco.post("/api/v1/staff", json={**staff, "email": "nobody"}), 422, "email", "email address")
    email = f"{uuid.uuid4().hex[:8]}@example.org"
    created(as_sendco.post("/api/v1/staff", json={**staff, "email": email}))
    refused(post(as_sendco, "staff", **staff, email=email), 409, "email", "already has this email")
    assert total(as_sendco, "/api/v1/staff") == len(oak.staff_ids) + 1

    pupil = add_pupil(as_sendco, school_id)
    parents = total(as_sendco, "/api/v1/parents")
    body = {"name": "P", "email": email, "pupil_ids": [pupil["id"], 999999]}
    refused(as_sendco.post("/api/v1/parents", json=body), 422, "pupil_ids", "no pupil with id 999999")
    refused(as_sendco.post("/api/v1/parents", json={**body, "email": "x@"}), 422, "email", "email address")
    assert total(as_sendco, "/api/v1/parents") == parents


def test_pupil_paging_and_filters(oak: Desk) -> None:
    as_sendco, school_id = oak.sendco, oak.id
    ids = [
        add_pupil(as_sendco, school_id)["id"],
        add_pupil(as_sendco, school_id, year_group=5, sen_provision="K", needs=["SEMH", "MLD"])["id"],
        add_pupil(as_sendco, school_id, year_group=5, sen_provision="E", needs=["PMLD"])["id"],
        add_pupil(as_sendco, school_id, year_group=6, sen_provision="K", needs=["NSA"])["id"],
        add_pupil(as_sendco, school_id)["id"],
    ]

    def listed(**params: Any) -> list[int]:
        response = as_sendco.get("/api/v1/pupils", params=params)
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()["items"]]

    first = as_sendco.get("/api/v1/pupils", params={"limit": 2}).json()
    assert (first["total"], first["offset"], first["limit"]) == (5, 0, 2)
    assert listed(limit=2) + listed(limit=2, offset=2) + listed(limit=2, offset=4) == ids
    assert listed(year_group=5) == ids[1:3]
    assert listed(sen_provision="K") == [ids[1], ids[3]]
    assert listed(need="MLD") == [ids[1]]
    assert listed(need="PMLD", sen_provision="E") == [ids[2]]
    refused(as_sendco.get("/api/v1/pupils", params={"limit": 501}), 422, "limit", "500")
    refused(as_sendco.get("/api/v1/pupils", params={"offset": -1}), 422, "offset", "0")
    refused(as_sendco.get("/api/v1/pupils", params={"need": "XYZ"}), 422, "need", "Choose one of the options")


def test_other_filters(oak: Desk) -> None:
    as_sendco, school_id = oak.sendco, oak.id
    for role in ["sendco", "staff", "staff"]:
        email = f"{uuid.uuid4().hex[:8]}@example.org"
        created(post(as_sendco, "staff", name="S", email=email, role=role, school_id=school_id))
    assert total(as_sendco, "/api/v1/staff", role="staff") == 2 + 1  # and the desk's teacher
    la = f"LA {uuid.uuid4().hex[:6]}"
    for kind in ["la_sen", "health", "health"]:
        created(post(as_sendco, "agencies", kind=kind, name="A", email="a@example.org", local_authority=la))
    assert total(as_sendco, "/api/v1/agencies", local_authority=la) == 3
    assert total(as_sendco, "/api/v1/agencies", local_authority=la, kind="health") == 2
    a, b = add_pupil(as_sendco, school_id)["id"], add_pupil(as_sendco, school_id)["id"]
    created(post(as_sendco, "parents", name="P", email="p@example.org", pupil_ids=[a, b]))
    created(post(as_sendco, "parents", name="Q", email="q@example.org", pupil_ids=[b]))
    assert total(as_sendco, "/api/v1/parents", pupil_id=a) == 1
    assert total(as_sendco, "/api/v1/parents", pupil_id=b) == 2


def test_patch_pupil_keeps_the_census_rules(oak: Desk) -> None:
    as_sendco = oak.sendco
    pupil = add_pupil(as_sendco, oak.id, sen_provision="K", needs=["SPLD"])
    url = f"/api/v1/pupils/{pupil['id']}"
    refused(as_sendco.patch(url, json={"sen_provision": "N"}), 422, "needs", "provision N carries no need")
    refused(as_sendco.patch(url, json={"sen_provision": "S"}), 422, "sen_provision", "obsolete")
    refused(as_sendco.patch(url, json={"legal_name": None}), 422, "legal_name", "Enter this as text")
    assert as_sendco.get(url).json() == pupil
    changed = as_sendco.patch(url, json={"sen_provision": "E", "needs": ["SPLD", "VI"], "year_group": 5})
    assert changed.status_code == 200, changed.text
    assert {k: changed.json()[k] for k in ("sen_provision", "needs", "year_group", "legal_name")} == {
        "sen_provision": "E",
        "needs": ["SPLD", "VI"],
        "year_group": 5,
        "legal_name": PUPIL["legal_name"],
    }
    assert as_sendco.patch("/api/v1/pupils/999999", json={"year_group": 5}).status_code == 404


def test_delete_pupil_refused_while_a_case_is_open(oak: Desk, session: Session) -> None:
    as_sendco, school_id = oak.sendco, oak.id
    pupil = add_pupil(as_sendco, school_id, sen_provision="K", needs=["SEMH"])
    now = dt.datetime.now(dt.UTC)
    case_id = str(uuid.uuid4())
    case = Case(
        id=case_id,
        process="ep_referral",
        workflow_id=f"ep_referral-{case_id}",
        pupil_id=pupil["id"],
        school_id=school_id,
        started_by=oak.staff_ids[0],
        started_at=now,
        updated_at=now,
    )
    session.add(case)
    session.commit()
    url = f"/api/v1/pupils/{pupil['id']}"
    refused(as_sendco.delete(url), 409, "id", "open case")
    assert as_sendco.get(url).status_code == 200

    case.status = CaseStatus.closed
    session.add(case)
    session.commit()
    deleted = as_sendco.delete(url)
    assert deleted.status_code == 204 and deleted.content == b""
    assert as_sendco.get(url).status_code == 404
    assert as_sendco.delete(url).status_code == 404


# --- Each school sees and changes only its own register ---------------------
def not_found(response: httpx.Response, detail: str) -> None:
    """A 404 saying only that there is no such record: what an id no school has gets."""
    assert response.status_code == 404, response.text
    answer = response.json()
    assert (answer["code"], answer["message"]) == ("not_found", detail[0].upper() + detail[1:] + ".")


def test_another_schools_pupil_is_not_found(oak: Desk, elm: Desk) -> None:
    pupil = add_pupil(oak.sendco, oak.id, sen_provision="K", needs=["SPLD"])
    url = f"/api/v1/pupils/{pupil['id']}"
    unknown = f"no pupil with id {pupil['id']}"
    not_found(elm.head.get(url), unknown)
    not_found(elm.head.patch(url, json={"year_group": 5}), unknown)
    not_found(elm.head.delete(url), unknown)
    not_found(elm.head.get("/api/v1/pupils/999999"), "no pupil with id 999999")  # the same answer
    assert oak.sendco.get(url).json() == pupil  # unchanged and not deleted


def test_pupil_and_staff_lists_hold_your_own_school_only(oak: Desk, elm: Desk) -> None:
    oaks = [add_pupil(oak.sendco, oak.id)["id"], add_pupil(oak.sendco, oak.id)["id"]]
    elms = [add_pupil(elm.head, elm.id)["id"]]
    for desk_, pupils in [(oak, oaks), (elm, elms)]:
        listed = desk_.head.get("/api/v1/pupils").json()
        assert ([p["id"] for p in listed["items"]], listed["total"]) == (pupils, len(pupils))
        listed = desk_.teacher.get("/api/v1/staff").json()
        assert ([s["id"] for s in listed["items"]], listed["total"]) == (desk_.staff_ids, 3)
    # Another school's id is not a filter the lists offer: asking for it still lists only your own.
    assert elm.head.get("/api/v1/pupils", params={"school_id": oak.id}).json()["total"] == len(elms)
    assert elm.head.get("/api/v1/staff", params={"school_id": oak.id}).json()["total"] == 3
    spec = elm.head.get("/openapi.json").json()["paths"]
    for path in ["/api/v1/pupils", "/api/v1/staff"]:
        assert "school_id" not in [p["name"] for p in spec[path]["get"]["parameters"]]


def test_pupils_and_staff_are_added_to_your_own_school_only(oak: Desk, elm: Desk) -> None:
    refused(post(elm.head, "pupils", **PUPIL, school_id=oak.id), 403, "school_id", "your own school")
    email = f"{uuid.uuid4().hex[:8]}@example.org"
    staff = {"name": "T", "email": email, "role": "staff"}
    refused(post(elm.head, "staff", **staff, school_id=oak.id), 403, "school_id", "your own school")
    assert total(oak.head, "/api/v1/pupils") == 0
    assert total(oak.head, "/api/v1/staff") == 3
    created(post(elm.head, "staff", **staff, school_id=elm.id))  # the same email, at their own school
    assert total(elm.head, "/api/v1/staff") == 4


def test_another_schools_staff_are_not_found(oak: Desk, elm: Desk) -> None:
    for staff_id in oak.staff_ids:
        not_found(elm.head.get(f"/api/v1/staff/{staff_id}"), f"no staff with id {staff_id}")
    assert elm.head.get(f"/api/v1/staff/{elm.staff_ids[0]}").status_code == 200


def test_parents_are_seen_through_your_own_schools_pupils(oak: Desk, elm: Desk) -> None:
    oak_pupil, elm_pupil = add_pupil(oak.sendco, oak.id)["id"], add_pupil(elm.head, elm.id)["id"]
    parent = created(post(oak.sendco, "parents", name="P", email="p@example.org", pupil_ids=[oak_pupil]))
    not_found(elm.head.get(f"/api/v1/parents/{parent['id']}"), f"no parent with id {parent['id']}")
    assert total(elm.head, "/api/v1/parents") == 0
    assert total(elm.head, "/api/v1/parents", pupil_id=oak_pupil) == 0
    assert oak.teacher.get(f"/api/v1/parents/{parent['id']}").json() == parent
    # Linking Oak's pupil from Elm is refused exactly as an id no school has.
    body = {"name": "Q", "email": "q@example.org", "pupil_ids": [elm_pupil, oak_pupil, 999999]}
    response = post(elm.head, "parents", **body)
    assert response.status_code == 422 and response.json()["errors"] == [
        {"field": "pupil_ids", "reason": f"no pupil with id {oak_pupil}"},
        {"field": "pupil_ids", "reason": "no pupil with id 999999"},
    ]
    assert total(elm.head, "/api/v1/parents") == 0
    assert total(oak.head, "/api/v1/parents", pupil_id=oak_pupil) == 1


def test_a_school_sees_itself_only(oak: Desk, elm: Desk) -> None:
    not_found(elm.head.get(f"/api/v1/schools/{oak.id}"), f"no school with id {oak.id}")
    listed = elm.teacher.get("/api/v1/schools").json()
    assert ([s["id"] for s in listed["items"]], listed["total"]) == ([elm.id], 1)
    assert elm.teacher.get(f"/api/v1/schools/{elm.id}").json()["name"] == "Elm Academy"


def test_an_agency_a_school_registers_is_its_own(oak: Desk, elm: Desk) -> None:
    """A team Oak registers, even for Elm's LA, is Oak's alone: Elm neither reads it nor lists it."""
    la = f"LA {uuid.uuid4().hex[:6]}"
    body = {"kind": "la_sen", "name": "A", "email": "a@example.org", "local_authority": la}
    agency = created(post(oak.sendco, "agencies", **body))
    assert oak.teacher.get(f"/api/v1/agencies/{agency['id']}").json() == agency
    assert total(oak.teacher, "/api/v1/agencies", local_authority=la) == 1
    assert elm.teacher.get(f"/api/v1/agencies/{agency['id']}").status_code == 404
    assert total(elm.teacher, "/api/v1/agencies", local_authority=la) == 0
