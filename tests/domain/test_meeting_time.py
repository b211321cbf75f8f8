"""A meeting's start needs a time of day in every process that sets one (saved payloads: test_replay.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import BaseModel, ValidationError

from domain.annual_review import RescheduleMeeting, SetMeeting
from domain.graduated_approach import ReviewMeeting
from domain.phase_transfer import TransitionMeeting
from domain.words import MEETING_TIME_WANTED

MEETINGS: list[type[BaseModel]] = [SetMeeting, RescheduleMeeting, ReviewMeeting, TransitionMeeting]
ACTOR = {"staff_id": 1, "role": "sendco"}


def payload(model: type[BaseModel], meeting_at: object) -> dict[str, object]:
    extra = {"reason": "moved"} if model is RescheduleMeeting else {}
    return {"actor": ACTOR, "meeting_at": meeting_at, **extra}


@pytest.mark.parametrize("model", MEETINGS)
@pytest.mark.parametrize(
    "bare", ["2027-01-20", " 2027-1-20 ", dt.date(2027, 1, 20), 1800000000, "1800000000", 1.5e9]
)
def test_a_meeting_with_no_time_of_day_is_refused_saying_what_is_wanted(model, bare) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as refused:
        model.model_validate(payload(model, bare))
    [error] = refused.value.errors()
    assert error["loc"] == ("meeting_at",) and str(error["ctx"]["error"]) == MEETING_TIME_WANTED


@pytest.mark.parametrize("model", MEETINGS)
@pytest.mark.parametrize(
    "given",
    [
        "2027-01-20T10:00",
        "2027-01-20T10:00:00",
        "2027-01-20 15:30",
        "2027-01-20T00:00:00",
        dt.datetime(2027, 1, 20, 9),
    ],
)
def test_a_meeting_with_a_time_is_taken(model, given) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(model.model_validate(payload(model, given)).meeting_at, dt.datetime)
