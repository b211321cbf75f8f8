"""Date arithmetic for the statutory clocks: calendar, working and school days (statutory.md, "Units").

Pure: no clock and no I/O at call time, so workflows can use it inside the Temporal sandbox. The one
file read (the `holidays` package's name translations) happens once, when this module is imported.
"""

from __future__ import annotations

import calendar
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

# Deadlines fall on English dates: a day begins and ends at midnight in England (GMT or BST).
ENGLAND = ZoneInfo("Europe/London")


def english_moment(day: date, at: time) -> datetime:
    """The moment `at` on `day` in England, as an aware datetime."""
    return datetime.combine(day, at, ENGLAND)


def english_date(moment: datetime) -> date:
    """The date in England at an aware moment."""
    return moment.astimezone(ENGLAND).date()


# --- calendar days, weeks and months ---------------------------------------------------------------


def add_days(d: date, n: int) -> date:
    """d plus n calendar days (n may be negative)."""
    return d + timedelta(days=n)


def add_weeks(d: date, n: int) -> date:
    """d plus n calendar weeks (n may be negative)."""
    return d + timedelta(weeks=n)


def _days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _shift_month(d: date, n: int) -> tuple[int, int]:
    """(year, month) of the month n months after d's month."""
    index = d.year * 12 + (d.month - 1) + n
    return index // 12, index % 12 + 1


def add_months(d: date, n: int) -> date:
    """The same day n months later (or earlier), clamped to the month's end: 31 Jan + 1 month = 28/29 Feb."""
    year, month = _shift_month(d, n)
    return date(year, month, min(d.day, _days_in_month(year, month)))


def within_months(d: date, n: int) -> date:
    """The last day of the n-month period beginning on d ("within n months of d").

    The period ends the day before the date corresponding to d n months later; when that month has
    no such day (d is 29-31), the period ends on that month's last day:
    29 Feb 2024 -> 28 Feb 2025, 1 Mar 2024 -> 28 Feb 2025, 31 Mar 2025 -> 30 Mar 2026 (n = 12).
    """
    if n < 1:
        raise ValueError(f"within_months needs a period of at least 1 month, got {n}")
    year, month = _shift_month(d, n)
    last = _days_in_month(year, month)
    if d.day > last:
        return date(year, month, last)
    return date(year, month, d.day) - timedelta(days=1)


def within_12_months(d: date) -> date:
    """The last day of the 12-month period beginning on d, i.e. d + 1 year - 1 day (AR-DUE)."""
    return within_months(d, 12)


def inclusive_window_end(service: date, n_days: int) -> date:
    """Last day of "at least n days beginning with the day of service": service + (n - 1) days."""
    if n_days < 1:
        raise ValueError(f"a window needs at least 1 day, got {n_days}")
    return service + timedelta(days=n_days - 1)


def last_weekday_on_or_before(d: date, weekdays: Iterable[int]) -> date:
    """The latest date <= d whose weekday() (Monday 0 .. Sunday 6) is one of weekdays."""
    allowed = {int(w) for w in weekdays}
    if not allowed or not allowed <= set(range(7)):
        raise ValueError(f"weekdays must be a non-empty set of 0 (Monday) .. 6 (Sunday), got {weekdays!r}")
    back = next(k for k in range(7) if (d.weekday() - k) % 7 in allowed)
    return d - timedelta(days=back)


# --- working days: Monday to Friday less bank holidays in England --------------------------------

_ENGLAND = holidays.country_holidays("GB", subdiv="ENG")  # loads its translations now, at import
_BANK_HOLIDAYS: dict[int, frozenset[date]] = {}
_BANK_HOLIDAYS_LOCK = threading.Lock()


def bank_holidays(year: int) -> frozenset[date]:
    """England's bank holidays (substitute days included) in a year; computed once per year, then cached."""
    found = _BANK_HOLIDAYS.get(year)
    if found is None:
        with _BANK_HOLIDAYS_LOCK:
            _ = date(year, 1, 1) in _ENGLAND  # the package fills in a year when first asked about it
            found = frozenset(d for d in _ENGLAND if d.year == year)
            _BANK_HOLIDAYS[year] = found
    return found


def is_bank_holiday(d: date) -> bool:
    """Whether d is a bank holiday in England."""
    return d in bank_holidays(d.year)


def is_working_day(d: date) -> bool:
    """Monday to Friday and not a bank holiday in England."""
    return d.weekday() < 5 and not is_bank_holiday(d)


def add_working_days(d: date, n: int) -> date:
    """The n-th working day after d (n < 0: before d); d itself is never counted, n = 0 returns d."""
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    while remaining:
        d += timedelta(days=step)
        if is_working_day(d):
            remaining -= 1
    return d


# --- school days: term dates less weekends, bank holidays and INSET days -------------------------

Term = tuple[date, date]
_MAX_SCAN_DAYS = 3 * 366  # no real calendar has a year without a school day


def academic_year(d: date) -> int:
    """The calendar year in which d's school year began (school years run 1 August to 31 July)."""
    return d.year if d.month >= 8 else d.year - 1


