"""A SENDCo's whole annual review cycle through the pages, and the headteacher approving the report after
reading it: a real headless browser against the real app, a Temporal dev server, the worker and the SMTP
sink. Every main page is checked at 1280 and 390 px (screenshots, no sideways scrolling, axe-core) and
for words a person should never read."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.async_api import Locator, Page, expect

from domain.dates import ENGLAND
from store.register import Parent, Pupil
from tests.conftest import client_for
from tests.web.browser import check_page, ehcp_family, leaks, signed_in, until_shown


@pytest.fixture
def review_pupil(engine, school, pupil) -> tuple[Pupil, Parent]:  # type: ignore[no-untyped-def]
    """A Year 6 pupil with an EHC plan and a parent, of Kent (whose agencies `pupil` registers)."""
    return ehcp_family(engine, school, "Review ")


async def type_date(field: Locator, day: dt.date) -> None:
    """Type a date as 20/01/2027, as a browser without a date picker (or a person typing) would."""
    await field.evaluate("input => { input.type = 'text'; }")
    await field.fill(f"{day:%d/%m/%Y}")


async def act(page: Page, title: str) -> Locator:
    """Open one of the case's actions (if it is not open already); the form it holds."""
    details = page.locator("details.action", has=page.locator("summary", has_text=title))
    if await details.get_attribute("open") is None:
        await details.locator("summary").click()
    return page.get_by_role("form", name=title)


