"""My week for a SENDCo who works Wednesdays only, the headteacher's home, and the SEND register page with
its CSV export, in a real headless browser against the real app. The school's cases and deadlines are
written as the workflows write them (the case projections), dated from today."""

from __future__ import annotations

import csv
import datetime as dt
import io

import httpx
import pytest
from playwright.async_api import expect

from domain.dates import ENGLAND
from tests.web.browser import check_page, signed_in
from tests.web.wednesday import WednesdaySchool, wednesday_school_on


@pytest.fixture
def wednesday_school(engine) -> WednesdaySchool:  # type: ignore[no-untyped-def]
    return wednesday_school_on(engine, dt.datetime.now(ENGLAND).date())


async def test_my_week_for_a_wednesday_only_sendco(browser, api_url, wednesday_school) -> None:  # type: ignore[no-untyped-def]
    school = wednesday_school
    _, page = await signed_in(browser, api_url, school.sendco[1], csp=False)
    await expect(page.get_by_role("heading", name="My week")).to_be_visible()
    intro = page.locator("p.intro")
    await expect(intro).to_contain_text("You work on Wednesdays")
    back_on = f"{school.back_on:%a} {school.back_on.day} {school.back_on:%b %Y}"
    await expect(intro).to_contain_text(f"you are next in on {back_on}")

    def section(heading: str):  # type: ignore[no-untyped-def]
        return page.locator(f"h2:has-text('{heading}') + ul, h2:has-text('{heading}') + p")

    await expect(section("Overdue")).to_contain_text("Olive Overdue")
    await expect(section("Overdue")).to_contain_text("late by 3 days")
    due_soon = section("Due before your next working day")
    await expect(due_soon).to_contain_text("Tia Today")
    await expect(due_soon).to_contain_text("due today")
    await expect(due_soon).not_to_contain_text("Nell Nextweek")
    await expect(section("Coming up the week after")).to_contain_text("Nell Nextweek")
    waiting = section("Waiting on others")
    await expect(waiting).to_contain_text("Lars Waiting")
    await expect(waiting).to_contain_text("LA SEN team")
    await expect(section("Waiting for the headteacher")).to_contain_text("Release the educational record")
    await check_page(page, "my-week-wednesday")

    # The headteacher's home: the approval, and what is due before the SENDCo is next in (cover).
    _, head = await signed_in(browser, api_url, school.head[1], csp=False)
    await expect(head.get_by_role("heading", name="Approvals and escalations")).to_be_visible()
    await expect(head.locator("#approvals + ul")).to_contain_text("Tia Today")
    await expect(head.locator("#due-soon + p + ul")).to_contain_text("Tia Today")
    await check_page(head, "head-home-wednesday")


async def test_the_send_register_page_and_its_export(browser, api_url, wednesday_school) -> None:  # type: ignore[no-untyped-def]
    school = wednesday_school
    _, page = await signed_in(browser, api_url, school.sendco[1], csp=False)
    await page.goto("/register")
    rows = page.locator("table.register tbody tr")
    await expect(rows).to_have_count(4)
    olive = rows.filter(has_text="Olive Overdue")
    await expect(olive).to_contain_text("EHC plan (E)")
    await expect(olive).to_contain_text("Autistic spectrum disorder (ASD)")
    await expect(olive).to_contain_text("Parent's request to see the educational record")
    await expect(olive).to_contain_text("late by 3 days")
    await check_page(page, "register")

    await page.get_by_label("SEN provision").select_option("K")
    await page.get_by_label("Need").select_option("SEMH")
    await page.get_by_role("button", name="Filter").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Nell Nextweek")
    await expect(rows.first).to_contain_text("Social, emotional and mental health (SEMH)")

    async with page.expect_download() as download:
        await page.get_by_role("link", name="Download as a spreadsheet (CSV)").click()
    saved = await (await download.value).path()
    table = list(csv.reader(io.StringIO(saved.read_text())))
    assert table[0][:4] == ["UPN", "Name", "Year group", "SEN provision"]
    assert [row[1] for row in table[1:]] == ["Nell Nextweek"]  # the filters apply to the export


def test_home_signed_out_is_the_sign_in_page(api_url) -> None:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=api_url, follow_redirects=False) as anonymous:
        r = anonymous.get("/")
        assert (r.status_code, r.headers["location"]) == (303, "/signin")
        page = anonymous.get("/signin")
        assert page.status_code == 200 and "<h1>Sign in</h1>" in page.text
