"""A school's own calendar for the transition tests, built around the test server's date, and school days
counted by hand (weekdays that are not bank holidays, holidays or INSET days), as a SENDCo would count."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from domain.dates import SchoolYearCalendar, bank_holidays

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class HalfTerm:
    """A term ending on `last_day` (a Friday), a week's half-term, and a term starting on `inset` (an INSET
    day, a Monday), so a count of school days from before the break runs over both."""

    calendar: SchoolYearCalendar
    last_day: dt.date
    inset: dt.date

    @property
    def holiday(self) -> list[dt.date]:
        return [self.last_day + n * DAY for n in range(1, (self.inset - self.last_day).days)]


def half_term_around(today: dt.date) -> HalfTerm:
    """The term ends on the first Friday at least 3 days after today; the next begins 10 days later."""
    last_day = today + 3 * DAY
    while last_day.weekday() != 4:
        last_day += DAY
    inset = last_day + 10 * DAY
    terms = ((today - 40 * DAY, last_day), (inset, inset + 70 * DAY))
    return HalfTerm(SchoolYearCalendar(terms=terms, inset_days=frozenset({inset})), last_day, inset)


def open_days(start: dt.date, end: dt.date, closed: Collection[dt.date] = ()) -> list[dt.date]:
    """Weekdays after start up to end, less England's bank holidays and the given closed days."""
    found, d = [], start
    while d < end:
        d += DAY
        if d.weekday() < 5 and d not in bank_holidays(d.year) and d not in closed:
            found.append(d)
    return found


def nth_open_day(after: dt.date, n: int, closed: Collection[dt.date] = ()) -> dt.date:
    """The n-th weekday after `after` that is neither a bank holiday nor closed."""
    return open_days(after, after + (3 * n + 30) * DAY, closed)[n - 1]
