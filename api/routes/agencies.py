"""Agencies (LA SEN team, EP service, health, social care): create, list by kind or LA, read."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from api.deps import SessionDep, current_staff, require_role
from api.paging import Page, PageDep
from store import register_service
from store.register import REGISTER_EDITORS, AgencyCreate, AgencyKind, AgencyPublic

router = APIRouter(prefix="/api/v1/agencies", tags=["agencies"], dependencies=[Depends(current_staff)])
editor = require_role(*REGISTER_EDITORS)


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[editor])
def create_agency(session: SessionDep, data: AgencyCreate) -> AgencyPublic:
    """Add an agency."""
    return register_service.create_agency(session, data=data)


@router.get("")
def list_agencies(
    session: SessionDep, page: PageDep, kind: AgencyKind | None = None, local_authority: str | None = None
) -> Page[AgencyPublic]:
    """Agencies by id."""
    return register_service.list_agencies(
        session, kind=kind, local_authority=local_authority, offset=page.offset, limit=page.limit
    )


@router.get("/{agency_id}")
def read_agency(session: SessionDep, agency_id: int) -> AgencyPublic:
    """One agency."""
    return register_service.get_agency(session, agency_id=agency_id)
