"""domain.timelines for pupils joining and leaving: school days on the school's calendar, working days
without England's bank holidays, and the plan's transfer clocks between LAs."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from domain.dates import SchoolYearCalendar
from domain.timelines import (
    JoiningFacts,
    LeavingFacts,
    PhaseTransferFacts,
    TimelineEntry,
    joining_timeline,
    la_transfer_due,
    leaving_timeline,
    phase_transfer_timeline,
)

# Half-term 26-30 Oct 2026, an INSET day on Mon 2 Nov.
SCHOOL = SchoolYearCalendar.from_school(
    [(date(2026, 9, 3), date(2026, 10, 23)), (date(2026, 11, 2), date(2026, 12, 18))], [date(2026, 11, 2)]
)


def steps(entries: list[TimelineEntry]) -> list[tuple[str, str, date]]:
    return [(e.step, e.rule_id, e.due) for e in entries]


def test_la_transfer_over_easter_skips_both_bank_holidays() -> None:
    # Moved Mon 22 Mar 2027, no notice: 23-25 Mar, (Good Friday, Easter Monday), 30 Mar-2 Apr, 5-9, 12-14 Apr.
    assert la_transfer_due(date(2027, 3, 22)) == date(2027, 4, 14)


def test_la_transfer_with_15_working_days_notice_is_on_the_day_of_the_move() -> None:
    assert la_transfer_due(date(2027, 3, 22), old_la_aware_on=date(2027, 3, 1)) == date(2027, 3, 22)
    # One working day short of the notice: 15 working days from when the old LA learned of it.
    assert la_transfer_due(date(2027, 3, 22), old_la_aware_on=date(2027, 3, 2)) == date(2027, 3, 23)


def test_a_joiner_with_sen_moving_la() -> None:
    facts = JoiningFacts(admission_date=date(2026, 10, 19), has_sen=True, moved_on=date(2026, 10, 16))
    assert steps(joining_timeline(facts, SCHOOL)) == [
        ("new-pupil-return", "TR-NEW-PUPIL-RETURN", date(2026, 10, 24)),  # 5 calendar days
        ("la-transfer", "TR-LA-TRANSFER", date(2026, 11, 6)),  # 15 working days (no bank holiday)
        ("parents-meeting", "GA-PARENT-MEETINGS", date(2026, 11, 10)),  # 20-23 Oct, 3-6, 9-10 Nov: 10
        ("records", "TR-CTF", date(2026, 11, 17)),  # 4 + 4 (after the INSET day) + 5 + 2: 15 school days
        ("sen-file", "TR-SEN-FILE", date(2026, 11, 17)),
        ("new-la-contact", "TR-NEW-LA-CONTACT", date(2026, 12, 18)),  # the transfer due + 6 weeks
    ]
    arrived = facts.model_copy(update={"plan_transferred_on": date(2026, 11, 2)})
    assert steps(joining_timeline(arrived, SCHOOL))[-1] == (
        "new-la-contact",
        "TR-NEW-LA-CONTACT",
        date(2026, 12, 14),
    )


def test_a_joiner_without_sen_or_a_move_has_the_return_and_the_records() -> None:
    facts = JoiningFacts(admission_date=date(2026, 10, 19))
    assert [e.step for e in joining_timeline(facts, SCHOOL)] == ["new-pupil-return", "records"]
    with pytest.raises(ValidationError, match="give the day the family moved"):
        JoiningFacts(admission_date=date(2026, 10, 19), plan_transferred_on=date(2026, 11, 2))


def test_a_leaver_to_another_school_over_half_term_and_an_inset_day() -> None:
    # Left Fri 16 Oct 2026: 19-23 Oct, (half-term, INSET 2 Nov), 3-6, 9-13, 16 Nov.
    facts = LeavingFacts(leaving_date=date(2026, 10, 16), has_sen_file=True)
    assert steps(leaving_timeline(facts, SCHOOL)) == [
        ("deletion-return", "TR-DELETION-RETURN", date(2026, 10, 16)),
        ("ctf", "TR-CTF", date(2026, 11, 16)),
        ("sen-file", "TR-SEN-FILE", date(2026, 11, 16)),
    ]
    sent = facts.model_copy(update={"sen_file_sent_on": date(2026, 10, 22)})  # 23 Oct, 3-6 Nov
    acknowledged = {e.step: e for e in leaving_timeline(sent, SCHOOL)}["sen-file-acknowledged"]
    assert (acknowledged.rule_id, acknowledged.due) == ("TR-SEN-FILE", date(2026, 11, 6))
    # On the default calendar the break is the same week but there is no INSET day: a day earlier.
    assert steps(leaving_timeline(facts))[1] == ("ctf", "TR-CTF", date(2026, 11, 13))


def test_a_leaver_not_to_a_school_has_only_the_deletion_return_and_a_dual_registration_its_own_ctf() -> None:
    gone = LeavingFacts(leaving_date=date(2026, 10, 16), to_school=False, has_sen_file=True)
    assert [e.step for e in leaving_timeline(gone, SCHOOL)] == ["deletion-return"]
    dual = LeavingFacts(leaving_date=date(2026, 10, 16), dual_registration_learned_on=date(2026, 10, 21))
    assert steps(leaving_timeline(dual, SCHOOL))[-1] == (
        "dual-registration",
        "TR-DUALREG",
        date(2026, 11, 19),
    )


def test_phase_transfer_dates_for_an_ehc_plan_and_none_for_sen_support() -> None:
    ehc = PhaseTransferFacts(plan="ehc_plan", transfer="phase", transfer_year=2027)
    assert steps(phase_transfer_timeline(ehc)) == [
        ("review-meeting", "PT-LATEST-MEETING", date(2026, 11, 23)),  # 15 Feb less 12 weeks
        ("final-plan", "PT-15FEB", date(2027, 2, 15)),
    ]
    post16 = PhaseTransferFacts(plan="ehc_plan", transfer="post16", transfer_year=2027)
    assert steps(phase_transfer_timeline(post16))[-1] == ("final-plan", "PT-31MAR", date(2027, 3, 31))
    assert phase_transfer_timeline(PhaseTransferFacts(plan="sen_support", transfer_year=2027)) == []
