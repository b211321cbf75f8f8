"""Case commands over HTTP: the start guards, the one error body for every refusal, and a 500 with its id."""

from __future__ import annotations

import datetime as dt
import logging
import re
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlmodel import Session

from store.register import Pupil, School
from tests.api.test_cases_api import eventually, start_records_request

pytestmark = pytest.mark.usefixtures("live_api")
TODAY = dt.datetime.now(ZoneInfo("Europe/London")).date()  # deadlines fall on English dates


def new_pupil(engine, school: School, provision: str) -> Pupil:  # type: ignore[no-untyped-def]
    """A pupil of the test school with this SEN provision (one per test, so open cases never clash)."""
    with Session(engine, expire_on_commit=False) as s:
        pupil = Pupil(
            school_id=school.id,
            legal_name="Sam Example",
            date_of_birth=dt.date(2015, 9, 1),
            year_group=6,
            sen_provision=provision,
            needs=["SPLD"] if provision != "N" else [],
            local_authority="Kent",
        )
        s.add(pupil)
        s.commit()
        return pupil


def review(pupil_id: int, **facts: object) -> dict[str, object]:
    return {
        "process": "annual_review",
        "pupil_id": pupil_id,
        "facts": {"cycle_start": (TODAY - dt.timedelta(days=60)).isoformat(), "year_group": 6, **facts},
    }


def error_body(r: httpx.Response, status: int, code: str) -> dict:  # type: ignore[type-arg]
    """The response is the shared error body with that status and code, its message a sentence."""
    assert r.status_code == status, r.text
    answer = r.json()
    assert set(answer) == {"code", "message", "errors"}, answer
    assert answer["code"] == code
    assert answer["message"][0].isupper() and answer["message"].endswith("."), answer["message"]
    assert all(set(e) == {"field", "reason"} for e in answer["errors"])
    return answer


def test_an_annual_review_is_only_for_a_pupil_with_an_ehc_plan(as_sendco, engine, school) -> None:  # type: ignore[no-untyped-def]
    before = as_sendco.get("/api/v1/cases").json()["total"]
    for provision, words in (("K", "SEN support"), ("N", "none")):
        pupil = new_pupil(engine, school, provision)
        answer = error_body(as_sendco.post("/api/v1/cases", json=review(pupil.id)), 422, "invalid")
        assert answer["message"] == (
            f"An EHCP annual review is for a pupil with an EHC plan; this pupil's SEN provision is {words}."
        )
        assert [e["field"] for e in answer["errors"]] == ["pupil_id"]
    assert as_sendco.get("/api/v1/cases").json()["total"] == before  # nothing was started
    # A records request is for any pupil.
    start_records_request(as_sendco, new_pupil(engine, school, "N").id)


@pytest.mark.usefixtures("pupil")  # registers Kent's agencies, which an annual review emails
def test_a_second_open_annual_review_is_refused_naming_the_first(as_sendco, engine, school) -> None:  # type: ignore[no-untyped-def]
    pupil = new_pupil(engine, school, "E")
    r = as_sendco.post("/api/v1/cases", json=review(pupil.id))
    assert r.status_code == 201, r.text
    first = r.json()["id"]
    answer = error_body(as_sendco.post("/api/v1/cases", json=review(pupil.id)), 409, "conflict")
    assert f"/cases/{first}" in answer["message"]
    assert answer["errors"][0]["field"] == "pupil_id" and f"/cases/{first}" in answer["errors"][0]["reason"]
    listed = as_sendco.get("/api/v1/cases", params={"pupil_id": pupil.id}).json()
    assert [c["id"] for c in listed["items"]] == [first]
    # Any number of records requests for the same pupil.
    other = start_records_request(as_sendco, pupil.id)
    assert other != start_records_request(as_sendco, pupil.id)


@pytest.mark.parametrize(
    ("facts", "field", "reason"),
    [
        ({"cycle_start": (TODAY + dt.timedelta(days=1)).isoformat()}, "facts.cycle_start", "in the future"),
        ({"cycle_start": "1999-12-31"}, "facts.cycle_start", "from 1 Jan 2000"),
        ({"cycle_start": "9999-12-01"}, "facts.cycle_start", "in the future"),
        ({"transfer": "phase", "transfer_year": 2200}, "facts.transfer_year", "from 2000 to 2100"),
        ({"transfer": "phase", "transfer_year": 1990}, "facts.transfer_year", "from 2000 to 2100"),
        ({"transfer": "post16_other", "transfer_date": "9999-12-01"}, "facts.transfer_date", "2000 to 2100"),
    ],
)
def test_annual_review_dates_outside_a_plausible_window_are_422(
    as_sendco, engine, school, facts, field, reason
) -> None:  # type: ignore[no-untyped-def]
    pupil = new_pupil(engine, school, "E")
    answer = error_body(as_sendco.post("/api/v1/cases", json=review(pupil.id, **facts)), 422, "invalid")
    assert any(e["field"] == field and reason in e["reason"] for e in answer["errors"]), answer
    assert as_sendco.get("/api/v1/cases", params={"pupil_id": pupil.id}).json()["total"] == 0


