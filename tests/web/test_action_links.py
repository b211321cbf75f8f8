"""Parents and agencies answer through their own emailed links (issue 13), in headless Chromium against the
real app, a Temporal dev server with the worker, and the loopback SMTP server the links arrive at.

The links are taken from the emails as received, as a parent would click them; the answers land in the
annual review as the workflow's own Updates, and the chronology names who acted through each link.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from sqlmodel import Session, select

from api.routes.respond import BAD_ATTEMPTS
from domain.dates import ENGLAND
from domain.links import PURPOSES, Purpose
from domain.schemas import Role
from infra.settings import get_settings
from store.provision_service import school_year_of
from store.register import Agency, Pupil, School
from tests.api.test_ep_allocations import EVIDENCE
from tests.conftest import _staff, client_for
from tests.web.browser import DESKTOP, check_page, ehcp_family, post_by_hand, signed_in, until_shown

LINK = re.compile(r"^(?P<words>[^\r\n]+):\r?\n(?P<url>https?://\S+/respond/[\w.~-]+)\r?$", re.M)
VIEWS = PURPOSES[Purpose.give_views].invitation
ATTEND = PURPOSES[Purpose.confirm_attendance].invitation
ADVICE = PURPOSES[Purpose.upload_advice].invitation
A_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def no_bad_attempts_yet() -> Iterator[None]:
    """Each test counts its own refused links (the limit is per client, and every test is 127.0.0.1)."""
    BAD_ATTEMPTS.clear()
    yield
    BAD_ATTEMPTS.clear()
    get_settings.cache_clear()  # after monkeypatch has put back any setting a test changed


def open_review(api: httpx.Client, pupil: Pupil) -> str:
    """An annual review with the EP service invited (so asked for advice), its meeting three weeks ahead."""
    today = dt.datetime.now(ENGLAND).date()
    facts = {
        "cycle_start": (today - dt.timedelta(days=330)).isoformat(),
        "year_group": 6,
        "optional_invitees": [{"kind": "ep_service"}],
    }
    started = api.post(
        "/api/v1/cases", json={"process": "annual_review", "pupil_id": pupil.id, "facts": facts}
    )
    assert started.status_code == 201, started.text
    case_id = started.json()["id"]
    meeting = {
        "meeting_at": f"{today + dt.timedelta(days=21)}T10:00:00",
        "location": "Meeting room 2",
        "breach_reason": "Test: any date is fine",
    }
    deadline = time.monotonic() + 30
    while True:  # the workflow takes a moment to reach the planning step
        answer = api.post(f"/api/v1/cases/{case_id}/actions/set-meeting", json=meeting)
        if answer.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert answer.status_code == 200, answer.text
    return case_id


def emails_to(smtp, address: str, case_id: str, subject: str, timeout: float = 30) -> EmailMessage:  # type: ignore[no-untyped-def]
    """The case's email to the address whose subject starts so, once it has arrived."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in smtp.to(address):
            if message["Subject"].startswith(subject) and f"case {case_id[:8]}" in message["Subject"]:
                return message
        time.sleep(0.2)
    raise AssertionError(f"no '{subject}' email for case {case_id[:8]} arrived")


def links_in(message: EmailMessage) -> dict[str, str]:
    """The links in an email's plain text, by the words before each: the path of each (as clicked)."""
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    return {m["words"]: urlsplit(m["url"]).path for m in LINK.finditer(text)}


def chronology(api: httpx.Client, case_id: str) -> list[dict]:
    answer = api.get(f"/api/v1/cases/{case_id}/chronology")
    assert answer.status_code == 200
    return answer.json()


