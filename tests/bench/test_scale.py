"""The scale bench at a tiny size on the real embedded stack: its report, and a burst counted exactly once."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from bench import scale_caseload as caseload
from infra.settings import DEV_CODEC_KEY, ROOT, Settings

TODAY = dt.date(2026, 12, 2)
TINY = ["--cases", "20", "--burst", "10", "--margin", "8", "--requests", "10"]


def test_the_spread_caseload_falls_across_the_next_12_months_and_is_never_reminded_today() -> None:
    reviews = caseload.spread(730, TODAY)
    review_dates = {r.cycle_start.replace(year=r.cycle_start.year + 1) for r in reviews}
    assert min(review_dates) <= TODAY + dt.timedelta(days=7)
    assert max(review_dates) >= TODAY + dt.timedelta(days=350)
    assert all(TODAY not in caseload.reminder_days(r.cycle_start) for r in reviews)


def test_every_burst_case_is_reminded_once_today_and_not_again_before_tomorrow() -> None:
    for review in caseload.burst(3, TODAY):
        days = caseload.reminder_days(review.cycle_start)
        assert days.count(TODAY) == 1 and all(d < TODAY for d in days if d != TODAY)


def test_the_bench_reminder_time_is_refused_in_production() -> None:
    production = {
        "environment": "production",
        "codec_key": "cHJvZHVjdGlvbi1rZXktMzItYnl0ZXMtbG9uZy4uLi4=",
        "public_url": "https://send.example.org",
        "link_key": "bGluay1zaWduaW5nLWtleS0zMi1ieXRlcy1sb25nLi4=",
    }
    assert Settings(**production).bench_remind_at is None
    with pytest.raises(ValidationError, match="SEND_BENCH_REMIND_AT is for the scale bench only"):
        Settings(**production, bench_remind_at=dt.time(4, 30))
    assert Settings(codec_key=DEV_CODEC_KEY, bench_remind_at="04:30:15").bench_remind_at == dt.time(4, 30, 15)


def test_a_tiny_run_reports_every_figure_and_counts_each_reminder_of_the_burst_once(tmp_path: Path) -> None:
    out = tmp_path / "scale.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench.scale", *TINY, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads(out.read_text())
    opening = report["opening"]
    assert opening["cases"] == 20 and opening["per_second"] > 0
    assert opening["spread"]["n"] == 10 and opening["burst_cases"]["n"] == 10
    for process in ("temporal", "worker", "api", "mailbox"):
        assert report["rss_mib"]["all_open"][process] > 10  # MiB: a live process, read from /proc
        assert process in opening["spread"]["cpu_seconds"]
    assert report["data"]["all_open"]["open_cases"] == 20
    burst = report["burst"]
    assert burst["reminders_expected"] == 10
    assert burst["messages_received"] == burst["distinct_message_ids"] == burst["cases_reminded"] == 10
    assert burst["duplicates"] == burst["lost"] == burst["cases_reminded_more_than_once"] == 0
    assert 0 <= burst["first_s"] <= burst["p50_s"] <= burst["drain_s"] < 60
    assert set(report["lists"]) == {"health", "cases", "deadlines"}
    assert report["lists"]["cases"]["total_rows"] == 20
    assert len(report["machine"]["load_avg_before"]) == len(report["machine"]["load_avg_after"]) == 3
    assert "lost 0, duplicates 0" in run.stdout
