"""Staff: create, list by school or role, read."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from api.deps import SessionDep, current_staff, require_role
from api.paging import Page, PageDep
from domain.schemas import Role
from store import register_service
from store.register import REGISTER_EDITORS, StaffCreate, StaffPublic

router = APIRouter(prefix="/api/v1/staff", tags=["staff"], dependencies=[Depends(current_staff)])
editor = require_role(*REGISTER_EDITORS)


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[editor])
def create_staff(session: SessionDep, data: StaffCreate) -> StaffPublic:
    """Add a staff member (409 if the email is already used)."""
    return register_service.create_staff(session, data=data)


@router.get("")
def list_staff(
    session: SessionDep, page: PageDep, school_id: int | None = None, role: Role | None = None
) -> Page[StaffPublic]:
    """Staff by id."""
    return register_service.list_staff(
        session, school_id=school_id, role=role, offset=page.offset, limit=page.limit
    )


@router.get("/{staff_id}")
def read_staff(session: SessionDep, staff_id: int) -> StaffPublic:
    """One staff member."""
    return register_service.get_staff(session, staff_id=staff_id)
