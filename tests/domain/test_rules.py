"""domain.rules: every rule of statutory.md is there, worded and cited as there, and its arithmetic holds."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from domain.dates import (
    SchoolYearCalendar,
    add_days,
    add_months,
    add_weeks,
    add_working_days,
    inclusive_window_end,
    within_months,
)
from domain.rules import RULES, Rule, Unit, rule

STATUTORY = Path(__file__).parents[3] / "shared/statutory.md"


def statutory_rows() -> dict[str, list[str]]:
    """The cells of every rule row in statutory.md's tables, by id."""
    if not STATUTORY.is_file():
        pytest.fail(f"statutory.md not found at {STATUTORY}: the rules cannot be checked against it")
    rows: dict[str, list[str]] = {}
    for line in STATUTORY.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] in ("id", "") or set(cells[0]) <= {"-"}:
            continue
        assert cells[0] not in rows, f"{cells[0]} appears twice in statutory.md"
        rows[cells[0]] = cells
    return rows


def test_statutory_md_is_parsed() -> None:
    rows = statutory_rows()
    assert len(rows) == 42
    assert {"AR-DUE", "PT-LATEST-MEETING", "SCHOOL-CONSULT", "SENIF", "TR-NEW-LA-CONTACT"} <= set(rows)


def test_rules_hold_exactly_the_ids_of_statutory_md() -> None:
    ids = set(statutory_rows())
    assert set(RULES) - ids == set(), "rules not in statutory.md"
    assert ids - set(RULES) == set(), "statutory.md rules missing from domain.rules"


def test_citation_description_and_due_are_as_in_statutory_md() -> None:
    for rule_id, cells in statutory_rows().items():
        r = RULES[rule_id]
        assert r.id == rule_id
        assert r.citation == cells[-1], rule_id
        assert r.description == cells[1], rule_id
        assert r.due == cells[2], rule_id


def test_local_rules_are_flagged() -> None:
    local = {r.id for r in RULES.values() if r.local}
    assert local == {
        "AR-ADVICE-REQUEST",
        "EP-CONSENT",
        "EP-ALLOCATION",
        "EP-VISIT",
        "EP-REPORT",
        "HNF-EVIDENCE",
        "HNF-DECISION",
        "HNF-AWARD",
        "SENIF",
    }


def test_rule_lookup() -> None:
    r = rule("AR-INVITE")
    assert (r.offset, r.unit, r.citation) == (14, Unit.CALENDAR_DAYS, "Regs 20(3)")
    assert r.unit == "calendar days"


def test_unknown_rule_names_the_id() -> None:
    with pytest.raises(KeyError, match="AR-NOPE"):
        rule("AR-NOPE")


def test_rules_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        RULES["AR-DUE"].offset = 11  # type: ignore[misc]


def test_units_are_the_documented_values() -> None:
    assert {u.value for u in Unit} == {
        "calendar days",
        "calendar weeks",
        "calendar months",
        "working days",
        "school days",
        "date",
        "event",
        "cadence",
        "cycles",
        "days",
    }


@pytest.mark.parametrize(
    ("rule_id", "offset", "unit"),
    [
        ("AR-DUE", 12, Unit.CALENDAR_MONTHS),
        ("AR-UNDER5", 6, Unit.CALENDAR_MONTHS),
        ("AR-INVITE", 14, Unit.CALENDAR_DAYS),
        ("AR-REPORT", 14, Unit.CALENDAR_DAYS),
        ("AR-LA-DECISION", 28, Unit.CALENDAR_DAYS),
        ("AR-AMEND-COMMENTS", 15, Unit.CALENDAR_DAYS),
        ("AR-FINAL-AMENDED", 56, Unit.CALENDAR_DAYS),
        ("PT-15FEB", None, Unit.DATE),
        ("PT-31MAR", None, Unit.DATE),
        ("PT-LATEST-MEETING", 12, Unit.CALENDAR_WEEKS),
        ("TR-RECORDS-ACCESS", 15, Unit.SCHOOL_DAYS),
        ("TR-LA-TRANSFER", 15, Unit.WORKING_DAYS),
        ("TR-NEW-PUPIL-RETURN", 5, Unit.DAYS),
        ("GA-SPECIALIST", 2, Unit.CYCLES),
        ("GA-PARENT-MEETINGS", 3, Unit.CADENCE),
    ],
)
def test_offsets_and_units(rule_id: str, offset: int | None, unit: Unit) -> None:
    assert (RULES[rule_id].offset, RULES[rule_id].unit) == (offset, unit)


