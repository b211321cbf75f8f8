"""Schools: list and read (you see your own school only); a school is added by the engine's administrator.

Staff of a school, its SENDCo and headteacher included, cannot add schools: that is `send-engine
create-school` on the server (a fuzzer once made 812 schools as a SENDCo).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from api.deps import CurrentStaff, SessionDep, current_staff
from api.errors import ApiError
from api.paging import Page, PageDep
from store import register_service
from store.register import SchoolCreate, SchoolPublic

router = APIRouter(prefix="/api/v1/schools", tags=["schools"], dependencies=[Depends(current_staff)])
ADMIN_ONLY = (
    "Schools are added by the engine's administrator (send-engine create-school on the server), "
    "not by a school's staff."
)


def administrator_only(_staff: CurrentStaff) -> None:
    """403 for every signed-in staff member, before the body is even looked at."""
    raise ApiError(status.HTTP_403_FORBIDDEN, ADMIN_ONLY)


@router.post("", status_code=status.HTTP_201_CREATED, dependencies=[Depends(administrator_only)])
def create_school(data: SchoolCreate) -> SchoolPublic:
    """Refused (403) for all staff: the administrator adds schools with `send-engine create-school`."""
    raise AssertionError("unreachable: administrator_only refuses first")


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
