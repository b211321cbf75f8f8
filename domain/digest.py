"""The SENDCo-day digest's payloads: ids and dates only (the activity reads the rest from the register)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

DIGEST_AT = dt.time(7, 0)  # the digest goes at 07:00 in England on each of the SENDCo's working days


class DigestInput(BaseModel):
    """A school's digest schedule: which school, and the SENDCo's working days as last read."""

    school_id: int
    working_days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])


class DigestRequest(BaseModel):
    school_id: int
    on: dt.date


class DigestSent(BaseModel):
    """What one morning's digest did, and the SENDCo's working days now (they may have changed)."""

    working_days: list[int]
    items: int
    covered: int


def next_digest_day(today: dt.date, working_days: list[int], *, today_still_ahead: bool) -> dt.date:
    """The next of the SENDCo's working days on which the digest goes: today if its time is still ahead."""
    days = set(working_days) or {0, 1, 2, 3, 4}
    day = today if today_still_ahead else today + dt.timedelta(days=1)
    while day.weekday() not in days:
        day += dt.timedelta(days=1)
    return day
