"""The case pages in a real headless browser, against the real app, a Temporal dev server and the worker."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import httpx
import pytest_asyncio
from playwright.async_api import Browser, async_playwright, expect

from api.case_views import DeadlineView
from tests.api.test_mailbox import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import client_for
from tests.web.browser import SHOTS, post_by_hand, signed_in, until_shown
from workflows.registry import PROCESSES


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install -y chromium (make test does it)"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


@contextmanager
def cookie_client(base: str, token: str) -> Iterator[httpx.Client]:
    """A client signed in through the sign-in form, posting as the engine's own pages do (Origin, CSRF)."""
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30, headers={"Origin": base}) as client:
        assert client.post("/signin", data={"token": token}).status_code == 303
        found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', client.get("/cases").text)
        assert found is not None
        client.csrf = found.group(1)  # type: ignore[attr-defined]
        yield client


async def test_a_records_request_through_the_pages(
    browser, live_api, sendco, headteacher, teacher, pupil, smtp
) -> None:  # type: ignore[no-untyped-def]
    _, sendco_page = await signed_in(browser, live_api, sendco[1])
    _, head_page = await signed_in(browser, live_api, headteacher[1])
    _, teacher_page = await signed_in(browser, live_api, teacher[1])
    page = sendco_page

    for name in PROCESSES:  # every process's facts make a form
        await page.goto(f"/cases/new?process={name}")
        await expect(page.get_by_role("heading", name=PROCESSES[name].title)).to_be_visible()
        await page.screenshot(path=SHOTS / f"case_new_{name}.png", full_page=True)
    await page.goto("/cases")

    # Start a case through the form; a bad date first, refused with its reason and nothing lost.
    await page.get_by_role("link", name="Start a case").first.click()
    await expect(page.get_by_role("heading", name="Start a case")).to_be_visible()
    await page.get_by_label("Pupil").select_option(str(pupil.id))
    received = page.get_by_label("Request received")
    await expect(received).to_have_attribute("type", "date")
    await received.evaluate("input => { input.type = 'text'; }")  # as a browser without a date picker
    await received.fill("30/02/2026")
    await page.get_by_role("button", name="Start the case").click()
    await expect(page.get_by_role("alert")).to_contain_text("The case was not started")
    await page.screenshot(path=SHOTS / "case_new.png", full_page=True)
    await expect(page.locator(".field.invalid")).to_contain_text("Request received")
    await expect(page.locator(".field.invalid .field-error")).to_contain_text("There is no such date")
    await expect(page.get_by_label("Pupil")).to_have_value(str(pupil.id))
    await expect(received).to_have_value("30/02/2026")  # shown as typed, to be corrected
    await received.fill(f"{dt.date.today():%d/%m/%Y}")
    await page.get_by_role("button", name="Start the case").click()
    await expect(page).to_have_url(re.compile(r"/cases/[0-9a-f-]{36}$"))
    await expect(page.get_by_role("status")).to_contain_text("Case started")
    case_url = page.url.removeprefix(live_api)
    await until_shown(page, case_url, "Gather the educational record")

    # The working list shows it with its next deadline, the rule it comes from, and the days left;
    # a request received two months ago is late, and marked so.
    with client_for(live_api, sendco[1]) as api:
        received_long_ago = (dt.date.today() - dt.timedelta(days=60)).isoformat()
        body = {
            "process": "records_request",
            "pupil_id": pupil.id,
            "facts": {"request_received": received_long_ago},
        }
        late_url = f"/cases/{api.post('/api/v1/cases', json=body).json()['id']}"
    mine = f"/cases?status=open&pupil={pupil.id}"  # the pupil's own cases (other tests add many)
    await until_shown(page, mine, "late by", timeout=60)
    late = page.locator("tbody tr", has=page.locator(f'a[href="{late_url}"]'))
    await expect(late.locator(".due.late")).to_contain_text(re.compile(r"late by \d+ days"))
    await page.goto(mine)
    row = page.locator("tbody tr", has=page.locator(f'a[href="{case_url}"]'))
    await expect(row).to_contain_text("Ada Example")
    await expect(row).to_contain_text("Parent's request to see the educational record")
    await expect(row).to_contain_text("TR-RECORDS-ACCESS")
    await expect(row).to_contain_text(re.compile(r"due in \d+ days?|due today|due tomorrow"))
    await expect(row).to_contain_text("submit it for the headteacher's approval")
    await page.screenshot(path=SHOTS / "cases.png", full_page=True)

    # On the case: only what can be done now is offered; recording the disclosure (posted anyway) is
    # refused with the workflow's reason, and the form comes back as it was filled in.
    await row.get_by_role("link", name="Ada Example").click()
    await expect(page.get_by_text("TR-RECORDS-ACCESS").first).to_be_visible()
    await expect(page.get_by_text("PIR reg 5(2)").first).to_be_visible()
    offered = page.locator("details.action summary")
    await expect(offered).to_have_text(["Submit for approval", "Change a due date"])
    await expect(page.locator("#action-record-disclosure")).to_have_count(0)
    today = dt.date.today().isoformat()
    await post_by_hand(page, f"{case_url}/actions/record-disclosure", {"body.disclosed_on": today})
    await expect(page.get_by_role("alert").first).to_contain_text(
        "Record disclosure was not done. The headteacher has not approved releasing the record yet."
    )
    await expect(
        page.get_by_role("form", name="Record disclosure").get_by_label("Disclosed on")
    ).to_have_value(dt.date.today().isoformat())

    # Submit it for approval through the action form.
    await page.locator("#action-submit-for-approval summary").click()
    submit = page.get_by_role("form", name="Submit for approval")
    await submit.get_by_label("Note").fill("Record gathered, 14 pages")
    await submit.get_by_role("button", name="Submit for approval").click()
    await expect(page.get_by_role("status")).to_contain_text("Submit for approval: submitted")
    await until_shown(page, case_url, "Waiting for the headteacher")
    await expect(page.get_by_text("Record gathered, 14 pages").first).to_be_visible()
    await page.screenshot(path=SHOTS / "case.png", full_page=True)

    # A teacher sees the approval but no buttons, and cannot act or decide by posting anyway.
    await teacher_page.goto("/approvals")
    mine = teacher_page.locator("section.approval", has=teacher_page.locator(f'a[href="{case_url}"]'))
    await expect(mine).to_contain_text("Record gathered, 14 pages")
    await expect(teacher_page.get_by_role("button", name="Approve")).to_have_count(0)
    await expect(teacher_page.get_by_role("link", name="Start a case")).to_have_count(0)
    approval_id = (await mine.get_attribute("aria-labelledby") or "").removeprefix("approval-")
    await post_by_hand(teacher_page, f"/approvals/{approval_id}/decision", {"decision": "approve"})
    await expect(teacher_page.get_by_role("alert")).to_contain_text("Only the headteacher can do this.")
    await teacher_page.goto(case_url)
    await expect(teacher_page.get_by_text("Only the SENDCo or the headteacher can act")).to_be_visible()
    await expect(teacher_page.locator("details.action")).to_have_count(0)
    await post_by_hand(teacher_page, f"{case_url}/actions/submit-for-approval", {"body.note": "mine"})
    await expect(teacher_page.get_by_role("alert")).to_contain_text(
        "Only the SENDCo or headteacher can do this."
    )

    # The headteacher: a rejection needs a comment; then approve.
    await head_page.goto("/approvals")
    card = head_page.locator("section.approval", has=head_page.locator(f'a[href="{case_url}"]'))
    await card.get_by_role("button", name="Reject").click()
    await expect(head_page.get_by_role("alert")).to_contain_text("A rejection needs a comment")
    card = head_page.locator("section.approval", has=head_page.locator(f'a[href="{case_url}"]'))
    await head_page.screenshot(path=SHOTS / "approvals.png", full_page=True)
    await card.get_by_label("Comment").fill("Fine to release")
    await card.get_by_role("button", name="Approve").click()
    await expect(head_page.get_by_role("status")).to_contain_text("Decision recorded: approved")
    await until_shown(head_page, "/approvals", "Record gathered, 14 pages", gone=True)

    # Back as the SENDCo: the case moved to disclosing, and the chronology says who did what.
    await until_shown(page, case_url, "Give the parent access to the record")
    await expect(page.get_by_text("Disclosing", exact=True)).to_be_visible()
    chronology = page.locator("table", has=page.get_by_role("columnheader", name="When"))
    submitted = chronology.locator("tr", has_text="Submitted for approval")
    await expect(submitted).to_contain_text(f"{sendco[0].name} (SENDCo)")
    approved = chronology.locator("tr", has_text="Approval approved")
    await expect(approved).to_contain_text(f"{headteacher[0].name} (headteacher)")

    await page.locator("#action-record-disclosure summary").click()
    disclose = page.get_by_role("form", name="Record disclosure")
    await disclose.get_by_label("Disclosed on").fill(dt.date.today().isoformat())
    await disclose.get_by_role("button", name="Record disclosure").click()
    await expect(page.get_by_role("status")).to_contain_text("Record disclosure: recorded")
    await until_shown(page, case_url, "the request has been answered")
    await expect(page.locator("details.action")).to_have_count(0)


