"""Joining and leaving over HTTP, against a real Temporal dev server and the product's worker."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlmodel import Session

from store.register import Parent, Pupil, PupilParent

pytestmark = pytest.mark.usefixtures("live_api")


def eventually(check, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "the case did not get there in time"
        time.sleep(0.2)
    return result


def new_pupil(engine, school, provision: str, needs: list[str]) -> Pupil:  # type: ignore[no-untyped-def]
    """A pupil of their own (leaving closes the pupil's open cases), with a parent."""
    with Session(engine, expire_on_commit=False) as s:
        child = Pupil(
            school_id=school.id,
            legal_name="Kim Mover",
            date_of_birth=dt.date(2016, 9, 1),
            year_group=5,
            sen_provision=provision,
            needs=needs,
            local_authority="Kent",
        )
        parent = Parent(name="Lee Mover", email=f"mover-{provision}@example.org")
        s.add_all([child, parent])
        s.commit()
        s.add(PupilParent(pupil_id=child.id, parent_id=parent.id))
        s.commit()
        return child


@pytest.fixture
def leaver(engine, school, pupil) -> Pupil:  # type: ignore[no-untyped-def]
    """A pupil on SEN support (`pupil`: the LA's agencies)."""
    return new_pupil(engine, school, "K", ["SPLD"])


def test_a_leaver_to_an_unknown_destination_closes_the_open_cases(as_sendco, as_teacher, leaver, smtp):  # type: ignore[no-untyped-def]
    today = dt.date.today().isoformat()
    r = as_sendco.post(
        "/api/v1/cases",
        json={"process": "records_request", "pupil_id": leaver.id, "facts": {"request_received": today}},
    )
    assert r.status_code == 201, r.text
    records = r.json()["id"]
    eventually(lambda: as_sendco.get(f"/api/v1/cases/{records}").json()["step"] == "preparing")

    facts = {"leaving_date": today, "destination": "unknown", "reason": "Family not reachable"}
    refused = as_sendco.post(
        "/api/v1/cases",
        json={"process": "leaving", "pupil_id": leaver.id, "facts": {**facts, "receiving_school_id": 1}},
    )
    assert refused.status_code == 422
    assert (
        refused.json()["message"] == "A receiving school applies only when the pupil goes to another school."
    )
    r = as_sendco.post("/api/v1/cases", json={"process": "leaving", "pupil_id": leaver.id, "facts": facts})
    assert r.status_code == 201, r.text
    leaving = r.json()["id"]

    view = eventually(
        lambda: (v := as_sendco.get(f"/api/v1/cases/{leaving}").json())["step"] == "missing" and v
    )
    assert "children-missing-education" in view["flags"]
    assert view["next_action"].startswith("Find out where the pupil has gone")
    assert "record-destination" in view["actions"] and "record-sent" not in view["actions"]
    closed = eventually(
        lambda: (v := as_sendco.get(f"/api/v1/cases/{records}").json())["status"] == "closed" and v
    )
    assert (
        closed["next_action"]
        == f"Nothing: the pupil left the school on {dt.date.today():%d %b %Y} (Family not reachable)"
    )
    alert = eventually(lambda: smtp.to("headteacher1@example.org"))
    assert any("may be missing education" in m["Subject"] for m in alert)

    by_teacher = as_teacher.post(
        f"/api/v1/cases/{leaving}/actions/record-destination",
        json={"destination": "home_education", "found_on": today},
    )
    assert by_teacher.status_code == 403
    r = as_sendco.post(
        f"/api/v1/cases/{leaving}/actions/record-destination",
        json={"destination": "home_education", "found_on": today},
    )
    assert r.status_code == 200, r.text
    again = as_sendco.post(
        f"/api/v1/cases/{leaving}/actions/record-destination",
        json={"destination": "abroad", "found_on": today},
    )
    assert again.status_code == 409, again.text


def test_a_joiner_with_an_ehc_plan_needs_the_plans_date(as_sendco, leaver):  # type: ignore[no-untyped-def]
    today = dt.date.today().isoformat()
    r = as_sendco.post(
        "/api/v1/cases",
        json={
            "process": "joining",
            "pupil_id": leaver.id,
            "facts": {"admission_date": today, "sen": "ehc_plan"},
        },
    )
    assert r.status_code == 422
    assert r.json()["message"].startswith("For a pupil with an EHC plan, give the date the plan was issued")


def test_a_joiner_with_an_ehc_plan_gets_its_annual_review_case(as_sendco, engine, school, pupil):  # type: ignore[no-untyped-def]
    child = new_pupil(engine, school, "E", ["ASD"])
    today = dt.date.today()
    issued = (today - dt.timedelta(days=150)).isoformat()
    facts = {
        "admission_date": today.isoformat(),
        "sen": "ehc_plan",
        "plan_cycle_start": issued,
        "year_group": 5,
    }
    r = as_sendco.post("/api/v1/cases", json={"process": "joining", "pupil_id": child.id, "facts": facts})
    assert r.status_code == 201, r.text
    joining = r.json()["id"]

    def review():  # type: ignore[no-untyped-def]
        found = as_sendco.get(
            "/api/v1/cases", params={"pupil_id": child.id, "process": "annual_review"}
        ).json()
        return found["items"][0] if found["items"] else None

    linked = eventually(review)
    case = eventually(
        lambda: (v := as_sendco.get(f"/api/v1/cases/{linked['id']}").json())["step"] == "planning" and v
    )
    assert case["facts"]["linked_from"] == joining and case["facts"]["cycle_start"] == issued
    view = as_sendco.get(f"/api/v1/cases/{joining}").json()
    assert view["next_deadline"]["rule_id"] == "TR-NEW-PUPIL-RETURN"
    assert view["next_action"].startswith("Tell the LA of the new pupil (the new-pupil return): due ")
    again = as_sendco.post("/api/v1/cases", json={"process": "joining", "pupil_id": child.id, "facts": facts})
    assert again.status_code == 409  # one joining case per pupil


def test_a_school_the_register_has_not_got_is_refused_at_start(as_sendco, leaver):  # type: ignore[no-untyped-def]
    """A previous or receiving school is an agency of the register: an unknown id is named, nothing opens."""
    today = dt.date.today().isoformat()
    before = as_sendco.get("/api/v1/cases", params={"pupil_id": leaver.id}).json()["total"]
    starts = [
        ("joining", {"admission_date": today, "previous_school_id": 987654}, "previous_school_id"),
        (
            "leaving",
            {"leaving_date": today, "destination": "school", "receiving_school_id": 987654},
            "receiving_school_id",
        ),
        (
            "phase_transfer",
            {"plan": "sen_support", "transfer_year": dt.date.today().year + 1, "receiving_school_id": 987654},
            "receiving_school_id",
        ),
    ]
    for process, facts, field in starts:
        r = as_sendco.post("/api/v1/cases", json={"process": process, "pupil_id": leaver.id, "facts": facts})
        assert r.status_code == 422, (process, r.text)
        assert {
            "field": f"facts.{field}",
            "reason": "there is no other agency with id 987654 in the register",
        } in (r.json()["errors"]), (process, r.json())
    assert as_sendco.get("/api/v1/cases", params={"pupil_id": leaver.id}).json()["total"] == before
