"""Every 422 of the JSON API in plain words: what to enter, never pydantic's text, a field name or a repr.

Bad bodies are posted to the routes people's tools call (start a case, an action, register pupils and
parents), and the reasons compared with the words of domain.words; a property test posts many more.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import words
from tests.api.test_case_commands import error_body, new_pupil, review
from tests.api.test_cases_api import start_records_request

pytestmark = pytest.mark.usefixtures("live_api")

# What never reaches a person: pydantic's and Python's own text.
PYDANTIC = re.compile(
    r"Input should|Value error|Assertion failed|Field required|type=|String should|List should|"
    r"Dictionary should|invalid character|Extra inputs|Invalid isoformat|Traceback|Error\b|"
    r"\{'|\['|'\]|\bNone\b|<class|datetime\.|pydantic",
)


def reasons(answer: dict[str, Any]) -> dict[str | None, str]:
    """Each field's reason, and the message, checked for pydantic's text."""
    found = {e["field"]: e["reason"] for e in answer["errors"]}
    for text in [answer["message"], *found.values()]:
        assert not PYDANTIC.search(text), text
    return found


def refused(r: httpx.Response) -> dict[str | None, str]:
    return reasons(error_body(r, 422, "invalid"))


@pytest.fixture
def review_case(as_sendco, engine, school, pupil) -> str:  # type: ignore[no-untyped-def]
    """An annual review case (its pupil's LA has the agencies it emails)."""
    r = as_sendco.post("/api/v1/cases", json=review(new_pupil(engine, school, "E").id))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_a_case_start_with_bad_facts_says_what_to_enter(as_sendco, engine, school, pupil) -> None:  # type: ignore[no-untyped-def]
    found = refused(as_sendco.post("/api/v1/cases", json={"process": "annual_review", "pupil_id": "Sam"}))
    assert found == {"pupil_id": "Enter a whole number, such as 3"}
    body = review(new_pupil(engine, school, "E").id, cycle_start="20/01/2027", year_group="six")
    found = refused(as_sendco.post("/api/v1/cases", json=body))
    assert found == {
        "facts.cycle_start": words.API_DATE_WANTED,
        "facts.year_group": "Enter a whole number, such as 3",
    }
    found = refused(as_sendco.post("/api/v1/cases", json={"pupil_id": pupil.id}))
    assert found == {"process": words.FILL_IN}
    found = refused(
        as_sendco.post(
            "/api/v1/cases", json={"process": "records_request", "pupil_id": pupil.id, "facts": {}}
        )
    )
    assert found == {"facts.request_received": words.FILL_IN}
    found = refused(as_sendco.post("/api/v1/cases", json=["records_request"]))
    assert set(found.values()) == {"Send an object of named fields, as the API describes"}


def test_an_action_with_a_bad_payload_says_what_to_enter(as_sendco, pupil) -> None:  # type: ignore[no-untyped-def]
    case_id = start_records_request(as_sendco, pupil.id)
    action = f"/api/v1/cases/{case_id}/actions/record-disclosure"
    assert refused(as_sendco.post(action, json={"disclosed_on": "2027-01-32"})) == {
        "disclosed_on": words.API_DATE_WANTED
    }
    assert refused(as_sendco.post(action, json={})) == {"disclosed_on": words.FILL_IN}
    change = f"/api/v1/cases/{case_id}/actions/change-due-date"
    found = refused(as_sendco.post(change, json={"key": "x", "due": "2027-01-20", "reason": "r" * 5000}))
    assert found["reason"].startswith("Keep it to ") and found["reason"].endswith(" characters or fewer")


def test_register_pupils_and_parents_with_bad_bodies_say_what_to_enter(as_sendco) -> None:  # type: ignore[no-untyped-def]
    pupil = {
        "legal_name": "x" * 201,
        "date_of_birth": "31/02/2015",
        "year_group": 20,
        "sen_provision": "Q",
        "needs": "SPLD",
    }
    found = refused(as_sendco.post("/api/v1/pupils", json=pupil))
    assert found["legal_name"] == "Keep it to 200 characters or fewer"
    assert found["date_of_birth"] == words.API_DATE_WANTED
    assert found["year_group"] == "Enter 14 or less"
    assert found["sen_provision"] == "Choose one of the options the API describes"
    assert found["needs"] == "Send a list, such as [1, 2]"
    parent = {"name": "", "email": "not-an-address", "pupil_ids": ["one"]}
    found = refused(as_sendco.post("/api/v1/parents", json=parent))
    assert found["name"] == words.FILL_IN
    assert found["email"] == words.EMAIL_WANTED
    assert found["pupil_ids.0"] == "Enter a whole number, such as 3"


def test_a_meeting_without_a_time_is_refused_by_the_json_api(as_sendco, review_case) -> None:  # type: ignore[no-untyped-def]
    for action, extra in (("set-meeting", {}), ("reschedule-meeting", {"reason": "moved"})):
        path = f"/api/v1/cases/{review_case}/actions/{action}"
        for bare in ("2027-01-20", "2027-01-20 ", 1800000000, "20270120"):
            found = refused(as_sendco.post(path, json={"meeting_at": bare, **extra}))
            assert found == {"meeting_at": words.MEETING_TIME_WANTED}, (action, bare)
    # With a time it is past validation (the case then answers for itself: not 422).
    path = f"/api/v1/cases/{review_case}/actions/set-meeting"
    at = (dt.date.today() + dt.timedelta(days=40)).isoformat() + "T10:00"
    assert as_sendco.post(path, json={"meeting_at": at}).status_code != 422


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(["2027-02-30", "20/01/2027", "2027-01-20T25:00", "soon", "1e9", "", " ", "E", "SPLD"]),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
ROUTES = {
    "/api/v1/pupils": ["legal_name", "date_of_birth", "year_group", "sen_provision", "needs", "upn"],
    "/api/v1/parents": ["name", "email", "relationship", "pupil_ids"],
    "/api/v1/cases": ["process", "pupil_id", "facts"],
}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(sorted(ROUTES)), data=st.data())
def test_no_reason_for_any_bad_body_is_pydantic_text(as_sendco, route: str, data: st.DataObject) -> None:  # type: ignore[no-untyped-def]
    fields = data.draw(st.lists(st.sampled_from(ROUTES[route]), unique=True))
    body = {f: data.draw(VALUES, label=f) for f in fields}
    r = as_sendco.post(route, json=body)
    if r.status_code == 422:
        for reason in refused(r).values():
            assert reason and "_" not in reason.split(" such as ")[0], reason


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=VALUES, field=st.sampled_from(["meeting_at", "minutes", "location", "breach_reason"]))
def test_no_reason_for_any_bad_meeting_is_pydantic_text(as_sendco, review_case, value, field) -> None:  # type: ignore[no-untyped-def]
    body = {"meeting_at": "2027-01-20", field: value}
    r = as_sendco.post(f"/api/v1/cases/{review_case}/actions/set-meeting", json=body)
    assert r.status_code == 422, r.text
    refused(r)
