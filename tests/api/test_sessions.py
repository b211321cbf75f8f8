"""Sessions and forms against the real app: sign-in by form, server-side sessions, CSRF, expiry, revocation.

The cross-origin attempt is made by headless Chromium from a page served on another port of the same host.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from playwright.async_api import async_playwright
from sqlmodel import Session, select

from engine.cli import main as cli
from infra.settings import Settings, get_settings
from store.register import ApiToken, School, WebSession
from store.tokens import digest, issue_token
from tests.api.test_mailbox import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import client_for, free_port

FORGED = "did not come from the engine's own page"


@contextmanager
def signed_in_browser(api_url: str, token: str) -> Iterator[httpx.Client]:
    """An HTTP client that signed in through the sign-in form, as a browser on the engine's own page does."""
    with httpx.Client(base_url=api_url, follow_redirects=False, timeout=30, headers={"Origin": api_url}) as c:
        signed_in = c.post("/signin", data={"token": token, "next": "/cases"})
        assert signed_in.status_code == 303, signed_in.text
        yield c


def csrf_of(client: httpx.Client, path: str = "/cases") -> str:
    """The CSRF token a signed-in page carries in its forms (the sign-out form is on every page)."""
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', client.get(path).text)
    assert found, "the page carries no CSRF token"
    return found.group(1)


@pytest.fixture
def fresh_sendco(engine):  # type: ignore[no-untyped-def]
    """A SENDCo of a school of their own with a token of their own (revoking it touches no other test).

    Not of the shared test school: a second SENDCo there would be emailed by every other test's cases.
    """
    from domain.schemas import Role
    from tests.conftest import _staff

    n = int(dt.datetime.now().timestamp() * 1e6)
    with Session(engine, expire_on_commit=False) as s:
        school = School(name=f"Session Academy {n}", local_authority=f"LA-{n}")
        s.add(school)
        s.commit()
        s.refresh(school)
    return _staff(engine, school, Role.sendco, n)


def test_signing_in_makes_a_server_side_session(api_url, engine, fresh_sendco) -> None:  # type: ignore[no-untyped-def]
    staff, token = fresh_sendco
    with httpx.Client(base_url=api_url, follow_redirects=False) as anonymous:
        shown = anonymous.get("/signin", params={"token": token})  # a token in a URL is not taken
        assert shown.status_code == 200 and "set-cookie" not in shown.headers
        assert 'name="token"' in shown.text
        assert anonymous.get("/cases").headers["location"] == "/signin?next=%2Fcases"
        wrong = anonymous.post("/signin", data={"token": "send_wrong"}, headers={"Origin": api_url})
        assert wrong.status_code == 401 and "That token is not valid." in wrong.text
        assert "set-cookie" not in wrong.headers
        elsewhere = anonymous.post(
            "/signin", data={"token": token}, headers={"Origin": "http://evil.example"}
        )
        assert elsewhere.status_code == 403 and "set-cookie" not in elsewhere.headers

    with signed_in_browser(api_url, token) as browser:
        cookie = browser.cookies["send_session"]
        assert token not in cookie and cookie.strip()
        page = browser.get("/cases")
        assert page.status_code == 200 and staff.name in page.text
        assert browser.get("/api/v1/cases").status_code == 200  # the session works for the API's reads too
        assert (
            browser.post("/signin", data={"token": token, "next": "//evil.example"}).headers["location"]
            == "/"  # home, never another site
        )
    with Session(engine) as s:  # only the digest of the session id is kept
        assert s.exec(select(WebSession).where(WebSession.digest == cookie)).first() is None
        row = s.exec(select(WebSession).where(WebSession.digest == digest(cookie))).one()
        assert row.staff_id == staff.id

    with httpx.Client(base_url=api_url, follow_redirects=False) as raw:
        set_cookie = raw.post("/signin", data={"token": token}, headers={"Origin": api_url}).headers[
            "set-cookie"
        ]
    flags = [part.strip().lower() for part in set_cookie.split(";")]
    assert "httponly" in flags and "samesite=lax" in flags and "secure" not in flags  # http public URL


