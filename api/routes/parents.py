"""Parents and carers: create (linked to pupils), list by pupil, read."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from api.deps import SessionDep, current_staff, require_role
from api.paging import Page, PageDep
from store import register_service
from store.register import REGISTER_EDITORS, ParentCreate, ParentPublic

router = APIRouter(prefix="/api/v1/parents", tags=["parents"], dependencies=[Depends(current_staff)])
editor = require_role(*REGISTER_EDITORS)


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[editor])
def create_parent(session: SessionDep, data: ParentCreate) -> ParentPublic:
    """Add a parent or carer linked to the given pupils (422 naming any unknown pupil id)."""
    return register_service.create_parent(session, data=data)


@router.get("")
def list_parents(session: SessionDep, page: PageDep, pupil_id: int | None = None) -> Page[ParentPublic]:
    """Parents and carers by id, optionally those of one pupil."""
    return register_service.list_parents(session, pupil_id=pupil_id, offset=page.offset, limit=page.limit)


@router.get("/{parent_id}")
def read_parent(session: SessionDep, parent_id: int) -> ParentPublic:
    """One parent or carer with their pupil ids."""
    return register_service.get_parent(session, parent_id=parent_id)