async def test_a_whole_annual_review_cycle_through_the_pages(
    browser, live_api, sendco, headteacher, review_pupil, smtp
) -> None:  # type: ignore[no-untyped-def]
    smtp.clear()
    pupil, parent = review_pupil
    _, page = await signed_in(browser, live_api, sendco[1], csp=False)
    _, head = await signed_in(browser, live_api, headteacher[1], csp=False)
    today = dt.datetime.now(ENGLAND).date()
    await check_page(page, "my-week")

    # Start the case: the plan was issued 11 months ago, so the meeting is due soon.
    await page.goto("/cases/new?process=annual_review")
    await page.get_by_label("Pupil", exact=True).select_option(str(pupil.id))
    await type_date(page.get_by_label("Plan issued or last review concluded"), today - dt.timedelta(days=330))
    await page.get_by_label("Year group then").fill("6")
    await check_page(page, "case-new")
    await page.get_by_role("button", name="Start the case").click()
    await expect(page.get_by_role("status")).to_contain_text("Case started")
    case_url = page.url.removeprefix(live_api)
    await until_shown(page, case_url, "Set the date of the annual review meeting")

    # At the top: what to do next, in words; only setting the meeting (and moving a date) is offered.
    await expect(page.locator("#next-action + p")).to_contain_text(
        "Set the date of the annual review meeting by"
    )
    await expect(page.locator("details.action summary")).to_have_text(
        ["Set the review meeting", "Change a due date"]
    )
    deadlines = page.locator("table.deadlines")
    await expect(deadlines).to_contain_text("AR-DUE")
    await expect(deadlines).to_contain_text(
        re.compile(r"due in \d+ days|due tomorrow|due today|late by", re.I)
    )
    await expect(deadlines).to_contain_text("SENDCo")
    await check_page(page, "case-planning")

    # A meeting needs a time: a date alone is refused, saying what is wanted, and nothing is lost.
    form = await act(page, "Set the review meeting")
    await type_date(form.get_by_label(re.compile("^Date")), today)
    await form.get_by_label(re.compile("^Time")).evaluate("input => { input.required = false; }")
    await form.get_by_role("button", name="Set the review meeting").click()
    form = page.get_by_role("form", name="Set the review meeting")
    await expect(form.locator(".field.invalid .field-error")).to_contain_text("Enter the time too, as 10:00")
    await expect(form.get_by_label(re.compile("^Date"))).to_have_value(f"{today:%d/%m/%Y}")
    # Today is short notice: refused with the reason in words, and what to do.
    await form.get_by_label(re.compile("^Time")).fill("15:30")
    await form.get_by_role("button", name="Set the review meeting").click()
    alert = page.get_by_role("alert").first
    await expect(alert).to_contain_text("Set the review meeting was not done")
    await expect(alert).to_contain_text("record a reason for the late or short-notice date")
    assert not leaks(await alert.inner_text())
    form = page.get_by_role("form", name="Set the review meeting")
    await form.get_by_label("Reason, if the date is late or at short notice").fill(
        "The family asked for this week"
    )
    await form.get_by_role("button", name="Set the review meeting").click()
    flash = page.get_by_role("status")
    await expect(flash).to_contain_text("Set the review meeting:")
    await expect(flash).to_contain_text("15:30")
    await expect(flash).to_contain_text("Next: record the advice as it arrives (still waiting for: health")
    assert not leaks(await flash.inner_text())

    # Advice: the adviser is chosen from those asked, by name and role.
    await until_shown(page, case_url, "Record advice received")
    form = await act(page, "Record advice received")
    adviser = form.get_by_label("Adviser")
    options = await adviser.locator("option").all_inner_texts()
    assert (
        "Kent Community Health (health)" in options and "Kent Children's Social Care (social care)" in options
    ), options
    await check_page(page, "case-meeting-set")
    for name, text in (
        ("Kent Community Health (health)", "Health advice: hearing checked"),
        ("Kent Children's Social Care (social care)", "Social care: no concerns"),
    ):
        form = await act(page, "Record advice received")
        await form.get_by_label("Adviser").select_option(label=name)
        await form.get_by_label("Received on").fill(today.isoformat())
        await form.get_by_label("Summary").fill(text)
        await form.get_by_role("button", name="Record advice received").click()
        await expect(page.get_by_role("status")).to_contain_text("Record advice received: recorded")
    form = await act(page, "Record the parents' views")
    await type_date(form.get_by_label("Received on"), today)
    await form.get_by_label("Views").fill("We would like more help at lunchtimes")
    await form.get_by_role("button", name="Record the parents' views").click()
    await expect(page.get_by_role("status")).to_contain_text("Record the parents' views: recorded")

    # The meeting: who attended, ticked by name.
    form = await act(page, "Record the meeting")
    attended = form.get_by_role("group", name=re.compile("^Attended"))
    await attended.get_by_label(f"{parent.name} (parent or carer)").check()
    await attended.get_by_label(f"{headteacher[0].name} (headteacher)").check()
    await form.get_by_label("Pupil views").fill("Likes maths")
    await form.get_by_label("Parent views").fill("Pleased with reading")
    await form.get_by_label("Progress towards the outcomes").fill("Two of three outcomes met")
    await form.get_by_label("Recommendation").select_option(label="Keep the plan as it is")
    await form.get_by_role("button", name="Record the meeting").click()
    await expect(page.get_by_role("status")).to_contain_text("Record the meeting: keep the plan as it is")

    await until_shown(page, case_url, "Submit the report for the headteacher's approval")
    form = await act(page, "Submit the report for the headteacher's approval")
    await form.get_by_label("Report").fill("The review recommends keeping the plan: see the outcomes.")
    await form.get_by_role("button", name="Submit the report for the headteacher's approval").click()
    await expect(page.get_by_role("status")).to_contain_text("submitted")

    # The headteacher reads what they approve: the report, the advice and views, the breach flag.
    await until_shown(head, "/approvals", pupil.legal_name)
    card = head.locator("section.approval", has=head.locator(f'a[href="{case_url}"]'))
    for seen in (
        "The review recommends keeping the plan",
        "Health advice: hearing checked",
        "Social care: no concerns",
        "We would like more help at lunchtimes",
        "Keep the plan as it is",
        "Meeting date late or at short notice",
    ):
        await expect(card).to_contain_text(seen)
    await check_page(head, "approvals")
    await head.goto("/")
    with client_for(live_api, headteacher[1]) as api:  # this review's, and other tests' cases at the school
        pending = api.get("/api/v1/approvals").json()["total"]
    waiting = head.get_by_role("heading", name=re.compile("Waiting for your approval"))
    await expect(waiting).to_contain_text(f"({pending})")
    await expect(head.locator("main")).to_contain_text(pupil.legal_name)
    await check_page(head, "head-home")
    await head.goto("/approvals")
    card = head.locator("section.approval", has=head.locator(f'a[href="{case_url}"]'))
    await card.get_by_label("Comment").fill("Clear and complete")
    await card.get_by_role("button", name="Approve").click()
    await expect(head.get_by_role("status")).to_contain_text("Decision recorded: approved")
    await expect(head.locator("section.approval", has=head.locator(f'a[href="{case_url}"]'))).to_have_count(0)

    # Back to the SENDCo: the report went to the LA; record the LA's decision; the next cycle begins.
    await until_shown(page, case_url, "Record the LA's decision")
    await check_page(page, "case-awaiting-la")
    form = await act(page, "Record the LA's decision")
    await type_date(form.get_by_label("Decided on"), today)
    await form.get_by_label("Decision", exact=True).select_option(label="Keep the plan as it is")
    await form.get_by_role("button", name="Record the LA's decision").click()
    await expect(page.get_by_role("status")).to_contain_text("Record the LA's decision")
    await until_shown(page, case_url, "Planning the review meeting")
    await expect(page.locator("details.emails-list > summary")).to_contain_text("all delivered")
    await page.locator("details.emails-list > summary").click()
    await expect(page.locator("table.emails")).to_contain_text("Delivered")
    chronology = page.locator("table.chronology")
    await expect(chronology.locator("tr", has_text="Approval approved")).to_contain_text(
        f"{headteacher[0].name} (headteacher)"
    )
    await check_page(page, "case-next-cycle")

    # What people received: no staff-only link to parents; the headteacher's summary has the report.
    to_parent = smtp.to(parent.email)
    assert to_parent, "the parent got no email"
    for message in to_parent:
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert "/cases/" not in body, message["Subject"]
        assert not leaks(body), (message["Subject"], leaks(body))
    [approval] = [m for m in smtp.to(headteacher[0].email) if m["Subject"].startswith("Approval needed")]
    summary = approval.get_body(preferencelist=("plain",)).get_content()
    assert "The review recommends keeping the plan" in summary
    assert "Health advice: hearing checked" in summary
