"""Agencies (LA SEN team, EP service, health, social care): create, list by kind or LA, read."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from api.deps import CurrentStaff, SessionDep, current_staff, require_role
from api.paging import Page, PageDep
from store import register_service
from store.register import REGISTER_EDITORS, AgencyCreate, AgencyKind, AgencyPublic

router = APIRouter(prefix="/api/v1/agencies", tags=["agencies"], dependencies=[Depends(current_staff)])
editor = require_role(*REGISTER_EDITORS)


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[editor])
def create_agency(session: SessionDep, staff: CurrentStaff, data: AgencyCreate) -> AgencyPublic:
    """Add an agency for your school's cases (other schools neither see nor use it)."""
    return register_service.create_agency(session, data=data, school_id=staff.school_id)


@router.get("")
def list_agencies(
    session: SessionDep,
    staff: CurrentStaff,
    page: PageDep,
    kind: AgencyKind | None = None,
    local_authority: str | None = None,
) -> Page[AgencyPublic]:
    """The LA's shared agencies and your school's own, by id."""
    return register_service.list_agencies(
        session,
        school_id=staff.school_id,
        kind=kind,
        local_authority=local_authority,
        offset=page.offset,
        limit=page.limit,
    )


@router.get("/{agency_id}")
def read_agency(session: SessionDep, staff: CurrentStaff, agency_id: int) -> AgencyPublic:
    """One agency: shared, or your school's own."""
    return register_service.get_agency(session, agency_id=agency_id, school_id=staff.school_id)