# --- the arithmetic of every rule with a clock, against hand-computed dates ----------------------

INCLUSIVE = {"AR-AMEND-COMMENTS", "EHCNA-DRAFT-COMMENTS"}
WITHIN = {"AR-DUE", "AR-UNDER5"}
BEFORE, AFTER = -1, 1
DEFAULT_CALENDAR = SchoolYearCalendar()


def apply(r: Rule, anchor: date, direction: int, offset: int | None = None) -> date:
    """The due date of a rule from its anchor, counting the rule's offset in the rule's unit."""
    n = (r.offset if offset is None else offset) or 0
    if r.id in INCLUSIVE:
        return inclusive_window_end(anchor, n)
    if r.id in WITHIN:
        return within_months(anchor, n)
    by_unit = {
        Unit.CALENDAR_DAYS: add_days,
        Unit.DAYS: add_days,
        Unit.CALENDAR_WEEKS: add_weeks,
        Unit.CALENDAR_MONTHS: add_months,
        Unit.WORKING_DAYS: add_working_days,
        Unit.SCHOOL_DAYS: DEFAULT_CALENDAR.add_school_days,
    }
    return by_unit[r.unit](anchor, direction * n)


ARITHMETIC = [
    ("AR-DUE", date(2025, 9, 1), AFTER, date(2026, 8, 31)),
    ("AR-UNDER5", date(2026, 1, 15), AFTER, date(2026, 7, 14)),
    ("AR-ADVICE-REQUEST", date(2026, 11, 2), BEFORE, date(2026, 9, 21)),
    ("AR-INVITE", date(2026, 11, 2), BEFORE, date(2026, 10, 19)),
    ("AR-ADVICE-CIRCULATE", date(2026, 3, 5), BEFORE, date(2026, 2, 19)),
    ("AR-REPORT", date(2026, 11, 2), AFTER, date(2026, 11, 16)),
    ("AR-LA-DECISION", date(2026, 11, 2), AFTER, date(2026, 11, 30)),
    ("AR-AMEND-PROPOSAL", date(2026, 12, 10), AFTER, date(2027, 1, 7)),
    ("AR-AMEND-COMMENTS", date(2026, 11, 30), AFTER, date(2026, 12, 14)),
    ("AR-FINAL-AMENDED", date(2026, 11, 30), AFTER, date(2027, 1, 25)),
    ("PT-POST16", date(2027, 1, 4), BEFORE, date(2026, 8, 4)),
    ("PT-POST16", date(2027, 7, 31), BEFORE, date(2027, 2, 28)),  # no 31 Feb: the earlier month end
    ("PT-LATEST-MEETING", date(2027, 2, 15), BEFORE, date(2026, 11, 23)),
    ("EHCNA-DECIDE", date(2026, 1, 12), AFTER, date(2026, 2, 23)),
    ("EHCNA-ADVICE", date(2026, 2, 23), AFTER, date(2026, 4, 6)),
    ("EHCNA-NO-PLAN", date(2026, 1, 12), AFTER, date(2026, 5, 4)),
    ("EHCNA-DRAFT-COMMENTS", date(2026, 5, 20), AFTER, date(2026, 6, 3)),
    ("EHCNA-FINAL", date(2026, 1, 12), AFTER, date(2026, 6, 1)),
    ("SCHOOL-CONSULT", date(2026, 3, 20), AFTER, date(2026, 4, 4)),
    ("GA-ANNUAL-REPORT", date(2025, 7, 10), AFTER, date(2026, 7, 10)),
    # Wed 21 Oct 2026: 22, 23 Oct, (half term), 2, 3, 4 Nov
    ("EP-CONSENT", date(2026, 10, 21), AFTER, date(2026, 11, 4)),
    # Mon 2 Nov 2026 + 30 school days (6 school weeks)
    ("EP-VISIT", date(2026, 11, 2), AFTER, date(2026, 12, 14)),
    ("EP-REPORT", date(2026, 12, 14), AFTER, date(2027, 1, 25)),
    ("HNF-DECISION", date(2026, 6, 1), AFTER, date(2026, 6, 15)),
    ("HNF-AWARD", date(2027, 3, 31), BEFORE, date(2027, 2, 3)),
    # Fri 16 Jul 2027: 19, 20, 21 Jul, (summer holiday), Fri 3 Sep, then 11 more
    ("TR-CTF", date(2027, 7, 16), AFTER, date(2027, 9, 20)),
    # Tue 10 Feb 2026: 11-13 Feb, (half term 16-20 Feb), 23 Feb ... 10 Mar
    ("TR-DUALREG", date(2026, 2, 10), AFTER, date(2026, 3, 10)),
    ("TR-NEW-PUPIL-RETURN", date(2026, 9, 3), AFTER, date(2026, 9, 8)),
    # Tue 20 Oct 2026: 21-23 Oct, (half term), 2-13 Nov, 16, 17 Nov
    ("TR-RECORDS-ACCESS", date(2026, 10, 20), AFTER, date(2026, 11, 17)),
    # Mon 14 Dec 2026: skips 25 Dec, 28 Dec (Boxing Day observed) and 1 Jan
    ("TR-LA-TRANSFER", date(2026, 12, 14), AFTER, date(2027, 1, 7)),
    ("TR-NEW-LA-CONTACT", date(2027, 1, 7), AFTER, date(2027, 2, 18)),
]