def test_deadline_words_and_highlight() -> None:
    today = dt.date.today()

    def due_in(days: int, status: str = "pending", done_late_by: int | None = None) -> DeadlineView:
        due = today + dt.timedelta(days)
        done = due + dt.timedelta(done_late_by) if done_late_by is not None else None
        return DeadlineView("k", "respond", "TR-RECORDS-ACCESS", "", "", "sendco", due, status, days, done)

    assert (due_in(20).words, due_in(20).urgency) == ("due in 20 days", "")
    assert (due_in(7).words, due_in(7).urgency) == ("due in 7 days", "soon")
    assert (due_in(1).words, due_in(0).words, due_in(0).urgency) == ("due tomorrow", "due today", "soon")
    assert (due_in(-1, "missed").words, due_in(-1, "missed").urgency) == ("late by 1 day", "late")
    assert due_in(-3, "escalated").words == "late by 3 days: the headteacher has been told"
    assert due_in(3, "escalated").urgency == "late"  # a moved date does not hide an escalation
    assert (due_in(-5, "met", 0).words, due_in(-5, "met", 0).urgency) == ("done on time", "")
    assert due_in(-5, "met", -2).words == "done on time"
    assert due_in(-5, "met_late", 4).words == "done late by 4 days"
    assert due_in(-5, "cancelled").words == "no longer needed"


