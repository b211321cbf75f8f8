"""Every email the engine sent or tried to send, newest first."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import CurrentStaff, SessionDep
from api.errors import ERROR_RESPONSES
from api.paging import Page, PageDep, paginate
from api.public import OutboxPublic, page_of
from store import case_service
from store.casework import OutboxStatus

router = APIRouter(prefix="/api/v1", tags=["outbox"], responses=ERROR_RESPONSES)


@router.get("/outbox", response_model=Page[OutboxPublic])
def list_outbox(
    session: SessionDep,
    page: PageDep,
    staff: CurrentStaff,
    case_id: str | None = None,
    status: OutboxStatus | None = None,
) -> Any:
    """The school's emails; a class teacher sees what was sent and when, but not to which addresses."""
    query = case_service.outbox_query(school_id=staff.school_id, case_id=case_id, status=status)
    return page_of(paginate(session, query, page.offset, page.limit), lambda m: OutboxPublic.of(m, staff))