# Rules with no fixed offset; PT-15FEB and PT-31MAR are fixed dates, checked in test_timelines.
NO_CLOCK = {
    "PT-15FEB": Unit.DATE,
    "PT-31MAR": Unit.DATE,
    "GA-INFORM": Unit.EVENT,
    "GA-REVIEW": Unit.SCHOOL_DAYS,
    "EP-ALLOCATION": Unit.CADENCE,
    "HNF-THRESHOLD": Unit.EVENT,
    "HNF-EVIDENCE": Unit.EVENT,
    "SENIF": Unit.DATE,
    "TR-DELETION-RETURN": Unit.EVENT,
    "TR-SEN-FILE": Unit.SCHOOL_DAYS,
}
NOT_DATES = {"GA-PARENT-MEETINGS", "GA-SPECIALIST"}  # a cadence and a count of cycles, checked above


@pytest.mark.parametrize(("rule_id", "anchor", "direction", "expected"), ARITHMETIC)
def test_rule_arithmetic(rule_id: str, anchor: date, direction: int, expected: date) -> None:
    assert apply(RULES[rule_id], anchor, direction) == expected


def test_every_rule_is_covered() -> None:
    covered = {rule_id for rule_id, *_ in ARITHMETIC} | set(NO_CLOCK) | NOT_DATES
    assert covered == set(RULES)
    for rule_id, unit in NO_CLOCK.items():
        assert (RULES[rule_id].offset, RULES[rule_id].unit) == (None, unit), rule_id


def test_escalation_thresholds() -> None:
    consent, decision = RULES["EP-CONSENT"], RULES["HNF-DECISION"]
    assert (consent.offset, consent.escalate_after) == (5, 10)
    assert (decision.offset, decision.escalate_after) == (2, 6)
    # consent asked Wed 21 Oct 2026: chase Wed 4 Nov, escalate after 5 more school days
    assert apply(consent, date(2026, 10, 21), AFTER, consent.escalate_after) == date(2026, 11, 11)
    assert apply(decision, date(2026, 6, 1), AFTER, decision.escalate_after) == date(2026, 7, 13)
