"""Cases over HTTP against a real Temporal dev server and the product's worker: start, read, act, approve."""

from __future__ import annotations

import datetime as dt
import time

import httpx
import pytest

from tests.conftest import client_for

# Every test here goes to the API served with a real dev server and worker behind it.
pytestmark = pytest.mark.usefixtures("live_api")


def eventually(check, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    """Poll an HTTP read until check() returns a truthy value (projections are written by activities)."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "the case did not get there in time"
        time.sleep(0.2)
    return result


def start_records_request(client: httpx.Client, pupil_id: int) -> str:
    received = dt.date.today().isoformat()
    r = client.post(
        "/api/v1/cases",
        json={"process": "records_request", "pupil_id": pupil_id, "facts": {"request_received": received}},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_a_records_request_from_start_to_close(as_sendco, as_head, as_teacher, pupil, smtp):  # type: ignore[no-untyped-def]
    case_id = start_records_request(as_sendco, pupil.id)
    view = eventually(
        lambda: (v := as_sendco.get(f"/api/v1/cases/{case_id}").json())["step"] == "preparing" and v
    )
    assert view["status"] == "open"
    assert "submit it for the headteacher's approval" in view["next_action"]
    assert view["next_deadline"]["rule_id"] == "TR-RECORDS-ACCESS"
    assert view["next_deadline"]["citation"] == "PIR reg 5(2)"
    assert view["workflow_id"] == f"records_request-{case_id}"  # no personal data in the id
    assert view["facts"] == {"request_received": dt.date.today().isoformat()}  # as the SENDCo gave them
    assert view["actions"] == ["change-due-date", "submit-for-approval"]  # only what can be done now

    # Approving before anything was submitted is not valid now.
    r = as_sendco.post(
        f"/api/v1/cases/{case_id}/actions/record-disclosure", json={"disclosed_on": "2026-01-01"}
    )
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "conflict"
    assert r.json()["message"] == "The headteacher has not approved releasing the record yet."

    r = as_teacher.post(f"/api/v1/cases/{case_id}/actions/submit-for-approval", json={"note": "pack ready"})
    assert r.status_code == 403
    assert r.json() == {
        "code": "forbidden",
        "message": "Only the SENDCo or headteacher can do this.",
        "errors": [],
    }
    # The actor is the signed-in staff member: a body that names one is refused, and nothing happens.
    r = as_sendco.post(
        f"/api/v1/cases/{case_id}/actions/submit-for-approval",
        json={"note": "x", "actor": {"staff_id": 999, "role": "headteacher"}},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "actor", r.text
    r = as_sendco.post(
        f"/api/v1/cases/{case_id}/actions/submit-for-approval", json={"note": "Record gathered"}
    )
    assert r.status_code == 200, r.text
    taken = r.json()
    assert (taken["case_id"], taken["action"], taken["result"]) == (
        case_id,
        "submit-for-approval",
        "submitted",
    )
    assert taken["case"]["id"] == case_id and taken["case"]["step"] in ("preparing", "awaiting-approval")

    def pending_for_case() -> dict | None:
        items = as_head.get("/api/v1/approvals").json()["items"]
        return next((a for a in items if a["case_id"] == case_id), None)

    approval = eventually(pending_for_case)
    assert approval["status"] == "pending" and approval["summary"] == "Record gathered"
    decision = f"/api/v1/approvals/{approval['id']}/decision"
    assert as_sendco.post(decision, json={"approve": True}).status_code == 403
    assert as_teacher.post(decision, json={"approve": True}).status_code == 403
    r = as_head.post(decision, json={"approve": True, "comment": "Fine to release"})
    assert r.status_code == 200, r.text
    assert r.json()["result"] == "approved"
    again = as_head.post(decision, json={"approve": False, "comment": "changed my mind"})
    assert again.status_code == 409

    view = eventually(
        lambda: (v := as_sendco.get(f"/api/v1/cases/{case_id}").json())["step"] == "disclosing" and v
    )
    assert view["actions"] == ["change-due-date", "record-disclosure"]
    r = as_sendco.post(
        f"/api/v1/cases/{case_id}/actions/record-disclosure",
        json={"disclosed_on": dt.date.today().isoformat()},
    )
    assert r.status_code == 200, r.text
    view = eventually(
        lambda: (v := as_sendco.get(f"/api/v1/cases/{case_id}").json())["status"] == "closed" and v
    )
    assert view["next_deadline"] is None and view["actions"] == []
    [deadline] = view["deadlines"]
    assert (deadline["rule_id"], deadline["status"]) == ("TR-RECORDS-ACCESS", "met")
    assert deadline["citation"] == "PIR reg 5(2)" and deadline["days_late"] is None

    chronology = as_sendco.get(f"/api/v1/cases/{case_id}/chronology").json()
    actions = [(e["action"], e["actor"]) for e in chronology]
    assert ("submitted-for-approval", f"staff:{sendco_http_staff(as_sendco)}") in actions
    assert any(a == "approval-approved" and who.startswith("staff:") for a, who in actions)
    assert ("record-disclosed", f"staff:{sendco_http_staff(as_sendco)}") in actions

    # Acting on a closed case is refused.
    r = as_sendco.post(f"/api/v1/cases/{case_id}/actions/submit-for-approval", json={"note": "again"})
    assert r.status_code == 409
    assert r.json()["message"] == "This case is closed: nothing more can be done on it."

    # The headteacher was asked by email, and the SENDCo told of the decision.
    outbox = as_sendco.get("/api/v1/outbox", params={"case_id": case_id}).json()["items"]
    assert {m["template"] for m in outbox} >= {"approval-request", "approval-decided"}
    assert all(m["status"] == "sent" for m in outbox)
    assert all(m["recipients"] and all("@" in a for a in m["recipients"]) for m in outbox)
    # A class teacher sees what went out and when, but to no address.
    seen = as_teacher.get("/api/v1/outbox", params={"case_id": case_id}).json()["items"]
    assert [m["subject"] for m in seen] == [m["subject"] for m in outbox]
    assert all(m["recipients"] is None and m["error"] is None for m in seen)
    assert all(m["recipient_count"] >= 1 for m in seen)
    assert "@" not in as_teacher.get("/api/v1/outbox", params={"case_id": case_id}).text


def sendco_http_staff(client: httpx.Client) -> int:
    return client.get("/api/v1/staff", params={"role": "sendco"}).json()["items"][0]["id"]


def test_bad_starts_are_refused_with_the_reason(as_sendco, as_teacher, pupil):  # type: ignore[no-untyped-def]
    before = as_sendco.get("/api/v1/cases").json()["total"]
    r = as_sendco.post("/api/v1/cases", json={"process": "nonsense", "pupil_id": pupil.id, "facts": {}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "process"
    assert r.json()["code"] == "invalid" and "choose one of" in r.json()["message"]
    r = as_sendco.post(
        "/api/v1/cases",
        json={
            "process": "records_request",
            "pupil_id": pupil.id,
            "facts": {"request_received": "not a date"},
        },
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "facts.request_received"
    r = as_sendco.post(
        "/api/v1/cases",
        json={"process": "records_request", "pupil_id": 99999, "facts": {"request_received": "2026-11-20"}},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "pupil_id"
    r = as_teacher.post(
        "/api/v1/cases",
        json={
            "process": "records_request",
            "pupil_id": pupil.id,
            "facts": {"request_received": "2026-11-20"},
        },
    )
    assert r.status_code == 403
    uninvited = {"cycle_start": "2026-03-02", "year_group": 4, "advisers": [{"kind": "ep_service"}]}
    r = as_sendco.post(
        "/api/v1/cases", json={"process": "annual_review", "pupil_id": pupil.id, "facts": uninvited}
    )
    assert r.status_code == 422, r.text
    assert "advisers must be invited" in r.json()["errors"][0]["reason"]
    assert as_sendco.get("/api/v1/cases").json()["total"] == before  # nothing was written
    assert as_sendco.get("/api/v1/cases/no-such-case").status_code == 404
    assert httpx.get(f"{as_sendco.base_url}/api/v1/cases").status_code == 401


def test_no_worker_answering_is_503_not_a_hang(app, as_sendco, pupil, monkeypatch):  # type: ignore[no-untyped-def]
    import api.temporal_calls

    monkeypatch.setattr(api.temporal_calls, "ANSWER_WITHIN", dt.timedelta(seconds=2))
    before = as_sendco.get("/api/v1/cases").json()["total"]
    queue = app.state.task_queue
    app.state.task_queue = "nobody-polls-this-queue"
    try:
        r = as_sendco.post(
            "/api/v1/cases",
            json={
                "process": "records_request",
                "pupil_id": pupil.id,
                "facts": {"request_received": "2026-11-20"},
            },
        )
    finally:
        app.state.task_queue = queue
    assert r.status_code == 503
    assert r.json()["code"] == "unavailable"
    assert (
        r.json()["message"].startswith("No worker is answering") and "nothing was done" in r.json()["message"]
    )
    assert as_sendco.get("/api/v1/cases").json()["total"] == before


def test_staff_of_another_school_cannot_see_or_touch_the_case(live_api, as_sendco, pupil, engine):  # type: ignore[no-untyped-def]
    from sqlmodel import Session

    from domain.schemas import Role
    from store.register import School, Staff
    from store.tokens import issue_token

    case_id = start_records_request(as_sendco, pupil.id)
    with Session(engine, expire_on_commit=False) as s:
        other = School(name="Other Academy", local_authority="Kent")
        s.add(other)
        s.commit()
        head = Staff(
            school_id=other.id, name="Other head", email="head@other.example.org", role=Role.headteacher
        )
        s.add(head)
        s.commit()
        token = issue_token(s, head.id)
    with client_for(live_api, token) as outsider:
        assert outsider.get(f"/api/v1/cases/{case_id}").status_code == 404
        assert outsider.get(f"/api/v1/cases/{case_id}/chronology").status_code == 404
        assert case_id not in [c["id"] for c in outsider.get("/api/v1/cases").json()["items"]]
        r = outsider.post(f"/api/v1/cases/{case_id}/actions/submit-for-approval", json={"note": "x"})
        assert r.status_code == 404
        r = outsider.post(
            "/api/v1/cases",
            json={
                "process": "records_request",
                "pupil_id": pupil.id,
                "facts": {"request_received": "2026-11-20"},
            },
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "pupil_id"
        assert outsider.get("/api/v1/deadlines").json()["total"] == 0
        assert outsider.get("/api/v1/outbox").json()["total"] == 0