@pytest.mark.parametrize(
    ("received", "reason"),
    [((TODAY + dt.timedelta(days=3)).isoformat(), "in the future"), ("1999-06-01", "from 1 Jan 2000")],
)
def test_a_records_request_received_in_the_future_or_before_2000_is_422(
    as_sendco, pupil, received, reason
) -> None:  # type: ignore[no-untyped-def]
    body = {"process": "records_request", "pupil_id": pupil.id, "facts": {"request_received": received}}
    answer = error_body(as_sendco.post("/api/v1/cases", json=body), 422, "invalid")
    [problem] = answer["errors"]
    assert problem["field"] == "facts.request_received" and reason in problem["reason"]


def test_refusals_share_one_body(api_url, as_sendco, as_teacher, pupil) -> None:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=api_url) as anonymous:
        answer = error_body(anonymous.get("/api/v1/cases"), 401, "unauthorized")
        assert "Sign in" in answer["message"]
    error_body(as_sendco.get("/api/v1/nothing-here"), 404, "not_found")
    error_body(as_sendco.get("/api/v1/cases/no-such-case"), 404, "not_found")
    error_body(as_sendco.delete("/api/v1/cases"), 405, "not_allowed")
    answer = error_body(as_teacher.post("/api/v1/cases", json=review(pupil.id)), 403, "forbidden")
    assert answer["message"] == "Only the SENDCo or headteacher can do this."
    answer = error_body(as_sendco.get("/api/v1/cases", params={"limit": "many"}), 422, "invalid")
    assert answer["errors"][0]["field"] == "limit"
    r = as_sendco.post("/api/v1/cases", content=b"{not json", headers={"content-type": "application/json"})
    error_body(r, 422, "invalid")

    case_id = start_records_request(as_sendco, pupil.id)
    # An action the case's process does not have, and one no process has.
    answer = error_body(
        as_sendco.post(
            f"/api/v1/cases/{case_id}/actions/set-meeting", json={"meeting_at": "2027-01-20T10:00:00"}
        ),
        404,
        "not_found",
    )
    assert answer["message"] == "This case has no such action."
    error_body(as_sendco.post(f"/api/v1/cases/{case_id}/actions/no-such-action", json={}), 404, "not_found")
    # A payload the action's model refuses names the field as the body names it.
    answer = error_body(
        as_sendco.post(f"/api/v1/cases/{case_id}/actions/record-disclosure", json={"disclosed_on": "soon"}),
        422,
        "invalid",
    )
    assert answer["errors"][0]["field"] == "disclosed_on"
    # A workflow validator's refusal carries its reason in plain words.
    eventually(lambda: as_sendco.get(f"/api/v1/cases/{case_id}").json()["step"] == "preparing")
    future = (TODAY + dt.timedelta(days=400)).isoformat()
    answer = error_body(
        as_sendco.post(
            f"/api/v1/cases/{case_id}/actions/change-due-date",
            json={"key": "no-such-deadline", "due": future, "reason": "moved"},
        ),
        409,
        "conflict",
    )
    assert "Value error" not in answer["message"] and "{" not in answer["message"]


def test_an_unexpected_failure_is_a_500_with_an_error_id_in_the_log(
    as_sendco, pupil, monkeypatch, caplog
) -> None:  # type: ignore[no-untyped-def]
    import api.commands

    def broken(name: str) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(api.commands, "process_named", broken)
    marker = "marker-that-must-not-be-logged"
    body = {"process": "records_request", "pupil_id": pupil.id, "facts": {"request_received": marker}}
    with caplog.at_level(logging.ERROR, logger="api.errors"):
        r = as_sendco.post("/api/v1/cases", json=body)
    assert r.status_code == 500, r.text
    answer = r.json()
    assert answer["code"] == "internal" and re.fullmatch(r"[0-9a-f]{12}", answer["error_id"])
    assert answer["message"] == (
        f"Something went wrong on our side. Quote error {answer['error_id']} if you contact support."
    )
    [record] = [rec for rec in caplog.records if answer["error_id"] in rec.getMessage()]
    assert record.exc_info is not None  # the traceback is logged with the id ...
    assert marker not in caplog.text  # ... and never the request body
    assert "a bug" not in r.text


