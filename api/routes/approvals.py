"""Approvals waiting for the headteacher, and the decision on one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field

from api.deps import CurrentStaff, SessionDep, actor_of, require_role
from api.paging import Page, PageDep, paginate
from api.temporal_calls import TemporalDep, run_update
from domain.schemas import ApprovalDecision, Role
from store import case_service
from store.casework import Approval, ApprovalStatus, CaseStatus

router = APIRouter(prefix="/api/v1", tags=["approvals"])
Headteacher = require_role(Role.headteacher)


class DecisionBody(BaseModel):
    approve: bool
    comment: str = Field(default="", max_length=2000)


@router.get("/approvals", response_model=Page[Approval])
def list_approvals(
    session: SessionDep,
    page: PageDep,
    staff: CurrentStaff,
    status: ApprovalStatus | None = ApprovalStatus.pending,
) -> Any:
    """The school's approvals (pending ones unless another status is asked for), oldest first."""
    query = case_service.approvals_query(school_id=staff.school_id, status=status)
    return paginate(session, query, page.offset, page.limit)


@router.post("/approvals/{approval_id}/decision")
async def decide(
    approval_id: int,
    body: DecisionBody,
    session: SessionDep,
    client: TemporalDep,
    staff: Annotated[Any, Headteacher],
) -> dict[str, Any]:
    """Approve or reject (with a comment): headteacher only; 409 if decided already or the case is over."""
    approval = session.get(Approval, approval_id)
    case = approval and case_service.case_at_school(
        session, case_id=approval.case_id, school_id=staff.school_id
    )
    if approval is None or case is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such approval")
    if approval.status != ApprovalStatus.pending:
        raise HTTPException(status.HTTP_409_CONFLICT, f"this approval was already {approval.status.value}")
    if case.status == CaseStatus.closed:
        raise HTTPException(status.HTTP_409_CONFLICT, "this case is closed: nothing more can be decided")
    decision = ApprovalDecision(
        key=approval.key, approve=body.approve, comment=body.comment, actor=actor_of(staff)
    )
    result = await run_update(client, case.workflow_id, "decide_approval", decision)
    return {"approval_id": approval_id, "case_id": case.id, "result": result}
