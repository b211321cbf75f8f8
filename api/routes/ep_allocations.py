"""The school's EP allocation (EP-ALLOCATION): the agreement for a school year and what referrals draw on it.

Only the SENDCo and the headteacher see or change it (anyone else: 403), and only their own school's.
A school year is named by the year it starts: 2026 for 2026/27 (1 September to 31 August).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import CurrentStaff, SessionDep, require_role
from store import ep_allocation
from store.ep_allocation import AllocationAgreement, AllocationPublic
from store.register import REGISTER_EDITORS

router = APIRouter(prefix="/api/v1", tags=["EP allocation"], dependencies=[require_role(*REGISTER_EDITORS)])

SchoolYear = Annotated[
    int, Path(ge=2000, le=2100, description="The year the school year starts: 2026 for 2026/27")
]


@router.get("/ep-allocations/{school_year}")
def read_allocation(session: SessionDep, staff: CurrentStaff, school_year: SchoolYear) -> AllocationPublic:
    """Allocated, reserved, used and remaining for the school year, with each referral drawing on it."""
    return ep_allocation.allocation(session, school_id=staff.school_id, school_year=school_year)


@router.put("/ep-allocations/{school_year}")
def set_allocation(
    session: SessionDep, staff: CurrentStaff, school_year: SchoolYear, agreement: AllocationAgreement
) -> AllocationPublic:
    """Record or change the school year's agreement with the EP service (never below what is drawn: 409)."""
    return ep_allocation.set_allocation(
        session, school_id=staff.school_id, school_year=school_year, agreement=agreement
    )
