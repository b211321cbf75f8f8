"""The EP allocation over HTTP: the SENDCo and headteacher see and set it, scoped to their school; a referral
reserves its estimate; acting on a referral out of turn is refused with the shared error body."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from domain.schemas import Role
from store.provision_service import school_year_of
from store.register import School, Staff
from store.tokens import issue_token
from tests.api.test_case_commands import error_body, new_pupil
from tests.api.test_cases_api import eventually
from tests.conftest import client_for

pytestmark = pytest.mark.usefixtures("live_api")
TODAY = dt.datetime.now(ZoneInfo("Europe/London")).date()
FUTURE_YEAR = 2031  # a school year no other test draws on
EVIDENCE = {"support_plans": "Two reviewed plans, little progress", "parents_views": "Worried"}


def figures(answer: dict) -> tuple:  # type: ignore[type-arg]
    return answer["allocated"], answer["reserved"], answer["used"], answer["remaining"]


def test_the_sendco_and_headteacher_set_and_see_the_allocation(as_sendco, as_head, as_teacher) -> None:  # type: ignore[no-untyped-def]
    path = f"/api/v1/ep-allocations/{FUTURE_YEAR}"
    before = as_head.get(path)
    assert before.status_code == 200, before.text
    r = as_sendco.put(path, json={"unit": "sessions", "allocated": 24})
    assert r.status_code == 200, r.text
    answer = as_head.get(path).json()
    assert figures(answer) == (24, 0, 0, 24)
    assert (answer["unit"], answer["label"], answer["agreed"], answer["referrals"]) == (
        "sessions",
        "2031/32",
        True,
        [],
    )

    # Other staff: 403, in the workflow's words; nonsense: 422 naming the field.
    answer = error_body(as_teacher.get(path), 403, "forbidden")
    assert answer["message"] == "Only the SENDCo or headteacher can do this."
    error_body(as_teacher.put(path, json={"allocated": 99}), 403, "forbidden")
    answer = error_body(as_sendco.put(path, json={"allocated": -1}), 422, "invalid")
    assert answer["errors"][0]["field"] == "allocated"
    error_body(as_sendco.get("/api/v1/ep-allocations/1999"), 422, "invalid")
    assert figures(as_sendco.get(path).json()) == (24, 0, 0, 24)  # unchanged by the refusals


def test_another_schools_allocation_is_its_own(live_api, as_sendco, engine) -> None:  # type: ignore[no-untyped-def]
    as_sendco.put(f"/api/v1/ep-allocations/{FUTURE_YEAR}", json={"allocated": 30})
    with Session(engine, expire_on_commit=False) as s:
        other = School(name="Other EP Academy", local_authority="Kent")
        s.add(other)
        s.commit()
        head = Staff(
            school_id=other.id, name="Other head", email="ep-head@other.example.org", role=Role.headteacher
        )
        s.add(head)
        s.commit()
        token = issue_token(s, head.id)
    with client_for(live_api, token) as outsider:
        answer = outsider.get(f"/api/v1/ep-allocations/{FUTURE_YEAR}").json()
        assert (answer["agreed"], figures(answer)) == (False, (0, 0, 0, 0))
        assert outsider.put(f"/api/v1/ep-allocations/{FUTURE_YEAR}", json={"allocated": 5}).status_code == 200
    assert as_sendco.get(f"/api/v1/ep-allocations/{FUTURE_YEAR}").json()["allocated"] == 30


def test_a_referral_reserves_its_estimate_and_out_of_turn_actions_are_refused(
    as_sendco, as_head, as_teacher, engine, school
) -> None:  # type: ignore[no-untyped-def]
    year = school_year_of(TODAY)
    path = f"/api/v1/ep-allocations/{year}"
    start = as_head.get(path).json()
    r = as_sendco.put(path, json={"unit": "hours", "allocated": start["reserved"] + start["used"] + 10})
    assert r.status_code == 200, r.text
    pupil = new_pupil(engine, school, "K")
    body = {
        "process": "ep_referral",
        "pupil_id": pupil.id,
        "facts": {
            "service": "ep",
            "question": "Why is reading stuck?",
            "evidence": EVIDENCE,
            "year_group": 6,
        },
    }
    r = as_sendco.post("/api/v1/cases", json=body)
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    eventually(lambda: as_sendco.get(f"/api/v1/cases/{case_id}").json()["step"] == "consent")
    answer = eventually(lambda: (a := as_head.get(path).json())["reserved"] == start["reserved"] + 6 and a)
    assert answer["remaining"] == 4
    assert [
        (d["case_id"], d["status"], d["reserved"]) for d in answer["referrals"] if d["case_id"] == case_id
    ] == [(case_id, "reserved", 6)]
    # The agreement cannot drop below what referrals draw.
    drawn = answer["reserved"] + answer["used"]
    refused = error_body(as_sendco.put(path, json={"allocated": drawn - 1}), 409, "conflict")
    label = answer["label"]
    assert (
        refused["message"]
        == f"Referrals already draw {drawn:g} hours of the {label} allocation: agree at least that much."
    )

    # Out of turn: a visit before consent; the consent by a class teacher; a bad payload.
    actions = f"/api/v1/cases/{case_id}/actions"
    answer = error_body(
        as_sendco.post(f"{actions}/record-visit", json={"held_on": TODAY.isoformat()}), 409, "conflict"
    )
    assert answer["message"].startswith("Not now: record the parents' answer to the request for consent")
    consent = {"given": True, "answered_on": TODAY.isoformat()}
    error_body(as_teacher.post(f"{actions}/record-consent", json=consent), 403, "forbidden")
    answer = error_body(
        as_sendco.post(f"{actions}/record-service-answer", json={"accepted": True}), 422, "invalid"
    )
    assert {e["field"] for e in answer["errors"]} >= {"answered_on"}
    r = as_sendco.post(f"{actions}/record-consent", json={**consent, "given": False})
    assert r.status_code == 200, r.text
    eventually(lambda: as_sendco.get(f"/api/v1/cases/{case_id}").json()["status"] == "closed")
    released = eventually(lambda: (a := as_head.get(path).json())["reserved"] == start["reserved"] and a)
    assert [d["status"] for d in released["referrals"] if d["case_id"] == case_id] == ["released"]
    error_body(as_sendco.post(f"{actions}/record-consent", json=consent), 409, "conflict")  # closed
