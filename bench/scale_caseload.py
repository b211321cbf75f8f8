"""The scale bench's caseload: annual reviews spread over the year, and the burst's cases due one morning."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from domain.timelines import AnnualReviewFacts, annual_review_timeline
from workflows.deadlines import Policy

PROCESS = "annual_review"
REMINDED_STEP = "set-meeting-date"  # the SENDCo's first deadline of a cycle, reminded 7 days and 1 day before
EVERY_DAY = [0, 1, 2, 3, 4, 5, 6]  # the bench school's SENDCo works every day: reminders stay on their day


@dataclass(frozen=True)
class Review:
    """One case to open: the plan's date (cycle_start) and the pupil's year group then."""

    cycle_start: dt.date
    year_group: int

    def facts(self) -> dict[str, object]:
        return {"cycle_start": self.cycle_start.isoformat(), "year_group": self.year_group}


def reminder_days(cycle_start: dt.date, year_group: int = 4) -> list[dt.date]:
    """The days the SENDCo is reminded to set the meeting date, for a SENDCo who works every day."""
    facts = AnnualReviewFacts(cycle_start=cycle_start, year_group=year_group)
    due = next(e.due for e in annual_review_timeline(facts) if e.step == REMINDED_STEP)
    return sorted(due - dt.timedelta(days=n) for n in Policy().remind_days_before)


def spread(n: int, today: dt.date, seed: int = 4) -> list[Review]:
    """n reviews whose review dates fall across the next 12 months, none reminded today.

    Plans issued on each of the last 365 days in turn (so each review date, 12 months on, is one of the
    next 365 days); a plan whose reminder would fall today moves a day earlier: the burst is the only
    morning the bench measures.
    """
    rng = random.Random(seed)
    out = []
    for i in range(n):
        start = today - dt.timedelta(days=364 - i % 365)
        while today in reminder_days(start):
            start -= dt.timedelta(days=1)
        out.append(Review(start, rng.randrange(0, 12)))
    return out


def burst(n: int, today: dt.date) -> list[Review]:
    """n reviews whose SENDCo is reminded today (1 day before the meeting date is due), once each."""
    start = next(
        today - dt.timedelta(days=back)
        for back in range(300, 400)
        if reminder_days(today - dt.timedelta(days=back))[-1] == today
    )
    return [Review(start, 4) for _ in range(n)]
