"""domain.dates: calendar months, 12-month periods, working days in England and school days."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from domain.dates import (
    SchoolYearCalendar,
    academic_year,
    add_days,
    add_months,
    add_weeks,
    add_working_days,
    bank_holidays,
    default_inset_days,
    default_terms,
    easter_sunday,
    inclusive_window_end,
    is_working_day,
    last_weekday_on_or_before,
    within_12_months,
    within_months,
)

# --- calendar arithmetic --------------------------------------------------------------------------


def test_add_days_and_weeks() -> None:
    assert add_days(date(2026, 12, 25), 7) == date(2027, 1, 1)
    assert add_days(date(2026, 3, 1), -1) == date(2026, 2, 28)
    assert add_weeks(date(2027, 2, 15), -12) == date(2026, 11, 23)
    assert add_weeks(date(2024, 2, 22), 1) == date(2024, 2, 29)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2027, 1, 31), -2, date(2026, 11, 30)),
        (date(2026, 11, 15), 3, date(2027, 2, 15)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2026, 5, 31), -5, date(2025, 12, 31)),
        (date(2026, 8, 15), 0, date(2026, 8, 15)),
    ],
)
def test_add_months_clamps_to_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (date(2024, 2, 29), date(2025, 2, 28)),
        (date(2024, 3, 1), date(2025, 2, 28)),
        (date(2025, 3, 31), date(2026, 3, 30)),
        (date(2023, 3, 1), date(2024, 2, 29)),  # the period ends on a leap day
        (date(2025, 9, 1), date(2026, 8, 31)),
        (date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_within_12_months(start: date, expected: date) -> None:
    assert within_12_months(start) == expected


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 15), 6, date(2026, 7, 14)),
        (date(2026, 1, 15), 3, date(2026, 4, 14)),
        (date(2025, 3, 1), 1, date(2025, 3, 31)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 8, 31), 6, date(2025, 2, 28)),
        (date(2023, 11, 30), 3, date(2024, 2, 29)),
    ],
)
def test_within_months(start: date, months: int, expected: date) -> None:
    assert within_months(start, months) == expected


def test_within_months_needs_a_period() -> None:
    with pytest.raises(ValueError, match="at least 1 month"):
        within_months(date(2026, 1, 1), 0)


def test_inclusive_window_counts_the_day_of_service() -> None:
    assert inclusive_window_end(date(2026, 11, 30), 15) == date(2026, 12, 14)
    assert inclusive_window_end(date(2027, 2, 20), 15) == date(2027, 3, 6)
    assert inclusive_window_end(date(2026, 5, 5), 1) == date(2026, 5, 5)
    with pytest.raises(ValueError, match="at least 1 day"):
        inclusive_window_end(date(2026, 5, 5), 0)


def test_last_weekday_on_or_before() -> None:
    sunday = date(2026, 11, 15)
    assert last_weekday_on_or_before(sunday, [0, 1, 2, 3, 4]) == date(2026, 11, 13)
    assert last_weekday_on_or_before(sunday, [2]) == date(2026, 11, 11)
    assert last_weekday_on_or_before(date(2026, 11, 11), (2,)) == date(2026, 11, 11)
    assert last_weekday_on_or_before(date(2026, 11, 10), {2}) == date(2026, 11, 4)
    with pytest.raises(ValueError, match="weekdays"):
        last_weekday_on_or_before(sunday, [])
    with pytest.raises(ValueError, match="weekdays"):
        last_weekday_on_or_before(sunday, [7])


# --- working days --------------------------------------------------------------------------------


def test_bank_holidays_in_england_2027() -> None:
    assert bank_holidays(2027) == {
        date(2027, 1, 1),
        date(2027, 3, 26),  # Good Friday
        date(2027, 3, 29),  # Easter Monday
        date(2027, 5, 3),
        date(2027, 5, 31),
        date(2027, 8, 30),
        date(2027, 12, 25),
        date(2027, 12, 26),
        date(2027, 12, 27),  # Christmas Day (observed)
        date(2027, 12, 28),  # Boxing Day (observed)
    }


def test_is_working_day() -> None:
    assert not is_working_day(date(2026, 12, 25))
    assert not is_working_day(date(2026, 12, 28))  # Boxing Day observed
    assert not is_working_day(date(2027, 3, 26))  # Good Friday
    assert not is_working_day(date(2027, 3, 29))  # Easter Monday
    assert not is_working_day(date(2026, 11, 14))  # Saturday
    assert is_working_day(date(2027, 3, 30))
    assert is_working_day(date(2026, 12, 24))


def test_add_working_days_across_christmas_2026() -> None:
    assert add_working_days(date(2026, 12, 23), 3) == date(2026, 12, 30)
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)
    assert add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)  # New Year's Day, weekend


def test_add_working_days_across_easter_2027() -> None:
    assert add_working_days(date(2027, 3, 25), 2) == date(2027, 3, 31)
    assert add_working_days(date(2027, 3, 30), -1) == date(2027, 3, 25)
    assert add_working_days(date(2027, 3, 22), 15) == date(2027, 4, 14)


def test_add_zero_working_days_is_the_day_itself() -> None:
    assert add_working_days(date(2026, 12, 26), 0) == date(2026, 12, 26)


# --- school days ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2019, date(2019, 4, 21)),
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2038, date(2038, 4, 25)),  # the latest possible
        (2285, date(2285, 3, 22)),  # the earliest possible
    ],
)
def test_easter_sunday(year: int, easter: date) -> None:
    assert easter_sunday(year) == easter


def test_academic_year() -> None:
    assert academic_year(date(2026, 7, 31)) == 2025
    assert academic_year(date(2026, 8, 1)) == 2026
    assert academic_year(date(2027, 2, 15)) == 2026


def test_default_terms_2025() -> None:
    assert default_terms(2025) == (
        (date(2025, 9, 3), date(2025, 10, 24)),
        (date(2025, 11, 3), date(2025, 12, 19)),
        (date(2026, 1, 5), date(2026, 2, 13)),
        (date(2026, 2, 23), date(2026, 3, 27)),
        (date(2026, 4, 13), date(2026, 5, 22)),
        (date(2026, 6, 1), date(2026, 7, 21)),
    )


def test_default_terms_2026() -> None:
    assert default_terms(2026) == (
        (date(2026, 9, 3), date(2026, 10, 23)),
        (date(2026, 11, 2), date(2026, 12, 18)),
        (date(2027, 1, 4), date(2027, 2, 12)),
        (date(2027, 2, 22), date(2027, 3, 19)),
        (date(2027, 4, 5), date(2027, 5, 28)),
        (date(2027, 6, 7), date(2027, 7, 21)),
    )


def test_default_inset_days_are_none() -> None:
    assert default_inset_days(2026) == frozenset()


DEFAULT = SchoolYearCalendar()


@pytest.mark.parametrize(
    ("day", "open_"),
    [
        (date(2026, 10, 23), True),  # last day of autumn 1
        (date(2026, 10, 28), False),  # October half term
        (date(2026, 8, 10), False),  # summer holiday
        (date(2026, 9, 5), False),  # Saturday
        (date(2027, 5, 3), False),  # May Day bank holiday, in term
        (date(2027, 3, 29), False),  # Easter Monday
        (date(2027, 7, 21), True),  # last day of the year
        (date(2027, 7, 22), False),
    ],
)
def test_default_school_days(day: date, open_: bool) -> None:
    assert DEFAULT.is_school_day(day) is open_


def test_school_days_across_october_half_term() -> None:
    assert DEFAULT.add_school_days(date(2026, 10, 21), 5) == date(2026, 11, 4)


def test_school_days_across_the_summer_holiday() -> None:
    assert DEFAULT.add_school_days(date(2026, 7, 20), 2) == date(2026, 9, 3)
    assert DEFAULT.add_school_days(date(2026, 9, 3), -2) == date(2026, 7, 20)


def test_school_days_across_may_day_and_the_late_may_half_term() -> None:
    # Fri 30 Apr 2027: 3 May is a bank holiday; 31 May - 4 Jun is half term
    assert DEFAULT.add_school_days(date(2027, 4, 30), 1) == date(2027, 5, 4)
    assert DEFAULT.add_school_days(date(2027, 5, 27), 2) == date(2027, 6, 7)


SCHOOL_TERMS = [
    (date(2026, 9, 2), date(2026, 10, 23)),
    (date(2026, 11, 2), date(2026, 12, 17)),
]
INSET = [date(2026, 9, 2), date(2026, 11, 2)]


def test_inset_days_are_skipped() -> None:
    cal = SchoolYearCalendar.from_school(SCHOOL_TERMS, INSET)
    assert not cal.is_school_day(date(2026, 9, 2))
    assert cal.is_school_day(date(2026, 9, 3))
    # Thu 22 Oct: Fri 23 Oct, (half term), INSET Mon 2 Nov, Tue 3 Nov
    assert cal.add_school_days(date(2026, 10, 22), 2) == date(2026, 11, 3)


def test_school_terms_govern_and_defaults_fill_the_rest() -> None:
    cal = SchoolYearCalendar.from_school(SCHOOL_TERMS, INSET)
    assert not cal.is_school_day(date(2026, 12, 18))  # the school breaks up a day before the default
    assert not cal.is_school_day(date(2027, 1, 1))  # New Year's Day, in the Christmas holiday
    assert cal.is_school_day(date(2027, 1, 4))  # default spring term starts Monday 4 January
    assert cal.is_school_day(date(2027, 9, 3))  # default 2027/28
    # Wed 16 Dec: Thu 17 Dec, then the default spring term from Mon 4 Jan
    assert cal.add_school_days(date(2026, 12, 16), 3) == date(2027, 1, 5)


def test_school_year_calendar_rejects_backward_terms() -> None:
    with pytest.raises(ValueError, match="ends before it begins"):
        SchoolYearCalendar.from_school([(date(2026, 10, 23), date(2026, 9, 2))])


def test_school_year_calendar_is_a_frozen_value() -> None:
    a = SchoolYearCalendar.from_school(SCHOOL_TERMS, INSET)
    b = SchoolYearCalendar.from_school(list(reversed(SCHOOL_TERMS)), set(INSET))
    assert a == b
    assert hash(a) == hash(b)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.inset_days = frozenset()  # type: ignore[misc]
