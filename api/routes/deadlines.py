"""Every deadline across the school's cases, soonest first."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter

from api.deps import CurrentStaff, SessionDep
from api.errors import ERROR_RESPONSES
from api.paging import Page, PageDep, listed, paginate
from api.public import DeadlinePublic, page_of, today
from store import case_service
from store.casework import DeadlineStatus

router = APIRouter(prefix="/api/v1", tags=["deadlines"], responses=ERROR_RESPONSES)


@router.get("/deadlines", response_model=Page[DeadlinePublic])
async def list_deadlines(  # on the event loop: see api.paging
    session: SessionDep,
    page: PageDep,
    staff: CurrentStaff,
    case_id: str | None = None,
    status: DeadlineStatus | None = None,
    due_before: dt.date | None = None,
) -> Any:
    """The school's deadlines with the rule, its citation, the status and how many days late, if late."""
    deadlines = listed(
        case_service.deadlines_query,
        DeadlinePublic.COLUMNS,
        school_id=staff.school_id,
        case_id=case_id,
        status=status,
        due_before=due_before,
    )
    on = today()
    return page_of(paginate(session, deadlines, page.offset, page.limit), lambda d: DeadlinePublic.of(d, on))