def test_a_late_deadline_says_how_many_days_late(as_sendco, pupil) -> None:  # type: ignore[no-untyped-def]
    received = TODAY - dt.timedelta(days=60)
    body = {
        "process": "records_request",
        "pupil_id": pupil.id,
        "facts": {"request_received": received.isoformat()},
    }
    r = as_sendco.post("/api/v1/cases", json=body)
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]

    def late() -> dict | None:  # type: ignore[type-arg]
        [row] = as_sendco.get("/api/v1/deadlines", params={"case_id": case_id}).json()["items"] or [None]
        return row if row and row["status"] in ("missed", "escalated") else None

    row = eventually(late)
    assert row["citation"] == "PIR reg 5(2)"
    assert row["days_late"] == (TODAY - dt.date.fromisoformat(row["due"])).days > 0


def test_a_case_offers_only_the_actions_of_its_step() -> None:
    from api.public import offered
    from store.casework import Case, CaseStatus, Deadline, DeadlineStatus
    from workflows.registry import PROCESSES

    now = dt.datetime.now(dt.UTC)
    case = Case(id="c", process="annual_review", workflow_id="w", pupil_id=1, school_id=1, started_by=1)
    case.started_at = case.updated_at = now

    def deadline(status: DeadlineStatus, completed: bool = False) -> Deadline:
        return Deadline(
            case_id="c", school_id=1, key="k", step="s", rule_id="AR-DUE", owner="sendco", due=TODAY,
            status=status, completed_at=now if completed else None,
        )  # fmt: skip

    review = PROCESSES["annual_review"]
    case.step = "planning"
    assert list(offered(review, case, [deadline(DeadlineStatus.pending)])) == [
        "set-meeting",
        "change-due-date",
    ]
    case.step = "meeting-set"
    assert set(offered(review, case, [deadline(DeadlineStatus.escalated)])) == {
        "reschedule-meeting", "record-advice", "record-parent-views", "record-attendance-reply",
        "record-meeting", "change-due-date",
    }  # fmt: skip
    # No open deadline (met, met late, cancelled, or done but not yet marked): no due date to change.
    for row in [
        deadline(DeadlineStatus.met),
        deadline(DeadlineStatus.met_late),
        deadline(DeadlineStatus.missed, True),
    ]:
        assert "change-due-date" not in offered(review, case, [row])
    case.status = CaseStatus.closed
    assert offered(review, case, [deadline(DeadlineStatus.pending)]) == {}


@pytest.mark.usefixtures("pupil")  # registers Kent's agencies, which an annual review emails
def test_an_action_that_only_notes_the_chronology_answers_once_the_note_is_written(
    as_sendco, engine, school, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Recording the parents' views changes no step: the answer comes when its chronology entry is in,
    not when the wait for the case's write runs out."""
    from api import commands

    pupil = new_pupil(engine, school, "E")
    r = as_sendco.post("/api/v1/cases", json=review(pupil.id))
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    eventually(lambda: as_sendco.get(f"/api/v1/cases/{case_id}").json()["step"] == "planning")
    ahead = TODAY + dt.timedelta(weeks=4)
    meeting = dt.datetime.combine(ahead + dt.timedelta(days=(2 - ahead.weekday()) % 7), dt.time(10))
    r = as_sendco.post(
        f"/api/v1/cases/{case_id}/actions/set-meeting",
        json={"meeting_at": meeting.isoformat(), "minutes": 60, "location": "SENCo office"},
    )
    assert r.status_code == 200, r.text
    monkeypatch.setattr(commands, "CASE_WRITE_WAIT", 30.0)
    began = dt.datetime.now()
    r = as_sendco.post(
        f"/api/v1/cases/{case_id}/actions/record-parent-views",
        json={"received_on": TODAY.isoformat(), "views": "More help at lunchtimes"},
    )
    assert r.status_code == 200, r.text
    assert (dt.datetime.now() - began).total_seconds() < 15  # well before the 30 s wait would end
    notes = as_sendco.get(f"/api/v1/cases/{case_id}/chronology").json()
    assert "parent-views-recorded" in [n["action"] for n in notes]
