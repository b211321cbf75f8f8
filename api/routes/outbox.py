"""Every email the engine sent or tried to send, newest first."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import CurrentStaff, SessionDep
from api.paging import Page, PageDep, paginate
from store import case_service
from store.casework import OutboxMessage, OutboxStatus

router = APIRouter(prefix="/api/v1", tags=["outbox"])


@router.get("/outbox", response_model=Page[OutboxMessage])
def list_outbox(
    session: SessionDep,
    page: PageDep,
    staff: CurrentStaff,
    case_id: str | None = None,
    status: OutboxStatus | None = None,
) -> Any:
    return paginate(
        session,
        case_service.outbox_query(school_id=staff.school_id, case_id=case_id, status=status),
        page.offset,
        page.limit,
    )
