"""The register over HTTP against the real app: auth, roles, 201/200/404, 422 and 409 reasons, paging."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from store.casework import Case, CaseStatus

PUPIL = {"legal_name": "Sam Pupil", "date_of_birth": "2016-03-01", "year_group": 4}
LISTS = ["/api/v1/schools", "/api/v1/staff", "/api/v1/pupils", "/api/v1/parents", "/api/v1/agencies"]


def post(client: httpx.Client, resource: str, **body: Any) -> httpx.Response:
    return client.post(f"/api/v1/{resource}", json=body)


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def school_id(as_sendco: httpx.Client) -> int:
    return created(post(as_sendco, "schools", name="Oak Primary", local_authority="Kent"))["id"]


def add_pupil(client: httpx.Client, school_id: int, **fields: Any) -> dict[str, Any]:
    return created(client.post("/api/v1/pupils", json={**PUPIL, "school_id": school_id, **fields}))


def total(client: httpx.Client, path: str, **params: Any) -> int:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()["total"]


def refused(response: httpx.Response, status: int, field: str | None, reason: str) -> None:
    """The response is `status` with a {field, reason} item for `field` whose reason contains `reason`."""
    assert response.status_code == status, response.text
    items = response.json()["detail"]
    assert all(set(item) == {"field", "reason"} for item in items)
    assert any(item["field"] == field and reason in item["reason"] for item in items), items


@pytest.mark.parametrize("path", LISTS)
def test_every_endpoint_needs_a_token(api_url: str, path: str) -> None:
    with httpx.Client(base_url=api_url) as anonymous:
        assert anonymous.get(path).status_code == 401
        assert anonymous.get(f"{path}/1").status_code == 401
        assert anonymous.post(path, json={}).status_code == 401
    assert httpx.get(f"{api_url}{path}", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_staff_role_reads_but_cannot_write(
    as_teacher: httpx.Client, as_sendco: httpx.Client, school_id: int
) -> None:
    pupil = add_pupil(as_sendco, school_id)
    for path in LISTS:
        assert as_teacher.get(path).status_code == 200
        assert as_teacher.post(path, json={}).status_code == 403
    assert as_teacher.get(f"/api/v1/pupils/{pupil['id']}").status_code == 200
    assert as_teacher.patch(f"/api/v1/pupils/{pupil['id']}", json={"year_group": 5}).status_code == 403
    assert as_teacher.delete(f"/api/v1/pupils/{pupil['id']}").status_code == 403
    assert as_teacher.get(f"/api/v1/pupils/{pupil['id']}").json()["year_group"] == 4


def test_create_and_read_each_resource(
    as_sendco: httpx.Client, as_head: httpx.Client, school_id: int
) -> None:
    email = f"{uuid.uuid4().hex[:8]}@example.org"
    staff = created(post(as_head, "staff", name="T", email=email, role="staff", school_id=school_id))
    pupil = add_pupil(as_head, school_id, sen_provision="K", needs=["SLCN"])
    parent = created(post(as_sendco, "parents", name="P", email=email, pupil_ids=[pupil["id"]]))
    agency = created(post(as_sendco, "agencies", kind="ep_service", name="EPS", email=email))
    for path, made in [
        ("schools", {"id": school_id}), ("staff", staff), ("pupils", pupil), ("parents", parent),
        ("agencies", agency),
    ]:
        got = as_sendco.get(f"/api/v1/{path}/{made['id']}")
        assert got.status_code == 200 and got.json()["id"] == made["id"]
        missing = as_sendco.get(f"/api/v1/{path}/999999")
        assert missing.status_code == 404 and "999999" in missing.json()["detail"]
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
        ({"year_group": 15}, "year_group", "less than or equal to 14"),
        ({"legal_name": None}, "legal_name", "valid string"),
        ({"date_of_birth": "not a date"}, "date_of_birth", "date"),
    ],
)
def test_bad_pupil_is_refused_with_field_and_reason(
    as_sendco: httpx.Client, school_id: int, fields: dict[str, Any], field: str, reason: str
) -> None:
    response = as_sendco.post("/api/v1/pupils", json={**PUPIL, "school_id": school_id, **fields})
    refused(response, 422, field, reason)
    assert total(as_sendco, "/api/v1/pupils", school_id=school_id) == 0


def test_missing_field_and_unknown_school(as_sendco: httpx.Client, school_id: int) -> None:
    body = {k: v for k, v in PUPIL.items() if k != "date_of_birth"} | {"school_id": school_id}
    refused(as_sendco.post("/api/v1/pupils", json=body), 422, "date_of_birth", "Field required")
    refused(post(as_sendco, "pupils", **PUPIL, school_id=999999), 422, "school_id", "no school with id")
    assert total(as_sendco, "/api/v1/pupils", school_id=school_id) == 0


def test_bad_email_duplicate_email_and_unknown_pupil(as_sendco: httpx.Client, school_id: int) -> None:
    staff = {"name": "T", "role": "staff", "school_id": school_id}
    refused(as_sendco.post("/api/v1/staff", json={**staff, "email": "nobody"}), 422, "email", "email address")
    email = f"{uuid.uuid4().hex[:8]}@example.org"
    created(as_sendco.post("/api/v1/staff", json={**staff, "email": email}))
    refused(post(as_sendco, "staff", **staff, email=email), 409, "email", "already has this email")
    assert total(as_sendco, "/api/v1/staff", school_id=school_id) == 1

    pupil = add_pupil(as_sendco, school_id)
    parents = total(as_sendco, "/api/v1/parents")
    body = {"name": "P", "email": email, "pupil_ids": [pupil["id"], 999999]}
    refused(as_sendco.post("/api/v1/parents", json=body), 422, "pupil_ids", "no pupil with id 999999")
    refused(as_sendco.post("/api/v1/parents", json={**body, "email": "x@"}), 422, "email", "email address")
    assert total(as_sendco, "/api/v1/parents") == parents


def test_pupil_paging_and_filters(as_sendco: httpx.Client, school_id: int) -> None:
    ids = [
        add_pupil(as_sendco, school_id)["id"],
        add_pupil(as_sendco, school_id, year_group=5, sen_provision="K", needs=["SEMH", "MLD"])["id"],
        add_pupil(as_sendco, school_id, year_group=5, sen_provision="E", needs=["PMLD"])["id"],
        add_pupil(as_sendco, school_id, year_group=6, sen_provision="K", needs=["NSA"])["id"],
        add_pupil(as_sendco, school_id)["id"],
    ]

    def listed(**params: Any) -> list[int]:
        response = as_sendco.get("/api/v1/pupils", params={"school_id": school_id, **params})
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()["items"]]

    first = as_sendco.get("/api/v1/pupils", params={"school_id": school_id, "limit": 2}).json()
    assert (first["total"], first["offset"], first["limit"]) == (5, 0, 2)
    assert listed(limit=2) + listed(limit=2, offset=2) + listed(limit=2, offset=4) == ids
    assert listed(year_group=5) == ids[1:3]
    assert listed(sen_provision="K") == [ids[1], ids[3]]
    assert listed(need="MLD") == [ids[1]]
    assert listed(need="PMLD", sen_provision="E") == [ids[2]]
    refused(as_sendco.get("/api/v1/pupils", params={"limit": 501}), 422, "limit", "500")
    refused(as_sendco.get("/api/v1/pupils", params={"offset": -1}), 422, "offset", "0")
    refused(as_sendco.get("/api/v1/pupils", params={"need": "XYZ"}), 422, "need", "Input should be")


def test_other_filters(as_sendco: httpx.Client, school_id: int) -> None:
    for role in ["sendco", "staff", "staff"]:
        email = f"{uuid.uuid4().hex[:8]}@example.org"
        created(post(as_sendco, "staff", name="S", email=email, role=role, school_id=school_id))
    assert total(as_sendco, "/api/v1/staff", school_id=school_id, role="staff") == 2
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


def test_patch_pupil_keeps_the_census_rules(as_sendco: httpx.Client, school_id: int) -> None:
    pupil = add_pupil(as_sendco, school_id, sen_provision="K", needs=["SPLD"])
    url = f"/api/v1/pupils/{pupil['id']}"
    refused(as_sendco.patch(url, json={"sen_provision": "N"}), 422, "needs", "provision N carries no need")
    refused(as_sendco.patch(url, json={"sen_provision": "S"}), 422, "sen_provision", "obsolete")
    refused(as_sendco.patch(url, json={"legal_name": None}), 422, "legal_name", "valid string")
    assert as_sendco.get(url).json() == pupil
    changed = as_sendco.patch(url, json={"sen_provision": "E", "needs": ["SPLD", "VI"], "year_group": 5})
    assert changed.status_code == 200, changed.text
    assert {k: changed.json()[k] for k in ("sen_provision", "needs", "year_group", "legal_name")} == {
        "sen_provision": "E", "needs": ["SPLD", "VI"], "year_group": 5, "legal_name": PUPIL["legal_name"]
    }
    assert as_sendco.patch("/api/v1/pupils/999999", json={"year_group": 5}).status_code == 404


def test_delete_pupil_refused_while_a_case_is_open(
    as_sendco: httpx.Client, session: Session, school_id: int, sendco: tuple[Any, str]
) -> None:
    pupil = add_pupil(as_sendco, school_id, sen_provision="K", needs=["SEMH"])
    now = dt.datetime.now(dt.UTC)
    case_id = str(uuid.uuid4())
    case = Case(
        id=case_id, process="ep_referral", workflow_id=f"ep_referral-{case_id}", pupil_id=pupil["id"],
        school_id=school_id, started_by=sendco[0].id, started_at=now, updated_at=now,
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
