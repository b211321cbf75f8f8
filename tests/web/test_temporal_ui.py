"""The Temporal UI of `make run`, opened at the engine's own /temporal in headless Chromium.

The SENDCo of the case's school reads the case's start input decoded; the SENDCo of another school sees the
same payload still encrypted; a class teacher and a signed-out visitor cannot open the UI; the UI's own
write actions are refused. All on the real stack `make run` starts (dev server, worker, API, mailbox).
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from pathlib import Path

import httpx
from playwright.async_api import Browser, Page, expect
from sqlmodel import Session, create_engine

from domain.schemas import Role
from store.register import School, Staff
from store.tokens import issue_token
from tests.conftest import free_port
from tests.engine.test_run import make_run, run_env, wait_for_text, wait_healthy
from tests.web.browser import signed_in

FACTS = {"request_received": "2026-11-20"}


def other_school_sendco(var_dir: Path) -> str:
    """A second school in the running engine's register, and a token for its SENDCo."""
    engine = create_engine(f"sqlite:///{var_dir / 'send.db'}")
    with Session(engine, expire_on_commit=False) as s:
        school = School(name="Birchwood Primary", local_authority="Kent")
        s.add(school)
        s.commit()
        sendco = Staff(
            school_id=school.id, name="Sam Birch", email=f"{uuid.uuid4().hex[:8]}@b.example", role=Role.sendco
        )
        s.add(sendco)
        s.commit()
        token = issue_token(s, sendco.id)
    engine.dispose()
    return token


def started_input(ui_port: int, workflow_id: str) -> dict:
    """The workflow's start input as the Temporal server holds it (read from the UI's own port)."""
    url = f"http://127.0.0.1:{ui_port}/api/v1/namespaces/default/workflows/{workflow_id}/history"
    events = httpx.get(url, timeout=10).json()["history"]["events"]
    return events[0]["workflowExecutionStartedEventAttributes"]["input"]["payloads"][0]


async def input_showing(page: Page, path: str, want: str, within: float = 60) -> str:
    """Open the workflow in the UI and wait until its Input panel shows `want`; the panel's words."""
    await page.goto(path)
    deadline = time.monotonic() + within
    while True:
        text = await page.locator("body").inner_text()
        panel = text.split("\nInput\n", 1)[1].split("\nResult\n", 1)[0] if "\nInput\n" in text else ""
        if want in panel:
            await page.wait_for_timeout(1000)  # and it stays so (no late decoding)
            text = await page.locator("body").inner_text()
            return text.split("\nInput\n", 1)[1].split("\nResult\n", 1)[0]
        assert time.monotonic() < deadline, f"the Input panel never showed {want!r}:\n{text[-2000:]}"
        await page.wait_for_timeout(500)


async def test_the_temporal_ui_decodes_for_the_cases_own_school_only(
    browser: Browser, tmp_path: Path
) -> None:
    ports = {name: free_port() for name in ("api", "temporal", "ui", "smtp")}
    var_dir = tmp_path / "var"
    env, log = run_env(var_dir, ports), tmp_path / "run.log"
    base = f"http://127.0.0.1:{ports['api']}"

    with make_run(env, log) as proc:
        wait_healthy(base, proc, log)
        assert wait_for_text(
            log, f"Temporal Web UI {base}/temporal"
        )  # the banner points at the URL that decodes
        tokens = json.loads((var_dir / "demo-tokens.json").read_text())
        sendco, teacher = (
            next(t for who, t in tokens.items() if who.startswith(r)) for r in ("sendco", "staff")
        )
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {sendco}"}, timeout=30) as http:
            pupil = http.get("/api/v1/pupils", params={"limit": 1}).json()["items"][0]
            r = http.post(
                "/api/v1/cases", json={"process": "records_request", "pupil_id": pupil["id"], "facts": FACTS}
            )
            assert r.status_code == 201, r.text
            workflow_id = r.json()["workflow_id"]
        stored = started_input(ports["ui"], workflow_id)
        assert (
            base64.b64decode(stored["metadata"]["encoding"]) == b"binary/encrypted"
        )  # the server holds ciphertext
        school_id = int(base64.b64decode(stored["metadata"]["school-id"]))
        ciphertext = stored["data"]
        path = f"/temporal/namespaces/default/workflows/{workflow_id}"

        # The SENDCo of the case's school: the start input, decoded, in the workflow's Input panel.
        context, page = await signed_in(browser, base, sendco)
        shown = await input_showing(page, path, '"request_received": "2026-11-20"')
        assert f'"school_id": {school_id}' in shown and f'"workflow_id": "{workflow_id}"' in shown, shown
        assert ciphertext[:40] not in shown
        # The UI's own actions (terminate, signal ...) are not passed on: cases move on through the engine.
        terminate = f"/temporal/api/v1/namespaces/default/workflows/{workflow_id}/terminate"
        assert (await page.request.post(terminate, data={"reason": "x"})).status == 405
        described = httpx.get(
            f"http://127.0.0.1:{ports['ui']}/api/v1/namespaces/default/workflows/{workflow_id}", timeout=10
        ).json()
        assert described["workflowExecutionInfo"]["status"] == "WORKFLOW_EXECUTION_STATUS_RUNNING"
        await context.close()

        # The SENDCo of another school opens the same workflow: its payload is shown still encrypted.
        context, page = await signed_in(browser, base, other_school_sendco(var_dir))
        shown = await input_showing(page, path, ciphertext[:40])
        assert "request_received" not in shown and "2026-11-20" not in shown, shown
        await context.close()

        # A class teacher: refused, in words. Signed out: off to the sign-in page.
        context, page = await signed_in(browser, base, teacher)
        answer = await page.goto(path)
        assert answer is not None and answer.status == 403
        await expect(
            page.get_by_text("Only the SENDCo or the headteacher can open the Temporal UI")
        ).to_be_visible()
        await context.close()
        context = await browser.new_context(base_url=base)
        page = await context.new_page()
        await page.goto(path)
        await expect(page).to_have_url(re.compile(r"/signin\?next="))
        await expect(page.get_by_label("Token")).to_be_visible()
        await context.close()


def test_the_temporal_ui_is_not_served_in_production(api_url, sendco, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A production engine deploys a Temporal UI of its own: the API's /temporal is 404 there."""
    from infra.settings import get_settings
    from tests.api.test_sessions import signed_in_browser

    with signed_in_browser(api_url, sendco[1]) as browser:
        monkeypatch.setattr(get_settings(), "environment", "production")
        assert browser.get("/temporal/").status_code == 404
        assert browser.get("/temporal/api/v1/settings").status_code == 404