def until_recorded(api: httpx.Client, case_id: str, action: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for entry in chronology(api, case_id):
            if entry["action"] == action:
                return entry
        time.sleep(0.2)
    raise AssertionError(f"{action} never recorded on case {case_id[:8]}")


async def reader(browser: Browser, base: str) -> Page:
    """A browser with nobody signed in: a parent or an agency opening their email's link."""
    context = await browser.new_context(
        base_url=base, viewport=DESKTOP, locale="en-GB", timezone_id="Europe/London", bypass_csp=True
    )
    return await context.new_page()


async def refused(page: Page, path: str, heading: str, code: int) -> None:
    answer = await page.goto(path)
    assert answer is not None and answer.status == code, f"{path}: {answer and answer.status}"
    await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    await expect(page.locator("main")).to_contain_text("Nothing was changed")


def tampered(path: str) -> str:
    """The path with the signature's last character changed."""
    return path[:-1] + ("A" if path[-1] != "A" else "B")


async def test_a_parent_gives_views_and_confirms_attendance_through_their_links(
    browser, live_api, engine, school, pupil, sendco, smtp
) -> None:  # type: ignore[no-untyped-def]
    smtp.clear()
    (child, parent), (other_pupil, other_parent) = (
        ehcp_family(engine, school, "Linked"),
        ehcp_family(engine, school, "Linked"),
    )
    with client_for(live_api, sendco[1]) as api:
        case_id, other_case = open_review(api, child), open_review(api, other_pupil)
        invitation = emails_to(smtp, parent.email, case_id, "Invitation: annual review meeting")
        mine = links_in(invitation)
        assert set(mine) == {VIEWS, ATTEND}, mine
        theirs = links_in(
            emails_to(smtp, other_parent.email, other_case, "Invitation: annual review meeting")
        )
        assert not set(mine.values()) & set(theirs.values())  # each parent their own links
        page = await reader(browser, live_api)

        # Views: the page says what is asked, for whom (the first name only) and by when.
        await page.goto(mine[VIEWS])
        await expect(page.get_by_role("heading", level=1)).to_have_text("Give your views")
        main = page.locator("main")
        await expect(main).to_contain_text(f"{child.legal_name.split()[0]}'s")
        await expect(main).not_to_contain_text(child.legal_name.split()[1])
        await expect(main).not_to_contain_text(other_parent.email)
        await check_page(page, "respond-views")
        await page.get_by_label("Your views", exact=True).fill(
            "Reading is better; lunchtimes are still hard."
        )
        await page.get_by_role("button", name="Send your views").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
        await expect(page.get_by_role("status")).to_contain_text("Your views have been sent to Test Primary")
        await check_page(page, "respond-sent")
        views = until_recorded(api, case_id, "parent-views-recorded")
        assert views["actor"] == f"parent:{parent.id}"

        # Attendance: a single-use link; once answered it is used, and saying so changes nothing.
        await page.goto(mine[ATTEND])
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Tell us if you can come to the meeting"
        )
        await expect(page.locator("main")).to_contain_text("Meeting room 2")
        await check_page(page, "respond-attendance")
        await page.get_by_label("Yes, I will come").check()
        await page.get_by_label("Anything the school should know (optional)").fill("I will bring my sister")
        await page.get_by_role("button", name="Send your answer").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
        reply = until_recorded(api, case_id, "attendance-reply")
        assert reply["actor"] == f"parent:{parent.id}"
        assert "will come to the meeting" in reply["detail"] and "my sister" in reply["detail"]
        before = chronology(api, case_id)
        await refused(page, mine[ATTEND], "This link has already been used", 410)
        await expect(page.locator("main")).to_contain_text("the SENDCo at Test Primary")
        await check_page(page, "respond-used")

        # Altered: another signature, or another link's id with this one's signature.
        await refused(page, tampered(mine[VIEWS]), "This link does not work", 404)
        await check_page(page, "respond-tampered")
        forged = mine[VIEWS].rpartition(".")[0] + "." + theirs[VIEWS].rpartition(".")[2]
        await refused(page, forged, "This link does not work", 404)

        # Another case's link cannot answer this one: its form, posted to this case's link, is refused.
        await page.goto(theirs[VIEWS])
        await page.get_by_label("Your views", exact=True).fill("Sent to the wrong case")
        await page.locator("form[method=post]").evaluate(
            "(form, path) => { form.action = path; }", mine[VIEWS]
        )
        await page.get_by_role("button", name="Send your views").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Nothing was sent")
        assert chronology(api, case_id) == before
        assert not [e for e in chronology(api, other_case) if e["action"] == "parent-views-recorded"]

    # The SENDCo's case page names the parent as the one who acted, through the link.
    _, staff_page = await signed_in(browser, live_api, sendco[1], csp=False)
    await until_shown(staff_page, f"/cases/{case_id}", "Attendance reply")
    rows = staff_page.locator("table.chronology tr", has_text="Attendance reply")
    await expect(rows.first).to_contain_text(f"{parent.name} (parent or carer), through the emailed link")
    views_row = staff_page.locator("table.chronology tr", has_text="Parent views recorded")
    await expect(views_row.first).to_contain_text(parent.name)
    links = staff_page.locator("table.links")
    await expect(links).to_contain_text("Give your views")
    await expect(links).to_contain_text("Used")
    await check_page(staff_page, "case-links")


