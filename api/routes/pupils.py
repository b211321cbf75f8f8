"""Your school's pupils: create, list by year group, provision or need, read, change, delete."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from api.deps import CurrentStaff, SessionDep, current_staff, require_role
from api.paging import Page, PageDep
from domain.census import NeedType, SenProvision
from store import register_service
from store.register import REGISTER_EDITORS, PupilCreate, PupilPublic, PupilUpdate

router = APIRouter(prefix="/api/v1/pupils", tags=["pupils"], dependencies=[Depends(current_staff)])
editor = require_role(*REGISTER_EDITORS)


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[editor])
def create_pupil(session: SessionDep, staff: CurrentStaff, data: PupilCreate) -> PupilPublic:
    """Add a pupil to your school (403 for another); the census rules tie sen_provision to the needs."""
    return register_service.create_pupil(session, data=data, school_id=staff.school_id)


@router.get("")
def list_pupils(
    session: SessionDep,
    staff: CurrentStaff,
    page: PageDep,
    year_group: int | None = None,
    sen_provision: SenProvision | None = None,
    need: NeedType | None = None,
) -> Page[PupilPublic]:
    """Your school's pupils by id; `need` matches a rank-1 or rank-2 need."""
    return register_service.list_pupils(
        session,
        school_id=staff.school_id,
        year_group=year_group,
        sen_provision=sen_provision,
        need=need,
        offset=page.offset,
        limit=page.limit,
    )


@router.get("/{pupil_id}")
def read_pupil(session: SessionDep, staff: CurrentStaff, pupil_id: int) -> PupilPublic:
    """One of your school's pupils (404 for any other)."""
    return register_service.get_pupil(session, pupil_id=pupil_id, school_id=staff.school_id)


@router.patch("/{pupil_id}", dependencies=[editor])
def update_pupil(
    session: SessionDep, staff: CurrentStaff, pupil_id: int, changes: PupilUpdate
) -> PupilPublic:
    """Change some fields; the changed record must still meet the census rules."""
    return register_service.update_pupil(
        session, pupil_id=pupil_id, school_id=staff.school_id, changes=changes
    )


@router.delete("/{pupil_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[editor])
def delete_pupil(session: SessionDep, staff: CurrentStaff, pupil_id: int) -> None:
    """Delete a pupil with no open case (409 while one is open)."""
    register_service.delete_pupil(session, pupil_id=pupil_id, school_id=staff.school_id)
