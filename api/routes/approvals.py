"""Approvals waiting for the headteacher, and the decision on one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api import commands
from api.deps import CurrentStaff, SessionDep, require_role
from api.errors import ERROR_RESPONSES
from api.paging import Page, PageDep, paginate
from api.public import ApprovalPublic, DecisionTaken, page_of
from api.temporal_calls import TemporalDep
from domain.schemas import Role
from store import case_service
from store.casework import ApprovalStatus

router = APIRouter(prefix="/api/v1", tags=["approvals"], responses=ERROR_RESPONSES)
Headteacher = require_role(Role.headteacher)


class DecisionBody(BaseModel):
    """Approve, or reject with a comment saying why."""

    approve: bool
    comment: str = Field(default="", max_length=2000)

    model_config = {"json_schema_extra": {"examples": [{"approve": True, "comment": "Fine to release"}]}}


@router.get("/approvals", response_model=Page[ApprovalPublic])
def list_approvals(
    session: SessionDep,
    page: PageDep,
    staff: CurrentStaff,
    status: ApprovalStatus | None = ApprovalStatus.pending,
) -> Any:
    """The school's approvals (pending ones unless another status is asked for), oldest first."""
    query = case_service.approvals_query(school_id=staff.school_id, status=status)
    return page_of(paginate(session, query, page.offset, page.limit), ApprovalPublic.of)


@router.post("/approvals/{approval_id}/decision", response_model=DecisionTaken)
async def decide(
    approval_id: int,
    body: DecisionBody,
    session: SessionDep,
    client: TemporalDep,
    staff: Annotated[Any, Headteacher],
) -> Any:
    """Approve or reject (with a comment): headteacher only; 409 if decided already or the case is over."""
    return await commands.decide(
        session=session,
        client=client,
        staff=staff,
        approval_id=approval_id,
        approve=body.approve,
        comment=body.comment,
    )
