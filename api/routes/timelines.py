"""Timeline preview: every deadline a process would set, from its key facts, without starting anything."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ValidationError

from api.deps import CurrentStaff, SessionDep
from domain.dates import SchoolYearCalendar
from domain.timelines import TimelineEntry
from store import case_service
from store.register import School
from workflows.registry import PROCESSES

router = APIRouter(prefix="/api/v1", tags=["timelines"])


class PreviewRequest(BaseModel):
    process: str
    facts: dict[str, Any]


@router.post("/timelines/preview", response_model=list[TimelineEntry])
def preview_timeline(body: PreviewRequest, staff: CurrentStaff, session: SessionDep) -> Any:
    """Every deadline the process would set, counted on the signed-in staff member's school calendar."""
    school = session.get(School, staff.school_id)
    assert school is not None
    cal = case_service.school_calendar(school)
    process = PROCESSES.get(body.process)
    if process is None:
        reason = f"unknown process {body.process!r}: known processes are {', '.join(sorted(PROCESSES))}"
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{"field": "process", "reason": reason}])
    try:
        return process.preview(body.facts, SchoolYearCalendar.from_school(cal.terms, cal.inset_days))
    except ValidationError as err:
        detail = [
            {"field": ".".join(["facts", *map(str, e["loc"])]), "reason": e["msg"]} for e in err.errors()
        ]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail) from err
