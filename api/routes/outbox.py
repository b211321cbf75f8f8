"""Every email the engine sent or tried to send, newest first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import CurrentStaff, SessionDep
from api.paging import Page, paginate
from store import case_service
from store.casework import OutboxMessage, OutboxStatus

router = APIRouter(prefix="/api/v1", tags=["outbox"])


@router.get("/outbox", response_model=Page[OutboxMessage])
def list_outbox(
    session: SessionDep,
    staff: CurrentStaff,
    case_id: str | None = None,
    status: OutboxStatus | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Any:
    return paginate(
        session,
        case_service.outbox_query(school_id=staff.school_id, case_id=case_id, status=status),
        offset,
        limit,
    )