def test_cookies_are_secure_behind_https_and_production_needs_https(api_url, sendco, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SEND_PUBLIC_URL", "https://send.school.example")
    get_settings.cache_clear()
    try:
        with httpx.Client(base_url=api_url, follow_redirects=False) as raw:
            signed_in = raw.post("/signin", data={"token": sendco[1]}, headers={"Origin": api_url})
        flags = [part.strip().lower() for part in signed_in.headers["set-cookie"].split(";")]
        assert "secure" in flags and "httponly" in flags
    finally:
        monkeypatch.delenv("SEND_PUBLIC_URL")
        get_settings.cache_clear()
    real_key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    with pytest.raises(ValueError, match="https"):
        Settings(
            environment="production",
            codec_key=real_key,
            link_key=real_key,
            public_url="http://send.school.example",
        )
    assert Settings(
        environment="production", codec_key=real_key, link_key=real_key, public_url="https://s.example"
    ).secure_cookies


def test_sign_out_ends_the_session_at_once(api_url, fresh_sendco) -> None:  # type: ignore[no-untyped-def]
    _, token = fresh_sendco
    with signed_in_browser(api_url, token) as browser:
        cookie = browser.cookies["send_session"]
        refused = browser.post("/signout")  # without the page's CSRF token
        assert refused.status_code == 403 and FORGED in refused.text
        assert browser.get("/cases").status_code == 200  # still signed in
        out = browser.post("/signout", data={"csrf_token": csrf_of(browser)})
        assert out.status_code == 303 and out.headers["location"] == "/signin"
        assert "send_session" not in browser.cookies
    with httpx.Client(base_url=api_url, follow_redirects=False, cookies={"send_session": cookie}) as replayed:
        assert replayed.get("/cases").headers["location"].startswith("/signin")  # a kept copy is worthless
        assert replayed.get("/api/v1/cases").status_code == 401


def test_revoked_and_expired_tokens_are_refused_at_once(api_url, engine, fresh_sendco, capsys) -> None:  # type: ignore[no-untyped-def]
    staff, token = fresh_sendco
    with signed_in_browser(api_url, token) as browser, client_for(api_url, token) as api:
        assert api.get("/api/v1/cases").status_code == 200
        assert cli(["tokens", "list", "--email", staff.email]) == 0
        listed = capsys.readouterr().out.strip().splitlines()
        assert len(listed) == 1 and listed[0].endswith("live") and token not in listed[0]
        token_id = int(listed[0].split("\t")[0])

        assert cli(["tokens", "revoke", str(token_id)]) == 0
        capsys.readouterr()
        assert api.get("/api/v1/cases").status_code == 401
        assert browser.get("/api/v1/cases").status_code == 401  # its sessions end with it
        assert browser.get("/cases").headers["location"].startswith("/signin")
        assert cli(["tokens", "list", "--email", staff.email]) == 0
        assert capsys.readouterr().out.strip().endswith("revoked")
        assert cli(["tokens", "revoke", "999999999"]) == 2

    with Session(engine) as s:
        second = issue_token(s, staff.id)
    with signed_in_browser(api_url, second) as browser, client_for(api_url, second) as api:
        assert api.get("/api/v1/cases").status_code == 200
        with Session(engine) as s:  # the token's expiry passes
            row = s.exec(
                select(ApiToken).where(ApiToken.digest == hashlib.sha256(second.encode()).hexdigest())
            ).one()
            row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
            s.add(row)
            s.commit()
        assert api.get("/api/v1/cases").status_code == 401
        assert browser.get("/api/v1/cases").status_code == 401
    with httpx.Client(base_url=api_url, follow_redirects=False, headers={"Origin": api_url}) as again:
        assert again.post("/signin", data={"token": second}).status_code == 401


def test_a_form_needs_the_sessions_token_and_this_sites_origin(api_url, sendco, pupil) -> None:  # type: ignore[no-untyped-def]
    form = {"process": "records_request", "pupil_id": str(pupil.id), "facts.request_received": "2026-11-20"}
    with signed_in_browser(api_url, sendco[1]) as browser:
        before = browser.get("/api/v1/cases").json()["total"]
        no_token = browser.post("/cases/new", data=form)
        assert no_token.status_code == 403 and FORGED in no_token.text
        wrong = browser.post("/cases/new", data={**form, "csrf_token": "0" * 64})
        assert wrong.status_code == 403
        token = csrf_of(browser, "/cases/new")
        other = browser.post(
            "/cases/new", data={**form, "csrf_token": token}, headers={"Origin": "http://x.example"}
        )
        assert other.status_code == 403
        no_origin = httpx.post(
            f"{api_url}/cases/new", data={**form, "csrf_token": token}, cookies=dict(browser.cookies)
        )
        assert no_origin.status_code == 403
        # The JSON API with the session cookie: another origin cannot change the register either.
        pupil_body = {"legal_name": "Forged Pupil", "date_of_birth": "2016-03-01", "year_group": 4}
        api = browser.post("/api/v1/pupils", json={**pupil_body, "school_id": pupil.school_id},
                           headers={"Origin": "http://localhost:1"})  # fmt: skip
        assert api.status_code == 403 and api.json()["code"] == "forbidden"
        assert "Forged Pupil" not in browser.get("/api/v1/pupils", params={"limit": 200}).text
        assert browser.get("/api/v1/cases").json()["total"] == before


class EvilPage(BaseHTTPRequestHandler):
    """A page on another port of the same host that posts a form to the engine as soon as it loads."""

    target = ""

    def do_GET(self) -> None:
        html = (
            f'<html><body onload="document.forms[0].submit()"><form method="post" action="{self.target}">'
            '<input type="hidden" name="process" value="records_request">'
            '<input type="hidden" name="facts.request_received" value="2026-11-20">'
            "</form></body></html>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(html)))
        self.end_headers()
        self.wfile.write(html)

    def log_message(self, *_: object) -> None:
        pass


async def test_a_cross_origin_post_from_chromium_is_refused(api_url, sendco, pupil) -> None:  # type: ignore[no-untyped-def]
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install -y chromium (make test does it)"
    EvilPage.target = f"{api_url}/cases/new"
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), EvilPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    evil = f"http://127.0.0.1:{server.server_address[1]}/"
    with client_for(api_url, sendco[1]) as api:
        before = api.get("/api/v1/cases").json()["total"]
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            try:
                page = await browser.new_page()
                await page.goto(f"{api_url}/signin")
                await page.get_by_label("Token").fill(sendco[1])
                await page.get_by_role("button", name="Sign in").click()
                await page.wait_for_url(f"{api_url}/")
                async with page.expect_response(EvilPage.target) as posted:
                    await page.goto(evil)
                answer = await posted.value
                assert answer.request.headers.get("origin") == evil.rstrip("/")
                assert answer.status == 403 and FORGED in await answer.text()
            finally:
                await browser.close()
    finally:
        server.shutdown()
    with client_for(api_url, sendco[1]) as api:
        assert api.get("/api/v1/cases").json()["total"] == before
