"""My week for a SENDCo who works Wednesdays only, the headteacher's home, and the SEND register page with
its CSV export, in a real headless browser against the real app. The school's cases and deadlines are
written as the workflows write them (the case projections), dated from today."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from dataclasses import dataclass

import httpx
import pytest
from playwright.async_api import expect
from sqlmodel import Session

from domain.dates import ENGLAND
from domain.deadline_states import DeadlineState
from domain.schemas import Role
from store import case_service
from store.casework import Approval, Deadline
from store.register import Pupil, School, Staff
from store.tokens import issue_token
from tests.web.browser import check_page, signed_in

WEDNESDAY = 2


@dataclass
class WednesdaySchool:
    sendco: tuple[Staff, str]
    head: tuple[Staff, str]
    pupils: dict[str, Pupil]
    back_on: dt.date


def next_wednesday(after: dt.date) -> dt.date:
    later = after + dt.timedelta(days=1)
    while later.weekday() != WEDNESDAY:
        later += dt.timedelta(days=1)
    return later


@pytest.fixture
def wednesday_school(engine) -> WednesdaySchool:  # type: ignore[no-untyped-def]
    """A school whose SENDCo works Wednesdays only: four pupils, each case with one open deadline."""
    today = dt.datetime.now(ENGLAND).date()
    back_on = next_wednesday(today)
    with Session(engine, expire_on_commit=False) as s:
        school = School(name=f"Wednesday Primary {uuid.uuid4().hex[:4]}", local_authority="Kent")
        school.sendco_working_days = [WEDNESDAY]
        s.add(school)
        s.commit()
        people = {}
        for role, name in ((Role.sendco, "Rita Wednesday"), (Role.headteacher, "Hal Head")):
            staff = Staff(
                school_id=school.id, name=name, email=f"{uuid.uuid4().hex[:8]}@example.org", role=role
            )
            s.add(staff)
            s.commit()
            people[role] = (staff, issue_token(s, staff.id))
        pupils = {}
        plan = (
            ("Olive Overdue", "E", ["ASD"], "sendco", today - dt.timedelta(days=3), DeadlineState.missed),
            ("Tia Today", "K", ["SLCN"], "sendco", today, DeadlineState.pending),
            (
                "Nell Nextweek",
                "K",
                ["SEMH", "SPLD"],
                "sendco",
                back_on + dt.timedelta(days=2),
                DeadlineState.pending,
            ),
            ("Lars Waiting", "E", ["HI"], "la_sen", today + dt.timedelta(days=10), DeadlineState.pending),
        )
        for name, provision, needs, owner, due, state in plan:
            pupil = Pupil(
                school_id=school.id,
                legal_name=name,
                date_of_birth=dt.date(2016, 1, 1),
                year_group=4,
                sen_provision=provision,
                needs=needs,
                local_authority="Kent",
            )
            s.add(pupil)
            s.commit()
            pupils[name] = pupil
            case = case_service.open_case(
                s,
                case_id=str(uuid.uuid4()),
                process="records_request",
                pupil_id=pupil.id,
                school_id=school.id,
                started_by=people[Role.sendco][0].id,
                facts={"request_received": (due - dt.timedelta(days=21)).isoformat()},
            )
            case.step, case.next_action = "gathering", "Gather the educational record"
            s.add(case)
            s.add(
                Deadline(
                    case_id=case.id,
                    school_id=school.id,
                    key="respond",
                    step="respond",
                    rule_id="TR-RECORDS-ACCESS",
                    owner=owner,
                    due=due,
                    status=state,
                )
            )
            if name == "Tia Today":
                s.add(
                    Approval(
                        case_id=case.id,
                        key="release",
                        step="approval",
                        summary="Release the educational record (14 pages)",
                        requested_at=dt.datetime.now(dt.UTC),
                    )
                )
            s.commit()
        return WednesdaySchool(people[Role.sendco], people[Role.headteacher], pupils, back_on)


async def test_my_week_for_a_wednesday_only_sendco(browser, api_url, wednesday_school) -> None:  # type: ignore[no-untyped-def]
    school = wednesday_school
    _, page = await signed_in(browser, api_url, school.sendco[1], csp=False)
    await expect(page.get_by_role("heading", name="My week")).to_be_visible()
    intro = page.locator("p.intro")
    await expect(intro).to_contain_text("You work Wednesday")
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
