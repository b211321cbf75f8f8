"""Validation errors in words: each pydantic error type as what to enter (domain.words.wanted), and the
API's wording turned into the pages' (20/01/2027 entry) by words.reword."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError, field_validator

from domain import words

PYDANTIC = re.compile(r"Input should|Value error|Field required|type=|String should|List should|should be")


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    when: dt.date
    at: dt.datetime
    start: dt.time
    count: int = Field(ge=1, le=9)
    name: str = Field(min_length=1, max_length=5)
    kind: Literal["phase", "post16"]
    tags: list[str] = Field(min_length=1)
    email: EmailStr
    ours: str

    @field_validator("ours")
    @classmethod
    def _ours(cls, value: str) -> str:
        if value != "fine":
            raise ValueError("say fine")
        return value


BAD = [
    {"when": "20/01/2027"},
    {"when": "2027-02-30"},
    {"at": "2027-01-20T25:00"},
    {"at": "invalid character"},
    {"start": "noon"},
    {"count": "three"},
    {"count": 0},
    {"count": 10},
    {"count": 2.5},
    {"name": ""},
    {"name": "toolong"},
    {"name": 5},
    {"kind": "other"},
    {"tags": []},
    {"tags": "one"},
    {"email": "nobody"},
    {"ours": "bad"},
    {"extra": 1},
]


@pytest.mark.parametrize("given", BAD, ids=[next(iter(b)) + ":" + repr(next(iter(b.values()))) for b in BAD])
def test_every_reason_says_what_to_enter_and_never_pydantics_text(given) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as refused:
        Sample.model_validate(given)
    field = next(iter(given))
    [error] = [e for e in refused.value.errors() if e["loc"][0] == field]
    raised = (error.get("ctx") or {}).get("error")
    reason = words.wanted(error["type"], str(raised) if raised else error["msg"], error.get("ctx"))
    assert reason and not PYDANTIC.search(reason), reason
    assert reason != words.NOT_READ or field == "extra", (error["type"], reason)


def test_the_words_for_common_mistakes() -> None:
    assert words.wanted("missing", "Field required") == words.FILL_IN
    assert words.wanted("string_too_long", "String should have at most 5 characters", {"max_length": 5}) == (
        "Keep it to 5 characters or fewer"
    )
    assert (
        words.wanted("greater_than_equal", "Input should be greater than or equal to 1", {"ge": 1})
        == "Enter 1 or more"
    )
    assert words.wanted(
        "datetime_from_date_parsing", "Input should be a valid datetime or date, invalid character in year"
    ) == (words.API_DATETIME_WANTED)
    assert words.wanted("value_error", "Value error, say fine") == "say fine"  # a validator's own words
    assert words.wanted("value_error", "Invalid isoformat string: '2027-13-01'") == words.NOT_READ
    assert words.wanted("some_new_type", "Input should be something new") == words.NOT_READ


@pytest.mark.parametrize(
    ("api", "page"),
    [
        (words.API_DATE_WANTED, "Enter a date as 20/01/2027."),
        (words.API_DATETIME_WANTED, "Enter a date as 20/01/2027 and a time as 10:00."),
        (words.MEETING_TIME_WANTED, "Enter the meeting's start time too, as 10:00."),
        ("Choose one of the options the API describes", "Choose one of the options."),
        (words.NOT_READ, "This could not be read: please enter it again."),
    ],
)
def test_the_pages_say_it_their_way(api: str, page: str) -> None:
    assert words.reword(words.plain(api)) == page
