"""The LA's funding requirements as data, the costing with its working, eligibility and the timeline."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from domain.dates import SchoolYearCalendar
from domain.funding_application import (
    CostLine,
    FundingApplicationStart,
    FundingEvidence,
    FundingFacts,
    PanelSchedule,
    award_end,
    award_review_terms,
    checklist,
    costing,
    funding_rules,
    funding_timeline,
    parse_funding_rules,
)
from domain.rules import rule

CONSENT = {"id": "consent", "kind": "parental_consent", "title": "Consent"}
COSTS = {"id": "costs", "kind": "provision_map", "title": "Costed provision"}


def evidence(*lines: tuple[float, int], age: int = 9, ehc: bool = False, la: str = "Kent") -> FundingEvidence:
    return FundingEvidence(
        rules=funding_rules(la),
        school_year="2026/27",
        provision=[
            CostLine(intervention=f"I{n}", delivery="individual", cost_per_week=w, weeks=k, cost=w * k)
            for n, (w, k) in enumerate(lines)
        ],
        age=age,
        has_ehc_plan=ehc,
    )


def test_an_la_with_no_rules_of_its_own_gets_the_statutory_defaults() -> None:
    rules = funding_rules("Nowhere Council")
    assert rules.local_authority == "default"
    assert rules.notional_threshold == 6000.0
    assert rules.decision_weeks == rule("HNF-DECISION").offset == 2
    assert rules.escalate_weeks == rule("HNF-DECISION").escalate_after == 6
    assert rules.reapply_weeks == rule("HNF-AWARD").offset == 8
    assert [e.id for e in rules.checklist("top_up")] == [
        "support-plans",
        "specialist-report",
        "costed-provision",
        "parental-consent",
    ]
    assert rules.next_panel("top_up", dt.date(2027, 1, 1)) is None
    assert funding_rules(None) == rules


def test_kents_rules_come_from_the_data_file() -> None:
    kent = funding_rules("kent")  # matched whatever the case
    assert kent.local_authority == "Kent"
    assert [e.id for e in kent.checklist("senif")] == [
        "early-years-plan",
        "setting-observation",
        "costed-provision",
        "parental-consent",
    ]
    assert kent.next_panel("senif", dt.date(2027, 1, 1)) == dt.date(2027, 1, 28)  # the last Thursday
    assert kent.next_panel("senif", dt.date(2026, 12, 1)) == dt.date(2027, 1, 28)  # none in December


def test_unsound_rules_are_refused_naming_the_la() -> None:
    with pytest.raises(ValidationError, match="Leeds: each evidence item needs its own id"):
        parse_funding_rules(
            {
                "default": {"funding_team": "t", "evidence": [CONSENT, COSTS]},
                "authorities": {"Leeds": {"funding_team": "t", "evidence": [CONSENT, CONSENT, COSTS]}},
            }
        )
    with pytest.raises(ValidationError, match="must include parental consent"):
        parse_funding_rules({"default": {"funding_team": "t", "evidence": [COSTS]}})
    with pytest.raises(ValidationError, match="escalate_weeks must be after decision_weeks"):
        parse_funding_rules(
            {"default": {"funding_team": "t", "evidence": [CONSENT, COSTS], "decision_weeks": 6}}
        )
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        parse_funding_rules({"default": {"funding_team": "t", "evidence": [CONSENT, COSTS], "threshold": 1}})


def test_panels_sit_on_the_first_or_last_weekday_of_the_month() -> None:
    last_thursday = PanelSchedule(weekday=3, which="last", months=[3])
    assert last_thursday.next_on_or_after(dt.date(2027, 3, 1)) == dt.date(2027, 3, 25)
    assert last_thursday.next_on_or_after(dt.date(2027, 3, 26)) == dt.date(2028, 3, 30)
    first_monday = PanelSchedule(weekday=0, which="first", months=[2, 9])
    assert first_monday.next_on_or_after(dt.date(2027, 2, 2)) == dt.date(2027, 9, 6)


def test_the_amount_asked_is_the_cost_above_the_threshold_with_its_working() -> None:
    cost = costing(evidence((250.0, 38), (20.0, 10)), "top_up")
    assert (cost.total, cost.threshold, cost.asked) == (9700.0, 6000.0, 3700.0)
    assert cost.working == [
        "I0 (individual): £250.00 a week for 38 weeks = £9,500.00",
        "I1 (individual): £20.00 a week for 10 weeks = £200.00",
        "Provision map 2026/27: total £9,700.00",
        "Less the school's notional SEN threshold £6,000.00 (HNF-THRESHOLD): £3,700.00 asked for",
    ]
    below = evidence((100.0, 38))
    assert costing(below, "top_up").asked == 0.0
    [provision] = [i for i in checklist(below, "top_up", {}, None) if i.id == "costed-provision"]
    assert not provision.held
    assert provision.missing == (
        "the provision costs £3,800.00 this school year, not above the £6,000.00 threshold (HNF-THRESHOLD)"
    )


@pytest.mark.parametrize(
    ("kind", "age", "ehc", "refusal"),
    [
        ("senif", 3, False, ""),
        ("senif", 3, True, "SENIF is for a child without a final EHC plan, and this child has one"),
        ("senif", 5, False, "SENIF is for a funded 2 to 4 year old, and this child is 5"),
        ("top_up", 9, False, ""),
        (
            "top_up",
            3,
            False,
            "top-up funding is for a school-age pupil, and this child is 3: apply for SENIF",
        ),
    ],
)
def test_eligibility_is_the_first_item_of_the_checklist(kind: str, age: int, ehc: bool, refusal: str) -> None:
    items = checklist(evidence((250.0, 38), age=age, ehc=ehc), kind, {}, dt.date(2026, 12, 1))  # type: ignore[arg-type]
    if refusal:
        assert (items[0].id, items[0].held, items[0].missing) == ("eligibility", False, refusal)
    else:
        assert items[0].id != "eligibility"


def test_the_start_refuses_a_year_group_the_funding_is_not_for() -> None:
    with pytest.raises(ValidationError, match="SENIF is for funded 2 to 4 year olds"):
        FundingApplicationStart(kind="senif", year_group=3, summary="x")
    with pytest.raises(ValidationError, match="top-up funding is for school-age pupils"):
        FundingApplicationStart(kind="top_up", year_group=-1, summary="x")


def test_the_timeline_from_consent_to_the_awards_reviews() -> None:
    calendar = SchoolYearCalendar()
    opened = dt.date(2027, 1, 4)
    starts = dt.date(2027, 2, 15)
    ends = award_end(starts, 12)
    assert ends == dt.date(2028, 2, 14)
    facts = FundingFacts(
        opened_on=opened,
        kind="senif",
        submitted_on=dt.date(2027, 1, 20),
        panel_dates=[dt.date(2027, 1, 28)],
        award_starts=starts,
        award_ends=ends,
    )
    entries = {e.step: (e.rule_id, e.due) for e in funding_timeline(facts, calendar)}
    assert entries["consent"] == ("HNF-EVIDENCE", dt.date(2027, 1, 14))
    assert entries["panel"] == ("SENIF", dt.date(2027, 1, 28))
    assert entries["decision-target"] == ("HNF-DECISION", dt.date(2027, 2, 11))
    assert entries["la-decision"] == ("HNF-DECISION", dt.date(2027, 3, 11))
    assert entries["reapply"] == ("HNF-AWARD", dt.date(2027, 12, 20))
    assert entries["award-ends"] == ("HNF-AWARD", ends)
    terms = award_review_terms(starts, ends, calendar)
    assert [label for label, _ in terms] == ["spring 2027", "summer 2027", "autumn 2027", "spring 2028"]
    assert terms[-1][1] == ends  # the last review is due when the award ends, inside the spring term
    assert all(entries[f"award-review:{label}"] == ("HNF-AWARD", due) for label, due in terms)
