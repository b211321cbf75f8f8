"""Parents and carers of your school's pupils: create (linked to pupils), list by pupil, read."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from api.deps import CurrentStaff, SessionDep, current_staff, require_role
from api.paging import Page, PageDep
from store import register_service
from store.register import REGISTER_EDITORS, ParentCreate, ParentPublic

router = APIRouter(prefix="/api/v1/parents", tags=["parents"], dependencies=[Depends(current_staff)])
editor = require_role(*REGISTER_EDITORS)


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[editor])
def create_parent(session: SessionDep, staff: CurrentStaff, data: ParentCreate) -> ParentPublic:
    """Add a parent or carer linked to your school's pupils (422 naming any other pupil id as unknown)."""
    return register_service.create_parent(session, data=data, school_id=staff.school_id)


@router.get("")
def list_parents(
    session: SessionDep, staff: CurrentStaff, page: PageDep, pupil_id: int | None = None
) -> Page[ParentPublic]:
    """Parents and carers of your school's pupils by id, optionally those of one pupil."""
    return register_service.list_parents(
        session, school_id=staff.school_id, pupil_id=pupil_id, offset=page.offset, limit=page.limit
    )


@router.get("/{parent_id}")
def read_parent(session: SessionDep, staff: CurrentStaff, parent_id: int) -> ParentPublic:
    """One parent or carer of your school's pupils, with those pupils' ids."""
    return register_service.get_parent(session, parent_id=parent_id, school_id=staff.school_id)
