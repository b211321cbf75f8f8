"""domain.timelines: the annual review (with each kind of transfer) and records request timelines."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from domain.dates import SchoolYearCalendar
from domain.timelines import (
    AnnualReviewFacts,
    RecordsRequestFacts,
    TimelineEntry,
    annual_review_timeline,
    due_of,
    latest_meeting_date,
    records_request_timeline,
)


def steps(entries: list[TimelineEntry]) -> list[tuple[str, str, date]]:
    return [(e.step, e.rule_id, e.due) for e in entries]


# --- annual review -------------------------------------------------------------------------------


def test_no_transfer_lists_review_due_and_when_to_set_the_meeting() -> None:
    facts = AnnualReviewFacts(cycle_start=date(2025, 9, 1), year_group=3)
    assert steps(annual_review_timeline(facts)) == [
        ("set-meeting-date", "AR-ADVICE-REQUEST", date(2026, 7, 6)),  # 31 Aug less 6 + 2 weeks
        ("review-due", "AR-DUE", date(2026, 8, 31)),
    ]
    assert latest_meeting_date(facts) == date(2026, 8, 31)


def test_review_due_for_a_plan_issued_on_a_leap_day() -> None:
    facts = AnnualReviewFacts(cycle_start=date(2024, 2, 29), year_group=2)
    assert due_of(annual_review_timeline(facts), "review-due") == date(2025, 2, 28)


def test_configured_lead_times_move_the_set_meeting_date() -> None:
    facts = AnnualReviewFacts(
        cycle_start=date(2025, 9, 1), year_group=3, advice_request_weeks=4, planning_lead_weeks=1
    )
    assert due_of(annual_review_timeline(facts), "set-meeting-date") == date(2026, 7, 27)


@pytest.mark.parametrize(
    ("months", "due"), [(6, date(2026, 7, 14)), (3, date(2026, 4, 14)), (4, date(2026, 5, 14))]
)
def test_under5_cadence(months: int, due: date) -> None:
    facts = AnnualReviewFacts(cycle_start=date(2026, 1, 15), year_group=-1, under5=True, under5_months=months)
    entries = annual_review_timeline(facts)
    review = next(e for e in entries if e.step == "review-due")
    assert (review.rule_id, review.due, review.citation) == ("AR-UNDER5", due, "CoP 9.178 (guidance)")


def test_year_6_phase_transfer_in_september_2027() -> None:
    facts = AnnualReviewFacts(
        cycle_start=date(2026, 6, 15), year_group=5, transfer="phase", transfer_year=2027
    )
    assert steps(annual_review_timeline(facts)) == [
        ("set-meeting-date", "AR-ADVICE-REQUEST", date(2026, 9, 28)),
        ("latest-meeting", "PT-LATEST-MEETING", date(2026, 11, 23)),
        ("phase-transfer", "PT-15FEB", date(2027, 2, 15)),
        ("review-due", "AR-DUE", date(2027, 6, 14)),
    ]
    assert latest_meeting_date(facts) == date(2026, 11, 23)


def test_year_11_transfer_to_post16_in_2027() -> None:
    facts = AnnualReviewFacts(
        cycle_start=date(2026, 5, 20), year_group=10, transfer="post16", transfer_year=2027
    )
    assert steps(annual_review_timeline(facts)) == [
        ("set-meeting-date", "AR-ADVICE-REQUEST", date(2026, 11, 11)),
        ("latest-meeting", "PT-LATEST-MEETING", date(2027, 1, 6)),
        ("phase-transfer", "PT-31MAR", date(2027, 3, 31)),
        ("review-due", "AR-DUE", date(2027, 5, 19)),
    ]


def test_post16_transfer_at_another_time() -> None:
    facts = AnnualReviewFacts(
        cycle_start=date(2026, 9, 1), year_group=12, transfer="post16_other", transfer_date=date(2027, 7, 31)
    )
    assert steps(annual_review_timeline(facts)) == [
        ("set-meeting-date", "AR-ADVICE-REQUEST", date(2026, 10, 11)),
        ("latest-meeting", "PT-LATEST-MEETING", date(2026, 12, 6)),
        ("phase-transfer", "PT-POST16", date(2027, 2, 28)),  # 31 Jul less 5 months, clamped
        ("review-due", "AR-DUE", date(2027, 8, 31)),
    ]


def test_review_due_before_the_transfer_meeting_wins() -> None:
    facts = AnnualReviewFacts(
        cycle_start=date(2025, 11, 1), year_group=5, transfer="phase", transfer_year=2027
    )
    assert latest_meeting_date(facts) == date(2026, 10, 31)
    assert due_of(annual_review_timeline(facts), "set-meeting-date") == date(2026, 9, 5)


def test_meeting_and_amendment_notice_add_their_steps() -> None:
    facts = AnnualReviewFacts(
        cycle_start=date(2026, 6, 15),
        year_group=5,
        transfer="phase",
        transfer_year=2027,
        meeting=date(2026, 11, 2),
        amendment_notice=date(2026, 11, 30),
    )
    assert steps(annual_review_timeline(facts)) == [
        ("request-advice", "AR-ADVICE-REQUEST", date(2026, 9, 21)),
        ("set-meeting-date", "AR-ADVICE-REQUEST", date(2026, 9, 28)),
        ("send-invitations", "AR-INVITE", date(2026, 10, 19)),
        ("circulate-advice", "AR-ADVICE-CIRCULATE", date(2026, 10, 19)),
        ("send-report", "AR-REPORT", date(2026, 11, 16)),
        ("latest-meeting", "PT-LATEST-MEETING", date(2026, 11, 23)),
        ("la-decision", "AR-LA-DECISION", date(2026, 11, 30)),
        ("amend-proposal", "AR-AMEND-PROPOSAL", date(2026, 11, 30)),
        ("amend-comments", "AR-AMEND-COMMENTS", date(2026, 12, 14)),
        ("final-amended-plan", "AR-FINAL-AMENDED", date(2027, 1, 25)),
        ("phase-transfer", "PT-15FEB", date(2027, 2, 15)),
        ("review-due", "AR-DUE", date(2027, 6, 14)),
    ]


def test_advice_request_follows_the_configured_weeks() -> None:
    facts = AnnualReviewFacts(
        cycle_start=date(2025, 9, 1), year_group=3, advice_request_weeks=8, meeting=date(2026, 6, 10)
    )
    assert due_of(annual_review_timeline(facts), "request-advice") == date(2026, 4, 15)


def test_entries_carry_the_rule_unit_and_citation() -> None:
    facts = AnnualReviewFacts(cycle_start=date(2025, 9, 1), year_group=3, meeting=date(2026, 6, 10))
    invite = next(e for e in annual_review_timeline(facts) if e.step == "send-invitations")
    assert invite == TimelineEntry(
        rule_id="AR-INVITE",
        step="send-invitations",
        due=date(2026, 5, 27),
        unit="calendar days",
        citation="Regs 20(3)",
    )


def test_due_of_an_absent_step() -> None:
    entries = annual_review_timeline(AnnualReviewFacts(cycle_start=date(2025, 9, 1), year_group=3))
    with pytest.raises(KeyError, match="latest-meeting"):
        due_of(entries, "latest-meeting")


def field_errors(facts: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        AnnualReviewFacts.model_validate(facts)
    return {".".join(map(str, e["loc"])): e["msg"] for e in caught.value.errors()}


BASE = {"cycle_start": "2026-06-15", "year_group": 5}


@pytest.mark.parametrize(
    ("extra", "field", "reason"),
    [
        ({"transfer": "phase"}, "transfer_year", "required for a phase transfer"),
        ({"transfer": "post16"}, "transfer_year", "required for a post16 transfer"),
        ({"transfer": "post16_other"}, "transfer_date", "required for a post16_other transfer"),
        ({"transfer_year": 2027}, "transfer_year", "applies only to phase and post16"),
        (
            {"transfer": "phase", "transfer_date": "2027-09-01", "transfer_year": 2027},
            "transfer_date",
            "only",
        ),
        ({"transfer": "phase", "transfer_year": 2025}, "transfer_year", "not within two years"),
        ({"transfer": "sideways"}, "transfer", "Input should be"),
        ({"under5_months": 7}, "under5_months", "less than or equal to 6"),
        ({"under5_months": 2}, "under5_months", "greater than or equal to 3"),
        ({"under5": True}, "under5", "not under 5"),
        ({"advice_request_weeks": 13}, "advice_request_weeks", "less than or equal to 12"),
        ({"advice_request_weeks": 0}, "advice_request_weeks", "greater than or equal to 1"),
        ({"meeting": "2026-06-01"}, "meeting", "cannot be before cycle_start"),
        (
            {"meeting": "2026-11-02", "amendment_notice": "2026-10-30"},
            "amendment_notice",
            "before the meeting",
        ),
    ],
)
def test_bad_facts_name_the_field_and_the_reason(extra: dict[str, Any], field: str, reason: str) -> None:
    errors = field_errors({**BASE, **extra})
    assert field in errors, errors
    assert reason in errors[field]


def test_missing_cycle_start_is_named() -> None:
    assert "cycle_start" in field_errors({"year_group": 5})


# --- records request -----------------------------------------------------------------------------


def test_records_request_with_the_default_calendar() -> None:
    timeline = records_request_timeline(RecordsRequestFacts(request_received=date(2026, 10, 20)))
    assert timeline == [
        TimelineEntry(
            rule_id="TR-RECORDS-ACCESS",
            step="respond",
            due=date(2026, 11, 17),
            unit="school days",
            citation="PIR reg 5(2)",
        )
    ]


def test_records_request_with_the_school_calendar() -> None:
    terms = [(date(2026, 9, 2), date(2026, 10, 23)), (date(2026, 11, 2), date(2026, 12, 17))]
    calendar = SchoolYearCalendar.from_school(terms, [date(2026, 11, 2)])
    facts = RecordsRequestFacts(request_received=date(2026, 10, 20))
    assert due_of(records_request_timeline(facts, calendar), "respond") == date(2026, 11, 18)
    # 3 Dec: 4, 7-11, 14-17 Dec, then the default spring term: 4-8 Jan
    late = RecordsRequestFacts(request_received=date(2026, 12, 3))
    assert due_of(records_request_timeline(late, calendar), "respond") == date(2027, 1, 8)
