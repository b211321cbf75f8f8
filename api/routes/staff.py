"""Your school's staff: create, list by role, read."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from api.deps import CurrentStaff, SessionDep, current_staff, require_role
from api.paging import Page, PageDep
from domain.schemas import Role
from store import register_service
from store.register import REGISTER_EDITORS, StaffCreate, StaffPublic

router = APIRouter(prefix="/api/v1/staff", tags=["staff"], dependencies=[Depends(current_staff)])
editor = require_role(*REGISTER_EDITORS)


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[editor])
def create_staff(session: SessionDep, staff: CurrentStaff, data: StaffCreate) -> StaffPublic:
    """Add a staff member to your school (403 for another; 409 if the email is already used)."""
    return register_service.create_staff(session, data=data, school_id=staff.school_id)


@router.get("")
def list_staff(
    session: SessionDep, staff: CurrentStaff, page: PageDep, role: Role | None = None
) -> Page[StaffPublic]:
    """Your school's staff by id."""
    return register_service.list_staff(
        session, school_id=staff.school_id, role=role, offset=page.offset, limit=page.limit
    )


@router.get("/{staff_id}")
def read_staff(session: SessionDep, staff: CurrentStaff, staff_id: int) -> StaffPublic:
    """One of your school's staff."""
    return register_service.get_staff(session, staff_id=staff_id, school_id=staff.school_id)
