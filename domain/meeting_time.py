"""A meeting's start as every process takes it: a date and a time of day (UK local), never a bare date.

A bare date ("2027-01-20") would otherwise be read as midnight, and a number as seconds since 1970; both
are refused saying what is wanted. A date with a time, as every saved workflow history holds, is taken.
Pure: safe in the Temporal sandbox.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from domain.words import MEETING_TIME_WANTED

_NO_TIME = re.compile(r"\s*(\d{4}-\d{1,2}-\d{1,2}|[-+]?\d+(\.\d*)?)\s*")


def with_a_time(value: Any) -> Any:
    """Refuse a meeting start that has no time of day: a date, a bare date string or a number."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date | int | float) or (isinstance(value, str) and _NO_TIME.fullmatch(value)):
        raise ValueError(MEETING_TIME_WANTED)
    return value


MeetingStart = Annotated[
    dt.datetime,
    BeforeValidator(with_a_time),
    Field(title="Meeting starts", description="UK local time, with the time of day: 2027-01-20T10:00"),
]
