"""What pupils joining and leaving share: a date a step was done on, checked to be plausible.

The family of transition processes: `joining`, `leaving` and `records_request` (a parent's request to see
the educational record, TR-RECORDS-ACCESS). Pure: safe inside the Temporal workflow sandbox.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from domain.dates import ENGLAND
from domain.schemas import Actor, AgencyOf

EARLIEST_YEAR = 2000

# Another school, as the register holds it: an agency of kind "other" (the case emails it).
SchoolAgencyId = Annotated[int | None, AgencyOf("other")]


def plausible(day: dt.date, what: str, *, future_days: int = 0) -> dt.date:
    """A date from 2000 on, and no later than `future_days` from today (ValueError in plain words)."""
    if day.year < EARLIEST_YEAR:
        raise ValueError(f"enter {what} from 1 Jan {EARLIEST_YEAR} onwards")
    if day > dt.datetime.now(ENGLAND).date() + dt.timedelta(days=future_days):
        raise ValueError(f"{what} cannot be in the future" if not future_days else f"{what} is too far ahead")
    return day


class ReturnMade(BaseModel):
    """The day the school told the LA (the new-pupil return, or the deletion return)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"made_on": "2026-12-01"}]})

    actor: Actor
    made_on: dt.date = Field(title="Day the LA was told")
