"""POST /api/v1/timelines/preview over HTTP: every deadline, with rule id and citation, nothing started."""

from __future__ import annotations


def test_annual_review_preview_lists_every_deadline_with_its_rule(as_sendco):  # type: ignore[no-untyped-def]
    facts = {
        "cycle_start": "2026-03-02",
        "year_group": 6,
        "transfer": "phase",
        "transfer_year": 2027,
        "meeting": "2026-11-10",
    }
    r = as_sendco.post("/api/v1/timelines/preview", json={"process": "annual_review", "facts": facts})
    assert r.status_code == 200, r.text
    by_step = {e["step"]: e for e in r.json()}
    assert by_step["review-due"] == {
        "rule_id": "AR-DUE",
        "step": "review-due",
        "due": "2027-03-01",
        "unit": "calendar months",
        "citation": "CFA s.44(1); CoP 9.169",
    }
    assert (by_step["phase-transfer"]["rule_id"], by_step["phase-transfer"]["due"]) == (
        "PT-15FEB",
        "2027-02-15",
    )
    assert (by_step["latest-meeting"]["rule_id"], by_step["latest-meeting"]["due"]) == (
        "PT-LATEST-MEETING",
        "2026-11-23",
    )
    assert by_step["send-invitations"]["due"] == "2026-10-27"  # meeting - 14 days (AR-INVITE)
    assert by_step["send-report"]["due"] == "2026-11-24"  # meeting + 14 days (AR-REPORT)
    assert by_step["la-decision"]["due"] == "2026-12-08"  # meeting + 28 days (AR-LA-DECISION)
    assert by_step["la-decision"]["citation"].startswith("Regs 20")
    assert [e["due"] for e in r.json()] == sorted(e["due"] for e in r.json())


def test_records_request_preview_counts_school_days(as_sendco):  # type: ignore[no-untyped-def]
    # Received Friday 11 Dec 2026: 14-18 Dec, then (default terms) 4-8, 11-15 Jan 2027.
    r = as_sendco.post(
        "/api/v1/timelines/preview",
        json={"process": "records_request", "facts": {"request_received": "2026-12-11"}},
    )
    assert r.status_code == 200, r.text
    [entry] = r.json()
    assert entry["rule_id"] == "TR-RECORDS-ACCESS" and entry["unit"] == "school days"
    assert entry["due"] == "2027-01-15"


def test_joining_preview_shows_the_la_transfer_clocks_in_working_days(as_sendco):  # type: ignore[no-untyped-def]
    # Admitted Mon 30 Nov 2026, moved Fri 27 Nov with no notice; default terms (the test school has none).
    facts = {"admission_date": "2026-11-30", "has_sen": True, "moved_on": "2026-11-27"}
    r = as_sendco.post("/api/v1/timelines/preview", json={"process": "joining", "facts": facts})
    assert r.status_code == 200, r.text
    by_step = {e["step"]: (e["rule_id"], e["due"], e["unit"]) for e in r.json()}
    assert by_step == {
        "new-pupil-return": ("TR-NEW-PUPIL-RETURN", "2026-12-05", "days"),
        "parents-meeting": ("GA-PARENT-MEETINGS", "2026-12-14", "cadence"),
        "la-transfer": ("TR-LA-TRANSFER", "2026-12-18", "working days"),
        "records": ("TR-CTF", "2027-01-04", "school days"),  # 1-18 Dec (14), then 4 Jan
        "sen-file": ("TR-SEN-FILE", "2027-01-04", "school days"),
        "new-la-contact": ("TR-NEW-LA-CONTACT", "2027-01-29", "calendar weeks"),
    }


def test_leaving_preview_counts_the_ctf_over_half_term(as_sendco):  # type: ignore[no-untyped-def]
    # Left Fri 16 Oct 2026: 19-23 Oct, (default half-term 26-30 Oct), 2-6 and 9-13 Nov.
    facts = {"leaving_date": "2026-10-16", "has_sen_file": True}
    r = as_sendco.post("/api/v1/timelines/preview", json={"process": "leaving", "facts": facts})
    assert r.status_code == 200, r.text
    assert [(e["step"], e["rule_id"], e["due"]) for e in r.json()] == [
        ("deletion-return", "TR-DELETION-RETURN", "2026-10-16"),
        ("ctf", "TR-CTF", "2026-11-13"),
        ("sen-file", "TR-SEN-FILE", "2026-11-13"),
    ]
    far = as_sendco.post(
        "/api/v1/timelines/preview", json={"process": "leaving", "facts": {"leaving_date": "2101-01-04"}}
    )
    assert far.status_code == 422 and far.json()["errors"][0]["field"] == "facts.leaving_date"


def test_bad_preview_requests_say_which_field(as_sendco, api_url):  # type: ignore[no-untyped-def]
    import httpx

    r = as_sendco.post("/api/v1/timelines/preview", json={"process": "nope", "facts": {}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "process"
    r = as_sendco.post(
        "/api/v1/timelines/preview",
        json={"process": "annual_review", "facts": {"cycle_start": "2026-13-01", "year_group": 6}},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "facts.cycle_start"
    r = as_sendco.post(
        "/api/v1/timelines/preview",
        json={
            "process": "annual_review",
            "facts": {"cycle_start": "2026-03-01", "year_group": 6, "transfer": "phase"},
        },
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "facts.transfer_year"
    assert httpx.post(f"{api_url}/api/v1/timelines/preview", json={}).status_code == 401


def test_a_preview_of_dates_beyond_the_calendar_is_422_not_500(as_sendco):  # type: ignore[no-untyped-def]
    window = "Enter a date from 2000 to 2100."
    for process, facts, field, message in [
        ("annual_review", {"cycle_start": "9999-12-01", "year_group": 6}, "facts.cycle_start", window),
        ("annual_review", {"cycle_start": "1999-09-01", "year_group": 6}, "facts.cycle_start", window),
        (
            "annual_review",
            {"cycle_start": "2026-03-01", "year_group": 6, "transfer": "phase", "transfer_year": 9999},
            "facts.transfer_year",
            "9999 is not within two years after cycle_start (2026-03-01).",  # the timeline's own check
        ),
        ("records_request", {"request_received": "9999-12-01"}, "facts.request_received", window),
    ]:
        r = as_sendco.post("/api/v1/timelines/preview", json={"process": process, "facts": facts})
        assert r.status_code == 422, (facts, r.text)
        answer = r.json()
        assert answer["code"] == "invalid" and answer["errors"][0]["field"] == field
        assert answer["message"] == message
    # A preview may look ahead: a request expected next month is previewed, not refused.
    r = as_sendco.post(
        "/api/v1/timelines/preview",
        json={"process": "records_request", "facts": {"request_received": "2099-01-05"}},
    )
    assert r.status_code == 200, r.text