async def test_an_ep_uploads_advice_the_review_counts_as_received(
    browser, live_api, engine, school, pupil, sendco, smtp, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    smtp.clear()
    # Attendance links for this case last 6 seconds: time moves on, and they expire.
    monkeypatch.setenv("SEND_LINK_DAYS", '{"confirm-attendance": 0.00007}')
    get_settings.cache_clear()
    child, parent = ehcp_family(engine, school, "Linked")
    with Session(engine) as s:
        ep = s.exec(select(Agency).where(Agency.email == "ep_service@example.org")).one()
    with client_for(live_api, sendco[1]) as api:
        case_id = open_review(api, child)
        request = emails_to(smtp, "ep_service@example.org", case_id, "Advice request")
        issued_at = time.monotonic()
        upload = links_in(request)[ADVICE]
        page = await reader(browser, live_api)
        await page.goto(upload)
        await expect(page.get_by_role("heading", level=1)).to_have_text("Send your written advice")
        await check_page(page, "respond-upload")
        before = chronology(api, case_id)

        # A file that is not what it says (a text file called .pdf), and one over the limit: refused.
        form = page.get_by_role("form", name="Send your written advice")
        await form.get_by_label("Your advice or report").set_input_files(
            {"name": "advice.pdf", "mimeType": "application/pdf", "buffer": b"just some text, honestly"}
        )
        await form.get_by_role("button", name="Send your advice").click()
        await expect(page.get_by_role("alert")).to_contain_text("This kind of file cannot be sent here")
        await check_page(page, "respond-upload-refused")
        big = A_PDF + b"0" * get_settings().upload_max_bytes
        form = page.get_by_role("form", name="Send your written advice")
        await form.get_by_label("Your advice or report").set_input_files(
            {"name": "advice.pdf", "mimeType": "application/pdf", "buffer": big}
        )
        await form.get_by_role("button", name="Send your advice").click()
        await expect(page.get_by_role("alert")).to_contain_text("The file is too large")
        assert chronology(api, case_id) == before

        # A real PDF: stored with the case and counted as the EP's advice, received.
        form = page.get_by_role("form", name="Send your written advice")
        await form.get_by_label("Your advice or report").set_input_files(
            {"name": "EP advice.pdf", "mimeType": "text/plain", "buffer": A_PDF}
        )
        await form.get_by_label("A short summary (optional)").fill("Reading and attention: see the report")
        await form.get_by_role("button", name="Send your advice").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
        advice = until_recorded(api, case_id, "advice-recorded")
        assert advice["actor"] == f"agency:{ep.id}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            rows = {d["key"]: d for d in api.get(f"/api/v1/cases/{case_id}").json()["deadlines"]}
            ep_row = next(d for k, d in rows.items() if k.endswith("advice:ep_service"))
            if ep_row["status"] == "met":
                break
            time.sleep(0.3)
        assert ep_row["status"] == "met", ep_row
        await refused(page, upload, "This link has already been used", 410)

        # Time moves on: the parent's attendance link has expired, and opening it changes nothing.
        attend = links_in(emails_to(smtp, parent.email, case_id, "Invitation: annual review meeting"))[ATTEND]
        time.sleep(max(0.0, 7 - (time.monotonic() - issued_at)))
        before = chronology(api, case_id)
        await refused(page, attend, "This link has expired", 410)
        await check_page(page, "respond-expired")
        assert chronology(api, case_id) == before

    # The case page lists the file (served as the PDF it is) and the links; the SENDCo withdraws one.
    _, staff_page = await signed_in(browser, live_api, sendco[1], csp=False)
    await until_shown(staff_page, f"/cases/{case_id}", "Files received")
    files = staff_page.locator("ul.files")
    await expect(files).to_contain_text("EP advice.pdf")
    await expect(files).to_contain_text(ep.name)
    href = await files.get_by_role("link").first.get_attribute("href")
    assert href is not None
    download = await staff_page.context.request.get(href)
    assert download.status == 200 and download.headers["content-type"] == "application/pdf"
    assert await download.body() == A_PDF
    assert (
        await page.context.request.get(href, max_redirects=0)
    ).status != 200  # nobody signed in: not theirs to read
    # Another school's SENDCo can neither read the file nor withdraw a link: no such case, for them.
    with Session(engine, expire_on_commit=False) as s:
        elsewhere = School(name=f"Other Primary {uuid.uuid4().hex[:4]}", local_authority="Kent")
        s.add(elsewhere)
        s.commit()
    _, stranger = await signed_in(browser, live_api, _staff(engine, elsewhere, Role.sendco, 77)[1], csp=False)
    assert (await stranger.context.request.get(href)).status == 404
    live_link = await staff_page.locator("table.links form[action$='/revoke']").first.get_attribute("action")
    assert live_link is not None
    await post_by_hand(stranger, live_link, {})
    await expect(stranger.get_by_role("heading", level=1)).to_have_text("Not found")
    links = staff_page.locator("table.links")
    ep_advice = links.locator("tr", has_text="Send your written advice").filter(has_text=ep.name)
    await expect(ep_advice).to_contain_text("Used")
    await expect(links.locator("tr", has_text="Tell us if you can come").first).to_contain_text("Expired")
    views = links_in(emails_to(smtp, parent.email, case_id, "Invitation: annual review meeting"))[VIEWS]
    await (
        links.locator("tr", has_text="Give your views")
        .get_by_role("button", name=re.compile("Withdraw"))
        .click()
    )
    await expect(staff_page.get_by_role("status")).to_contain_text(f"The link sent to {parent.name}")
    await check_page(staff_page, "case-links-withdrawn")
    await refused(page, views, "This link no longer works", 410)
    await expect(page.locator("main")).to_contain_text("Test Primary")

    # Sent again: the parent alone gets a new link for the same purpose, which works; the old one does not.
    row = staff_page.locator("table.links tr", has_text="Give your views").filter(has_text="Withdrawn")
    await row.get_by_role("button", name=re.compile("^Send again")).click()
    await expect(staff_page.get_by_role("status")).to_contain_text(
        f"A new link is on its way to {parent.name}"
    )
    again = emails_to(smtp, parent.email, case_id, "A new link: Give your views")
    fresh = links_in(again)[VIEWS]
    assert fresh != views and len([m for m in smtp.messages if m["Subject"] == again["Subject"]]) == 1
    await page.goto(fresh)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Give your views")
    await refused(page, views, "This link no longer works", 410)


def test_repeated_bad_links_from_one_client_are_held_back(api_url, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SEND_LINK_BAD_ATTEMPTS", "5")
    get_settings.cache_clear()
    try:
        with httpx.Client(base_url=api_url, timeout=10) as raw:
            answers = [raw.get(f"/respond/made-up-{n}.not-a-signature") for n in range(6)]
    finally:
        monkeypatch.delenv("SEND_LINK_BAD_ATTEMPTS")
        get_settings.cache_clear()
    assert [a.status_code for a in answers] == [404] * 5 + [429]
    assert "Too many tries" in answers[-1].text and "Nothing was changed" in answers[-1].text


def test_a_development_link_key_is_made_once_and_production_needs_one(tmp_path) -> None:
    from infra.settings import Settings

    settings = Settings(var_dir=tmp_path)
    first = settings.link_key_bytes
    assert len(first) == 32 and Settings(var_dir=tmp_path).link_key_bytes == first
    assert oct((tmp_path / "link.key").stat().st_mode & 0o777) == "0o600"
    real = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    with pytest.raises(ValueError, match="SEND_LINK_KEY must be set"):
        Settings(environment="production", codec_key=real, public_url="https://s.example")
    assert os.environ.get("SEND_LINK_KEY") is None


async def test_a_parent_consents_and_a_receiving_school_confirms_the_sen_file_through_their_links(
    browser, live_api, engine, school, pupil, sendco, smtp
) -> None:  # type: ignore[no-untyped-def]
    smtp.clear()
    today = dt.datetime.now(ENGLAND).date()
    (referred, parent), (leaver, _) = (
        ehcp_family(engine, school, "Linked"),
        ehcp_family(engine, school, "Linked"),
    )
    with Session(engine) as s:
        receiving = s.exec(select(Agency).where(Agency.email == "other@example.org")).one()
    with client_for(live_api, sendco[1]) as api:
        allocation = f"/api/v1/ep-allocations/{school_year_of(today)}"
        now = api.get(allocation).json()
        assert api.put(allocation, json={"allocated": now["reserved"] + now["used"] + 20}).status_code == 200
        facts = {"service": "ep", "question": "Why is reading stuck?", "evidence": EVIDENCE, "year_group": 6}
        started = api.post(
            "/api/v1/cases", json={"process": "ep_referral", "pupil_id": referred.id, "facts": facts}
        )
        assert started.status_code == 201, started.text
        referral = started.json()["id"]
        plan = {
            "leaving_date": today.isoformat(),
            "destination": "school",
            "receiving_school_id": receiving.id,
        }
        started = api.post(
            "/api/v1/cases",
            json={"process": "leaving", "pupil_id": leaver.id, "facts": {**plan, "has_sen_file": True}},
        )
        assert started.status_code == 201, started.text
        leaving = started.json()["id"]
        sent = {"item": "sen_file", "sent_on": today.isoformat(), "method": "Secure email"}
        deadline = time.monotonic() + 30
        while (r := api.post(f"/api/v1/cases/{leaving}/actions/record-sent", json=sent)).status_code != 200:
            assert time.monotonic() < deadline, r.text
            time.sleep(0.3)

        # The parent's consent, from the request's own link.
        consent = links_in(emails_to(smtp, parent.email, referral, "Your consent, please"))
        page = await reader(browser, live_api)
        await page.goto(consent[PURPOSES[Purpose.give_consent].invitation])
        await expect(page.get_by_role("heading", level=1)).to_have_text("Give or refuse consent")
        await check_page(page, "respond-consent")
        await page.get_by_label("Yes, I give my consent").check()
        await page.get_by_role("button", name="Send your answer").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
        given = until_recorded(api, referral, "consent-recorded")
        assert given["actor"] == f"parent:{parent.id}" and "consented" in given["detail"]

        # The receiving school's SENDCo confirms the SEN file arrived.
        file_sent = emails_to(smtp, receiving.email, leaving, "")
        ack = links_in(file_sent)[PURPOSES[Purpose.acknowledge_file].invitation]
        await page.goto(ack)
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Confirm you have received the SEN file"
        )
        await check_page(page, "respond-sen-file")
        await page.get_by_label("The SEN file has arrived").check()
        await page.get_by_role("button", name="Confirm it has arrived").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
        confirmed = until_recorded(api, leaving, "sen-file-acknowledged")
        assert confirmed["actor"] == f"agency:{receiving.id}"
        await refused(page, ack, "This link has already been used", 410)
