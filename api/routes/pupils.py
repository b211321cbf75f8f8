"""Pupils on the register: create, list by year group, provision, need or school, read, change, delete."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from api.deps import SessionDep, current_staff, require_role
from api.paging import Page, PageDep
from domain.census import NeedType, SenProvision
from store import register_service
from store.register import REGISTER_EDITORS, PupilCreate, PupilPublic, PupilUpdate

router = APIRouter(prefix="/api/v1/pupils", tags=["pupils"], dependencies=[Depends(current_staff)])
editor = require_role(*REGISTER_EDITORS)


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[editor])
def create_pupil(session: SessionDep, data: PupilCreate) -> PupilPublic:
    """Add a pupil; the census rules tie sen_provision to the ranked needs."""
    return register_service.create_pupil(session, data=data)


@router.get("")
def list_pupils(
    session: SessionDep,
    page: PageDep,
    school_id: int | None = None,
    year_group: int | None = None,
    sen_provision: SenProvision | None = None,
    need: NeedType | None = None,
) -> Page[PupilPublic]:
    """Pupils by id; `need` matches a rank-1 or rank-2 need."""
    return register_service.list_pupils(
        session,
        school_id=school_id,
        year_group=year_group,
        sen_provision=sen_provision,
        need=need,
        offset=page.offset,
        limit=page.limit,
    )


@router.get("/{pupil_id}")
def read_pupil(session: SessionDep, pupil_id: int) -> PupilPublic:
    """One pupil."""
    return register_service.get_pupil(session, pupil_id=pupil_id)


@router.patch("/{pupil_id}", dependencies=[editor])
def update_pupil(session: SessionDep, pupil_id: int, changes: PupilUpdate) -> PupilPublic:
    """Change some fields; the changed record must still meet the census rules."""
    return register_service.update_pupil(session, pupil_id=pupil_id, changes=changes)


@router.delete("/{pupil_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[editor])
def delete_pupil(session: SessionDep, pupil_id: int) -> None:
    """Delete a pupil with no open case (409 while one is open)."""
    register_service.delete_pupil(session, pupil_id=pupil_id)
