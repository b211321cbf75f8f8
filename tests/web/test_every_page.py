"""Every page, at 1280 and 390 px: no sideways scrolling, axe-core finds no serious or critical violation,
and nothing a person reads is a code, a dict or an ISO date. The start form of every registered process is
checked, and a case page of each process that can be started from its start model's own example."""

from __future__ import annotations

import datetime as dt
import uuid

from playwright.async_api import expect
from sqlmodel import Session, select

from domain.dates import ENGLAND
from store.register import Agency, Pupil
from tests.conftest import client_for
from tests.web.browser import DESKTOP, check_page, signed_in, until_shown
from workflows.registry import PROCESSES


def fresh_pupil(engine, school, provision: str) -> int:  # type: ignore[no-untyped-def]
    """A pupil of the school with no case yet."""
    with Session(engine, expire_on_commit=False) as s:
        pupil = Pupil(
            school_id=school.id,
            legal_name=f"Page Check {uuid.uuid4().hex[:6]}",
            date_of_birth=dt.date(2016, 9, 1),
            year_group=4,
            sen_provision=provision,
            needs=["SLCN"] if provision != "N" else [],
            local_authority="Kent",
        )
        s.add(pupil)
        s.commit()
        assert pupil.id is not None
        return pupil.id


async def test_every_page_at_both_widths(browser, live_api, engine, school, sendco, teacher, pupil) -> None:  # type: ignore[no-untyped-def]
    # Signed out: the sign-in page.
    context = await browser.new_context(base_url=live_api, viewport=DESKTOP, bypass_csp=True)
    anonymous = await context.new_page()
    await anonymous.goto("/")
    await expect(anonymous.get_by_role("heading", name="Sign in")).to_be_visible()
    await check_page(anonymous, "signin")

    _, page = await signed_in(browser, live_api, sendco[1], csp=False)
    for name, process in PROCESSES.items():
        await page.goto(f"/cases/new?process={name}")
        await expect(page.get_by_role("heading", name=process.title)).to_be_visible()
        await check_page(page, f"case-new-{name}")

    # A records request (any pupil), and a case of each process its start model gives an example for.
    today = dt.datetime.now(ENGLAND).date()
    started = []
    with Session(engine) as s:
        other_school = s.exec(
            select(Agency.id).where(Agency.kind == "other", Agency.local_authority == "Kent")
        ).first()
    with client_for(live_api, sendco[1]) as api:
        body = {"process": "records_request", "pupil_id": pupil.id, "facts": {"request_received": str(today)}}
        started.append(("records_request", api.post("/api/v1/cases", json=body).json()["id"]))
        for name, process in PROCESSES.items():
            examples = (process.start.model_config.get("json_schema_extra") or {}).get("examples") or []
            if not examples:
                continue
            facts = {**examples[0]}
            if "class_teacher_id" in facts:
                facts["class_teacher_id"] = teacher[0].id
            for school_id in ("previous_school_id", "receiving_school_id"):  # another school, registered
                if school_id in facts:
                    facts[school_id] = other_school
            provision = process.requires_provision.value if process.requires_provision else "N"
            who = fresh_pupil(engine, school, provision)
            r = api.post("/api/v1/cases", json={"process": name, "pupil_id": who, "facts": facts})
            assert r.status_code == 201, r.text
            started.append((name, r.json()["id"]))
    for name, case_id in started:
        await until_shown(page, f"/cases/{case_id}", "What you can do now")
        await check_page(page, f"case-{name}")

    for path, heading in (("/cases", "Cases"), ("/mailbox", "Mailbox"), ("/approvals", "Approvals")):
        await page.goto(path)
        await expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        await check_page(page, f"{path.strip('/')}-list")

    # Keyboard use: the first Tab reaches the skip link, which is visible when focused.
    await page.goto("/cases")
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    await expect(skip).to_be_focused()
    box = await skip.bounding_box()
    assert box is not None and box["x"] >= 0, "the skip link is off screen when focused"
    outline = await skip.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none", "no visible focus on the skip link"
