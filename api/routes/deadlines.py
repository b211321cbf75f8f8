"""Every deadline across the school's cases, soonest first."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter

from api.deps import CurrentStaff, SessionDep
from api.paging import Page, PageDep, paginate
from store import case_service
from store.casework import Deadline, DeadlineStatus

router = APIRouter(prefix="/api/v1", tags=["deadlines"])


@router.get("/deadlines", response_model=Page[Deadline])
def list_deadlines(
    session: SessionDep,
    page: PageDep,
    staff: CurrentStaff,
    case_id: str | None = None,
    status: DeadlineStatus | None = None,
    due_before: dt.date | None = None,
) -> Any:
    query = case_service.deadlines_query(
        school_id=staff.school_id, case_id=case_id, status=status, due_before=due_before
    )
    return paginate(session, query, page.offset, page.limit)
