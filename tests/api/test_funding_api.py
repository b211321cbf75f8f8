"""The funding figures over HTTP: `GET /api/v1/funding` and the /funding page, for the SENDCo and the
headteacher only, and only their own school's applications.

The award rows are written as the funding application's activity writes them (store.funding_service), for
a school year of their own (2031/32) so that the workflow tests' rows do not mix in.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.async_api import expect
from sqlmodel import Session

from domain.funding_application import FundingAwardRecord
from store import case_service, funding_service
from store.register import Pupil, School, Staff
from store.tokens import issue_token
from tests.api import test_pages
from tests.api.test_pages import SHOTS, signed_in, until_shown
from tests.api.test_sessions import signed_in_browser
from tests.conftest import client_for

YEAR = 2031
browser = test_pages.browser  # the pages' headless Chromium fixture


def _pupil(s: Session, school_id: int, name: str, staff_id: int) -> tuple[int, str]:
    child = Pupil(
        school_id=school_id,
        legal_name=name,
        date_of_birth=dt.date(2022, 3, 1),
        year_group=4,
        sen_provision="K",
        needs=["SLCN"],
    )
    s.add(child)
    s.commit()
    case = case_service.open_case(
        s,
        case_id=str(uuid.uuid4()),
        process="funding_application",
        pupil_id=child.id,  # type: ignore[arg-type]
        school_id=school_id,
        started_by=staff_id,
        facts={"kind": "top_up", "year_group": 4},
    )
    return child.id, case.id  # type: ignore[return-value]


def _award(s: Session, case_id: str, pupil_id: int, school_id: int, attempt: int, **extra: object) -> None:
    record = FundingAwardRecord(
        case_id=case_id,
        attempt=attempt,
        pupil_id=pupil_id,
        school_id=school_id,
        kind="top_up",
        submitted_on=dt.date(YEAR, 10, 1),
        **extra,  # type: ignore[arg-type]
    )
    funding_service.record_award(s, award=record)


@pytest.fixture(scope="module")
def funded(engine, school, sendco) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """At the test school: one pupil partly awarded after a decline, one pending. At another: one awarded."""
    with Session(engine, expire_on_commit=False) as s:
        ada, ada_case = _pupil(s, school.id, "Ada Funded", sendco[0].id)
        _award(s, ada_case, ada, school.id, 1, status="declined", asked=3500.0, reason="More evidence")
        _award(
            s,
            ada_case,
            ada,
            school.id,
            2,
            status="partial",
            asked=3500.0,
            awarded=2000.0,
            decided_on=dt.date(YEAR, 10, 20),
            starts_on=dt.date(YEAR, 11, 1),
            ends_on=dt.date(YEAR + 1, 10, 31),
        )
        ben, ben_case = _pupil(s, school.id, "Ben Pending", sendco[0].id)
        _award(s, ben_case, ben, school.id, 1, status="pending", asked=1200.0)

        other = School(name="Other Primary", local_authority="Kent")
        s.add(other)
        s.commit()
        their_sendco = Staff(
            school_id=other.id, name="Other SENDCo", email="other-sendco@example.org", role="sendco"
        )
        s.add(their_sendco)
        s.commit()
        cal, cal_case = _pupil(s, other.id, "Cal Elsewhere", their_sendco.id)  # type: ignore[arg-type]
        _award(s, cal_case, cal, other.id, 1, status="approved", asked=9000.0, awarded=9000.0)
        return {"ada": ada, "ben": ben, "their_token": issue_token(s, their_sendco.id)}  # type: ignore[arg-type]


@pytest.fixture
def as_other_sendco(api_url, funded) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    with client_for(api_url, funded["their_token"]) as c:  # type: ignore[arg-type]
        yield c


def test_the_sendco_and_the_headteacher_see_awarded_and_pending_per_pupil(as_sendco, as_head, funded):  # type: ignore[no-untyped-def]
    for client in (as_sendco, as_head):
        got = client.get("/api/v1/funding", params={"school_year": YEAR})
        assert got.status_code == 200, got.text
        body = got.json()
        assert (body["school_year"], body["starts"], body["ends"]) == ("2031/32", "2031-09-01", "2032-08-31")
        assert (body["awarded"], body["pending"]) == (2000.0, 1200.0)
        pupils = {p["legal_name"]: p for p in body["pupils"]}
        assert set(pupils) == {"Ada Funded", "Ben Pending"}
        ada = pupils["Ada Funded"]
        assert (ada["awarded"], ada["pending"]) == (2000.0, 0.0)
        assert [(a["attempt"], a["status"], a["difference"]) for a in ada["applications"]] == [
            (1, "declined", None),
            (2, "partial", 1500.0),
        ]
        assert ada["applications"][0]["reason"] == "More evidence"
        assert (pupils["Ben Pending"]["awarded"], pupils["Ben Pending"]["pending"]) == (0.0, 1200.0)


def test_another_schools_funding_is_never_shown(as_sendco, as_other_sendco, funded):  # type: ignore[no-untyped-def]
    ours = as_sendco.get("/api/v1/funding", params={"school_year": YEAR}).json()
    theirs = as_other_sendco.get("/api/v1/funding", params={"school_year": YEAR}).json()
    assert "Cal Elsewhere" not in {p["legal_name"] for p in ours["pupils"]}
    assert [p["legal_name"] for p in theirs["pupils"]] == ["Cal Elsewhere"]
    assert (theirs["awarded"], theirs["pending"]) == (9000.0, 0.0)


def test_other_staff_are_refused_and_the_signed_out_asked_to_sign_in(as_teacher, api_url, funded):  # type: ignore[no-untyped-def]
    refused = as_teacher.get("/api/v1/funding")
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    assert refused.json()["message"] == "Only the SENDCo or headteacher can do this."
    with client_for(api_url, None) as anonymous:
        assert anonymous.get("/api/v1/funding").status_code == 401


def test_the_funding_page_shows_the_year_to_the_headteacher_only(api_url, headteacher, teacher, funded):  # type: ignore[no-untyped-def]
    with signed_in_browser(api_url, headteacher[1]) as web:
        shown = web.get("/funding", params={"school_year": YEAR})
        assert shown.status_code == 200
        html = shown.text
        assert "High needs funding and SENIF, 2031/32" in html
        assert "£2,000.00" in html and "£1,200.00" in html
        assert "Ada Funded" in html and "Ben Pending" in html and "Cal Elsewhere" not in html
        assert "(£1,500.00 less than asked)" in html
        assert "Reason: More evidence" in html
        assert 'href="/funding" aria-current="page">Funding</a>' in html
    with signed_in_browser(api_url, teacher[1]) as web:
        refused = web.get("/funding")
        assert refused.status_code == 403
        assert "Only the SENDCo or headteacher can do this." in refused.text
        assert 'href="/funding"' not in web.get("/cases").text


async def test_an_application_and_the_funding_page_in_the_browser(
    browser, live_api, sendco, headteacher, pupil, funded, smtp
):  # type: ignore[no-untyped-def]
    """The SENDCo opens an application through the API; its page says what is missing, in words; the
    headteacher's funding page fits a phone's width."""
    with client_for(live_api, sendco[1]) as api:
        facts = {"kind": "top_up", "year_group": 6, "summary": "Daily 1:1 support in class"}
        started = api.post(
            "/api/v1/cases", json={"process": "funding_application", "pupil_id": pupil.id, "facts": facts}
        )
        assert started.status_code == 201, started.text
        case_url = f"/cases/{started.json()['id']}"
    _, page = await signed_in(browser, live_api, sendco[1])
    await until_shown(page, case_url, "Complete the evidence for the LA")
    await expect(page.get_by_text("Still missing: The last two reviewed support plans")).to_be_visible()
    await expect(page.get_by_text("not above the £6,000.00 threshold (HNF-THRESHOLD)").first).to_be_visible()
    await expect(
        page.locator("summary", has_text="Ask the headteacher to sign the application off")
    ).to_be_visible()
    await page.screenshot(path=SHOTS / "funding_case.png", full_page=True)

    _, head = await signed_in(browser, live_api, headteacher[1])
    await head.set_viewport_size({"width": 390, "height": 844})
    await head.goto(f"/funding?school_year={YEAR}")
    await expect(head.get_by_role("heading", name="High needs funding and SENIF, 2031/32")).to_be_visible()
    assert await head.evaluate("document.documentElement.scrollWidth") <= 390
    await head.screenshot(path=SHOTS / "funding.png", full_page=True)