def test_pages_need_signing_in(api_url) -> None:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=api_url, follow_redirects=False) as anonymous:
        for path in ("/cases", "/cases/new", "/cases/some-case", "/approvals"):
            r = anonymous.get(path)
            assert r.status_code == 303, path
            assert r.headers["location"].startswith("/signin?next="), path
        r = anonymous.get("/cases", params={"status": "open"})
        assert r.headers["location"] == "/signin?next=%2Fcases%3Fstatus%3Dopen"
        assert anonymous.post("/approvals/1/decision", data={"decision": "approve"}).status_code == 303


def test_no_worker_answering_keeps_the_form(app, live_api, sendco, pupil, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import api.temporal_calls

    monkeypatch.setattr(api.temporal_calls, "ANSWER_WITHIN", dt.timedelta(seconds=2))
    form = {"process": "records_request", "pupil_id": str(pupil.id), "facts.request_received": "2026-11-20"}
    with cookie_client(live_api, sendco[1]) as client:
        before = client.get("/api/v1/cases").json()["total"]
        queue = app.state.task_queue
        app.state.task_queue = "nobody-polls-this-queue"
        try:
            r = client.post("/cases/new", data={**form, "csrf_token": client.csrf})
        finally:
            app.state.task_queue = queue
        assert r.status_code == 503
        assert "The case engine is not answering just now, so nothing was done" in r.text
        assert 'value="2026-11-20"' in r.text and f'<option value="{pupil.id}" selected>' in r.text
        assert client.get("/api/v1/cases").json()["total"] == before

        r = client.get("/cases", params={"status": "nonsense", "process": "nonsense"})
        assert r.status_code == 200  # unknown filters are ignored, not an error page
        missing = client.get("/cases/no-such-case")
        assert missing.status_code == 404 and "There is no such case" in missing.text


async def test_an_annual_review_started_with_its_invitees_ticked(browser, live_api, sendco, pupil) -> None:  # type: ignore[no-untyped-def]
    _, page = await signed_in(browser, live_api, sendco[1])
    await page.goto("/cases/new?process=annual_review")
    await page.get_by_label("Pupil", exact=True).select_option(str(pupil.id))
    await page.get_by_label("Plan issued or last review concluded").fill(
        (dt.date.today() - dt.timedelta(days=60)).isoformat()
    )
    await page.get_by_label("Year group then").fill("6")
    invitees = page.get_by_role("group", name=re.compile("^Also invite"))
    advisers = page.get_by_role("group", name=re.compile("^Ask for written advice from"))
    # The parent, headteacher, LA SEN officer, health and social care are always invited: not offered.
    await expect(invitees.get_by_role("checkbox")).to_have_count(2)
    await expect(invitees.get_by_label("Health")).to_have_count(0)
    await invitees.get_by_label("EP service").check()
    await advisers.get_by_label("EP service").check()
    await page.screenshot(path=SHOTS / "case_new_annual_review_ticked.png", full_page=True)

    # A Year 6 pupil is not under 5: refused, and the ticked boxes are still ticked.
    await page.get_by_label("Under 5 (reviews every few months)", exact=True).check()
    await page.get_by_role("button", name="Start the case").click()
    await expect(page.get_by_role("alert")).to_contain_text("The case was not started")
    await expect(page.locator(".field.invalid")).to_contain_text("is not under 5")
    await expect(invitees.get_by_label("EP service")).to_be_checked()
    await expect(advisers.get_by_label("EP service")).to_be_checked()
    await expect(advisers.get_by_label("Health")).not_to_be_checked()
    await page.get_by_label("Under 5 (reviews every few months)", exact=True).uncheck()
    await page.get_by_role("button", name="Start the case").click()
    await expect(page.get_by_role("status")).to_contain_text("Case started")

    # The case (once the workflow has written its facts) has the EP as an invitee and an adviser.
    case_url = page.url.removeprefix(live_api)
    await until_shown(page, case_url, "Invited")
    about = page.locator("dl.fields.view")  # the workflow's own view of the case
    await expect(about.locator("dt", has_text="Invited").locator("+ dd")).to_contain_text("(EP service)")
    advice = about.locator("dt", has_text="Ask for written advice from").locator("+ dd")
    await expect(advice).to_have_text("Kent Educational Psychology (EP service)")
    # At planning only setting the meeting (and moving a due date) is offered.
    await expect(page.locator("details.action summary")).to_have_text(
        ["Set the review meeting", "Change a due date"]
    )
    with client_for(live_api, sendco[1]) as api:
        case = api.get(f"/api/v1{case_url}").json()
    view, given = case["view"], case["facts"]
    assert "ep_service" in view["invitees"] and view["advisers"] == ["ep_service"]
    assert given["advisers"] == [{"kind": "ep_service", "staff_id": None, "agency_id": None}]  # as given
