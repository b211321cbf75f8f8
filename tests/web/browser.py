"""What the browser tests share: a staff member's own signed-in browser, reloading until the workflow's
write shows, and the check every main page passes at 1280 and 390 px (screenshots, no sideways scrolling,
axe-core with no serious or critical violation, and no code, dict or ISO date in what a person reads)."""

from __future__ import annotations

import datetime as dt
import os
import re
import time
import uuid
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session

from store.register import Parent, Pupil, PupilParent, School

# Screenshots of every main page at both widths, kept after the run (git-ignored).
SHOTS = Path(os.environ.get("SEND_TEST_SCREENSHOTS") or Path(__file__).parent / "screenshots")
SHOTS.mkdir(parents=True, exist_ok=True)
AXE = Path(__file__).parent / "vendor" / "axe.min.js"  # axe-core 4.14.1, from `npm pack axe-core`
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# What must never reach a person: ISO dates and times, snake_case codes, dicts, Python's words.
LEAKS = (
    (re.compile(r"\b\d{4}-\d{2}-\d{2}\b"), "an ISO date"),
    (re.compile(r"\b\d{2}:\d{2}:\d{2}\b"), "a timestamp"),
    (re.compile(r"\b[a-z]+_[a-z_]+\b"), "a code"),
    (re.compile(r"[{}]|\[\s*'|'\s*\]"), "a dict or list"),
    (re.compile(r"Value error|Traceback|Input should be|Field required|\bNone\b"), "Python"),
    (re.compile(r"\b(?:ep_service|la_sen|social_care|breach_reason)\b"), "a code"),
)
# Codes a person may rightly read: email addresses' own spelling, rule ids.
ALLOWED = re.compile(r"[\w.+-]+@[\w.-]+|\b[A-Z]{2,}(?:-[A-Z0-9]+)+\b")


async def signed_in(
    browser: Browser, base: str, token: str, *, csp: bool = True
) -> tuple[BrowserContext, Page]:
    """A browser of its own for one staff member, signed in through the sign-in form.

    `csp=False` lets the axe-core script run on pages whose policy allows no scripts."""
    context = await browser.new_context(
        base_url=base, viewport=DESKTOP, locale="en-GB", timezone_id="Europe/London", bypass_csp=not csp
    )
    page = await context.new_page()
    await page.goto("/signin")
    await page.get_by_label("Token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile("^(My week|Approvals and escalations)$")
    )
    return context, page


async def until_shown(page: Page, path: str, text: str, *, gone: bool = False, timeout: float = 20.0) -> None:
    """Reload the page until it shows the text, or no longer does (projections are written a moment later)."""
    deadline = time.monotonic() + timeout
    while True:
        await page.goto(path)
        if bool(await page.get_by_text(text).count()) != gone:
            return
        assert time.monotonic() < deadline, f"{path} never {'stopped showing' if gone else 'showed'} {text!r}"
        await page.wait_for_timeout(250)


def leaks(text: str) -> list[str]:
    """What in a page's words a person should never read (empty when none)."""
    text = ALLOWED.sub(" ", text)
    found = []
    for pattern, what in LEAKS:
        for hit in pattern.finditer(text):
            start = max(hit.start() - 40, 0)
            found.append(f"{what}: ...{text[start : hit.end() + 40]}...")
    return found


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it stands."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.add_script_tag(content=AXE.read_text())
    result = await page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


async def check_page(page: Page, name: str, *, axe: bool = True) -> None:
    """The page as it stands, at 1280 and at 390 px: a screenshot of each, no sideways scrolling on the
    phone, axe-core clean (no serious or critical violation) at both, and nothing a person should not read."""
    # What the engine wrote (a select's options are the register's own entries, as they were entered).
    text = await page.evaluate(
        """() => { const main = document.querySelector('main').cloneNode(true);
                   main.querySelectorAll('select').forEach(s => s.remove());
                   document.body.appendChild(main); const t = main.innerText; main.remove(); return t; }"""
    )
    assert not leaks(text), f"{name} shows {leaks(text)}"
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(size)
        await page.screenshot(path=SHOTS / f"{name}-{label}.png", full_page=True)
        overflow = await page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} scrolls sideways by {overflow} px at {size['width']} px"
        if axe:
            found = await axe_violations(page)
            assert not found, f"{name} at {size['width']} px: axe-core finds {found}"
    await page.set_viewport_size(DESKTOP)


async def post_by_hand(page: Page, action: str, fields: dict[str, str]) -> None:
    """Submit a form the page does not offer (as a crafted request would), and wait for the answer.

    It is the signed-in person's own crafted form on the engine's page, so it carries their session's CSRF
    token (every signed-in page has it in its sign-out form); another site's form is refused before this.
    """
    csrf = await page.locator('input[name="csrf_token"]').first.get_attribute("value") or ""
    fields = {"csrf_token": csrf, **fields}
    inputs = "".join(f'<input type="hidden" name="{k}" value="{v}">' for k, v in fields.items())
    html = f'<form id="crafted" method="post" action="{action}">{inputs}<button>Send it</button></form>'
    await page.evaluate("html => document.querySelector('main').insertAdjacentHTML('beforeend', html)", html)
    await page.locator("#crafted button").click()
    await page.wait_for_load_state()


def ehcp_family(engine: Engine, school: School, surname: str) -> tuple[Pupil, Parent]:
    """A Year 6 pupil of Kent with an EHC plan and a parent of their own, named `surname` and a marker."""
    with Session(engine, expire_on_commit=False) as s:
        marker = uuid.uuid4().hex[:6]
        pupil = Pupil(
            school_id=school.id,
            legal_name=f"Noor {surname}{marker}",
            date_of_birth=dt.date(2015, 3, 1),
            year_group=6,
            sen_provision="E",
            needs=["SLCN"],
            local_authority="Kent",
        )
        parent = Parent(name=f"Sam {surname}{marker}", email=f"sam.{marker}@example.org")
        s.add_all([pupil, parent])
        s.commit()
        s.add(PupilParent(pupil_id=pupil.id, parent_id=parent.id))
        s.commit()
        return pupil, parent
