"""Timeline preview: every deadline a process would set, from its key facts, without starting anything."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ValidationError

from api.commands import outside_window, process_named
from api.deps import CurrentStaff, SessionDep
from api.errors import ERROR_RESPONSES, ApiError, reason_of, sentence, summary
from domain.dates import SchoolYearCalendar
from domain.timelines import TimelineEntry
from store import case_service
from store.register import School

router = APIRouter(prefix="/api/v1", tags=["timelines"], responses=ERROR_RESPONSES)
OUT_OF_RANGE = "a date is outside the years a case can run in"


class PreviewRequest(BaseModel):
    process: str
    facts: dict[str, Any]

    model_config = {
        "json_schema_extra": {
            "examples": [
                {"process": "annual_review", "facts": {"cycle_start": "2026-03-02", "year_group": 6}}
            ]
        }
    }


def _refused(errors: list[Any]) -> ApiError:
    items = [{"field": ".".join(["facts", *map(str, e["loc"])]), "reason": reason_of(e)} for e in errors]
    return ApiError(422, summary(items), items)


@router.post("/timelines/preview", response_model=list[TimelineEntry])
def preview_timeline(body: PreviewRequest, staff: CurrentStaff, session: SessionDep) -> Any:
    """Every deadline the process would set, counted on the signed-in staff member's school calendar.

    A preview may start from a date still ahead (a request expected next week), but any date outside
    2000-2100 is a 422 with the field, as a start would refuse it.
    """
    process = process_named(body.process)
    school = session.get(School, staff.school_id)
    assert school is not None
    cal = case_service.school_calendar(school)
    try:
        facts = process.facts.model_validate(body.facts)
    except ValidationError as err:
        raise _refused(err.errors()) from err
    if outside := outside_window(facts):
        raise ApiError(422, summary(outside), outside)
    try:
        return process.timeline(facts, SchoolYearCalendar.from_school(cal.terms, cal.inset_days))
    except ValidationError as err:
        raise _refused(err.errors()) from err
    except (OverflowError, ValueError) as err:  # date arithmetic beyond the calendar
        item = {"field": "facts", "reason": OUT_OF_RANGE}
        raise ApiError(422, sentence(OUT_OF_RANGE), [item]) from err
