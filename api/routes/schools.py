"""Schools: create, list and read (you see your own school only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from api.deps import CurrentStaff, SessionDep, current_staff, require_role
from api.paging import Page, PageDep
from store import register_service
from store.register import REGISTER_EDITORS, SchoolCreate, SchoolPublic

router = APIRouter(prefix="/api/v1/schools", tags=["schools"], dependencies=[Depends(current_staff)])
editor = require_role(*REGISTER_EDITORS)


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[editor])
def create_school(session: SessionDep, data: SchoolCreate) -> SchoolPublic:
    """Add a school with its term dates, INSET days and the SENDCo's working days."""
    return register_service.create_school(session, data=data)


@router.get("")
def list_schools(session: SessionDep, staff: CurrentStaff, page: PageDep) -> Page[SchoolPublic]:
    """Your school, as a one-item page."""
    return register_service.list_schools(
        session, school_id=staff.school_id, offset=page.offset, limit=page.limit
    )


@router.get("/{school_id}")
def read_school(session: SessionDep, staff: CurrentStaff, school_id: int) -> SchoolPublic:
    """Your school (404 for any other)."""
    return register_service.get_school(session, target_id=school_id, school_id=staff.school_id)
