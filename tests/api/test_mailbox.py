"""The development mailbox over HTTP and in a real headless browser, fed by the real devmail SMTP server."""

from __future__ import annotations

import re
import socket
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import httpx
import pytest
from playwright.async_api import async_playwright, expect
from sqlmodel import Session

from engine.devmail import start_devmail
from store.register import Parent, Pupil, PupilParent

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def devmail_port(engine) -> Iterator[int]:  # type: ignore[no-untyped-def]
    """The embedded development mail server, storing into the test database."""
    port = free_port()
    controller = start_devmail("127.0.0.1", port)
    yield port
    controller.stop()


async def deliver(port: int, *, to: str, marker: str, attachment: bool = True) -> str:
    """Send a text + HTML message (with a script in the HTML) to the devmail server; returns its subject."""
    subject = f"Reminder: annual review JS ({marker})"
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = "SEND case engine <send-engine@school.invalid>"
    message["To"] = to
    message["Message-ID"] = f"<{marker}@school.invalid>"
    message.set_content(f"Plain body {marker}\nDue Monday 23 November 2026.")
    message.add_alternative(
        f"<html><body><p id='body'>HTML body {marker}</p>"
        "<script>parent.document.title='pwned';document.body.append('script ran')</script></body></html>",
        subtype="html",
    )
    if attachment:
        message.add_attachment(
            b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
            maintype="text",
            subtype="calendar",
            filename="invite.ics",
        )
    await aiosmtplib.send(message, hostname="127.0.0.1", port=port)
    return subject


def address(engine, pupil) -> str:  # type: ignore[no-untyped-def]
    """A new parent of a new pupil of the school: mail to them is that school's (kept per school).

    Not a parent of the shared test pupil: every other test's cases for that pupil would email them.
    """
    email = f"parent-{uuid.uuid4().hex[:8]}@example.org"
    with Session(engine) as s:
        child = Pupil(
            school_id=pupil.school_id,
            legal_name="Mailbox Child",
            date_of_birth=pupil.date_of_birth,
            year_group=pupil.year_group,
            local_authority=pupil.local_authority,
        )
        parent = Parent(name="Mailbox parent", email=email)
        s.add_all([child, parent])
        s.commit()
        s.add(PupilParent(pupil_id=child.id, parent_id=parent.id))
        s.commit()
    return email


def test_mailbox_needs_a_token(api_url) -> None:  # type: ignore[no-untyped-def]
    for path in ("/api/v1/mailbox", "/api/v1/mailbox/1"):
        assert httpx.get(f"{api_url}{path}").status_code == 401
        assert httpx.get(f"{api_url}{path}", headers={"Authorization": "Bearer nope"}).status_code == 401


async def test_list_and_read(as_sendco, devmail_port, engine, pupil) -> None:  # type: ignore[no-untyped-def]
    to = address(engine, pupil)
    marker = uuid.uuid4().hex
    first = await deliver(devmail_port, to=to, marker=f"{marker}-1", attachment=False)
    second = await deliver(devmail_port, to=to, marker=f"{marker}-2")

    listed = as_sendco.get("/api/v1/mailbox", params={"to": to.upper()})
    assert listed.status_code == 200
    page = listed.json()
    assert page["total"] == 2 and (page["offset"], page["limit"]) == (0, 50)
    assert [m["subject"] for m in page["items"]] == [second, first]  # newest first
    newest = page["items"][0]
    assert set(newest) == {"id", "received_at", "from", "to", "subject", "has_attachment"}
    assert newest["from"] == "send-engine@school.invalid" and newest["to"] == [to]
    assert [m["has_attachment"] for m in page["items"]] == [True, False]

    one = as_sendco.get("/api/v1/mailbox", params={"to": to, "limit": 1, "offset": 1}).json()
    assert [m["subject"] for m in one["items"]] == [first]
    assert as_sendco.get("/api/v1/mailbox", params={"limit": 201}).status_code == 422
    assert as_sendco.get("/api/v1/mailbox", params={"to": "nobody@example.org"}).json()["total"] == 0

    mail = as_sendco.get(f"/api/v1/mailbox/{newest['id']}").json()
    assert mail["subject"] == second and mail["message_id"] == f"<{marker}-2@school.invalid>"
    assert f"Plain body {marker}-2" in mail["text"] and f"HTML body {marker}-2" in mail["html"]
    assert mail["attachments"] == ["invite.ics"]
    assert ["Subject", second] in mail["headers"]
    assert as_sendco.get("/api/v1/mailbox/999999999").status_code == 404


def test_signin_sets_the_cookie(api_url, sendco) -> None:  # type: ignore[no-untyped-def]
    token = sendco[1]
    with httpx.Client(base_url=api_url, follow_redirects=False, headers={"Origin": api_url}) as browser:
        form = browser.get("/signin")
        assert form.status_code == 200 and 'name="token"' in form.text and "Mailbox" in form.text
        assert browser.get("/mailbox").headers["location"] == "/signin?next=%2Fmailbox"
        assert browser.post("/signin", data={"token": "send_wrong"}).status_code == 401
        assert "send_session" not in browser.cookies
        assert (
            browser.get("/signin", params={"token": token}).status_code == 200
        )  # a URL token signs nobody in
        assert "send_session" not in browser.cookies

        posted = browser.post("/signin", data={"token": token, "next": "/mailbox"})
        assert posted.status_code == 303 and posted.headers["location"] == "/mailbox"
        cookie = posted.headers["set-cookie"].lower()
        assert "send_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
        assert token.lower() not in cookie
        page = browser.get("/mailbox")
        assert page.status_code == 200 and "<h1>Mailbox</h1>" in page.text
        assert "Content-Security-Policy" in page.headers
        assert browser.get("/api/v1/mailbox").status_code == 200  # the session works for the API too

        evil = browser.post("/signin", data={"token": token, "next": "//evil.example"})
        assert evil.headers["location"] == "/"
        csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', browser.get("/mailbox").text)
        assert csrf is not None
        out = browser.post("/signout", data={"csrf_token": csrf.group(1)})
        assert out.status_code == 303 and "send_session" not in browser.cookies


async def test_mailbox_in_a_real_browser(api_url, sendco, devmail_port, engine, pupil) -> None:  # type: ignore[no-untyped-def]
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install -y chromium (make test does it)"
    marker = uuid.uuid4().hex
    subject = await deliver(devmail_port, to=address(engine, pupil), marker=marker)

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page()
            await page.goto(f"{api_url}/signin")
            await page.get_by_label("Token").fill(sendco[1])
            await page.get_by_role("button", name="Sign in").click()
            await page.goto(f"{api_url}/mailbox")
            await expect(page.get_by_role("heading", name="Mailbox")).to_be_visible()
            await expect(page.get_by_role("link", name="Mailbox")).to_have_attribute("aria-current", "page")
            link = page.get_by_role("link", name=subject)
            await expect(link).to_be_visible()
            await link.click()
            await expect(page.get_by_role("heading", name=subject)).to_be_visible()
            await expect(page.locator("pre")).to_contain_text(f"Plain body {marker}")
            frame = page.frame_locator("iframe.mail")
            await expect(frame.locator("#body")).to_have_text(f"HTML body {marker}")
            await expect(frame.locator("body")).not_to_contain_text("script ran")  # sandboxed: no scripts
            assert await page.title() != "pwned"
        finally:
            await browser.close()