def easter_sunday(year: int) -> date:
    """Easter Sunday (Gregorian), by the anonymous Gregorian (Meeus/Jones/Butcher) algorithm."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _first_on_or_after(d: date, weekdays: Iterable[int]) -> date:
    """The earliest date >= d whose weekday() is one of weekdays."""
    allowed = set(weekdays)
    return next(d + timedelta(days=k) for k in range(7) if (d.weekday() + k) % 7 in allowed)


_WEEKDAYS = range(5)
_MONDAY = (0,)


@lru_cache(maxsize=64)
def default_terms(academic_year_start: int) -> tuple[Term, ...]:
    """Six half-terms approximating a typical English school year beginning in September of the given year.

    An approximation for schools that have not configured their term dates (real dates vary by LA):
    - autumn 1: first weekday on or after 3 Sep to the Friday before the last full (Mon-Fri) week of
      October (half term); autumn 2: the Monday after half term to the last weekday on or before 19 Dec;
    - spring 1: first weekday on or after 4 Jan to the Friday before February half term (the week of
      the first Monday on or after 12 Feb); spring 2: the Monday after half term to the Friday before
      a two-week Easter break (the week before and the week after Easter Sunday);
    - summer 1: the Monday after the Easter break to the Friday before the week of the late-May bank
      holiday (last Monday in May); summer 2: the Monday after to the last weekday on or before 21 July.
    Bank holidays inside a term (May Day, for instance) are not school days either.
    """
    y, n = academic_year_start, academic_year_start + 1
    week = timedelta(days=7)
    friday_before = timedelta(days=3)
    october = last_weekday_on_or_before(date(y, 10, 27), _MONDAY)
    february = _first_on_or_after(date(n, 2, 12), _MONDAY)
    easter_monday_before = easter_sunday(n) - timedelta(days=6)
    late_may = last_weekday_on_or_before(date(n, 5, 31), _MONDAY)
    return (
        (_first_on_or_after(date(y, 9, 3), _WEEKDAYS), october - friday_before),
        (october + week, last_weekday_on_or_before(date(y, 12, 19), _WEEKDAYS)),
        (_first_on_or_after(date(n, 1, 4), _WEEKDAYS), february - friday_before),
        (february + week, easter_monday_before - friday_before),
        (easter_monday_before + 2 * week, late_may - friday_before),
        (late_may + week, last_weekday_on_or_before(date(n, 7, 21), _WEEKDAYS)),
    )


def default_inset_days(academic_year_start: int) -> frozenset[date]:
    """INSET days assumed when a school gives none: none (each school sets its own)."""
    return frozenset()


@dataclass(frozen=True)
class SchoolYearCalendar:
    """A school's term dates and INSET days; default terms fill whatever the school has not configured.

    In each school year (1 Aug - 31 Jul) the school's own terms govern from the first configured term
    start to the last configured term end; default half-terms lying wholly outside that span fill the
    rest of that year, and years with no configured terms use `default_terms`, so the arithmetic never
    runs off the end of the configured dates.
    """

    terms: tuple[Term, ...] = ()
    inset_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        terms = tuple(sorted((start, end) for start, end in self.terms))
        for start, end in terms:
            if start > end:
                raise ValueError(f"term starting {start} ends before it begins ({end})")
        object.__setattr__(self, "terms", terms)
        object.__setattr__(self, "inset_days", frozenset(self.inset_days))

    @classmethod
    def from_school(
        cls, terms: Iterable[tuple[date, date]] = (), inset_days: Iterable[date] = ()
    ) -> SchoolYearCalendar:
        """The calendar from a school's terms and INSET days (as in domain.schemas.SchoolCalendar)."""
        return cls(tuple((start, end) for start, end in terms), frozenset(inset_days))

    def terms_for_year(self, academic_year_start: int) -> tuple[Term, ...]:
        """The terms in force in the school year beginning in academic_year_start."""
        return _effective_terms(self, academic_year_start)

    def in_term(self, d: date) -> bool:
        """Whether d lies inside a term (holidays between terms excluded)."""
        year = academic_year(d)
        return any(start <= d <= end for y in (year - 1, year) for start, end in self.terms_for_year(y))

    def is_school_day(self, d: date) -> bool:
        """Inside a term, a weekday, not a bank holiday and not an INSET day."""
        return is_working_day(d) and d not in self.inset_days and self.in_term(d)

    def add_school_days(self, d: date, n: int) -> date:
        """The n-th school day after d (n < 0: before d); the first counted is the one after d."""
        step = 1 if n >= 0 else -1
        remaining, scanned = abs(n), 0
        while remaining:
            d += timedelta(days=step)
            scanned += 1
            if scanned > _MAX_SCAN_DAYS:
                raise ValueError(f"no school day within {_MAX_SCAN_DAYS} days of {d}: check the term dates")
            if self.is_school_day(d):
                remaining -= 1
        return d


@lru_cache(maxsize=256)
def _effective_terms(cal: SchoolYearCalendar, year: int) -> tuple[Term, ...]:
    """The school's terms for a year, plus the default terms wholly before or after the span they cover."""
    own = [t for t in cal.terms if academic_year(t[0]) == year]
    if not own:
        return default_terms(year)
    first = min(start for start, _ in own)
    last = max(end for _, end in own)
    outside = [(start, end) for start, end in default_terms(year) if end < first or start > last]
    return tuple(sorted(own + outside))
