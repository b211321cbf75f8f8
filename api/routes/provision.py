"""The provision map: your school's interventions, the pupils in each, and what they cost a school year.

The SENDCo and the headteacher change the map; all staff read it. Another school's intervention or pupil
is 404, as an unknown one. Support plans place pupils in interventions (the record_plan_provision
activity); the costs are for a school year, 1 September to 31 August (the current one by default).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from api.deps import CurrentStaff, SessionDep, current_staff, require_role
from api.paging import Page, PageDep
from api.public import page_of, today
from store import provision_service
from store.provision import (
    InterventionCreate,
    InterventionPublic,
    InterventionUpdate,
    PlacementPublic,
    ProvisionMapCost,
    PupilCost,
)
from store.register import REGISTER_EDITORS

router = APIRouter(prefix="/api/v1", tags=["provision map"], dependencies=[Depends(current_staff)])
editor = require_role(*REGISTER_EDITORS)

SchoolYear = Annotated[
    int | None,
    Query(ge=2000, le=2100, description="The year the school year starts: 2026 for 2026/27 (default: now)"),
]


def _year(school_year: int | None) -> int:
    return school_year if school_year is not None else provision_service.school_year_of(today())


@router.post("/interventions", status_code=status.HTTP_201_CREATED, dependencies=[editor])
def create_intervention(
    session: SessionDep, staff: CurrentStaff, data: InterventionCreate
) -> InterventionPublic:
    """Add an intervention to your school's provision map."""
    return provision_service.create_intervention(session, data=data, school_id=staff.school_id, today=today())


@router.get("/interventions", response_model=Page[InterventionPublic])
def list_interventions(session: SessionDep, staff: CurrentStaff, page: PageDep) -> Any:
    """Your school's interventions by name, each with how many pupils it has this school year."""
    found = provision_service.list_interventions(
        session, school_id=staff.school_id, today=today(), offset=page.offset, limit=page.limit
    )
    return page_of(found, lambda row: row)


@router.get("/interventions/{intervention_id}")
def read_intervention(session: SessionDep, staff: CurrentStaff, intervention_id: int) -> InterventionPublic:
    """One of your school's interventions (404 for any other)."""
    return provision_service.get_intervention(
        session, intervention_id=intervention_id, school_id=staff.school_id, today=today()
    )


@router.patch("/interventions/{intervention_id}", dependencies=[editor])
def update_intervention(
    session: SessionDep, staff: CurrentStaff, intervention_id: int, changes: InterventionUpdate
) -> InterventionPublic:
    """Change some of an intervention's details."""
    return provision_service.update_intervention(
        session, intervention_id=intervention_id, school_id=staff.school_id, changes=changes, today=today()
    )


@router.delete(
    "/interventions/{intervention_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[editor]
)
def delete_intervention(session: SessionDep, staff: CurrentStaff, intervention_id: int) -> None:
    """Delete an intervention no support plan has used (409 once one has: it is evidence of provision)."""
    provision_service.delete_intervention(session, intervention_id=intervention_id, school_id=staff.school_id)


@router.get("/interventions/{intervention_id}/pupils", response_model=Page[PlacementPublic])
def intervention_pupils(
    session: SessionDep,
    staff: CurrentStaff,
    intervention_id: int,
    page: PageDep,
    school_year: SchoolYear = None,
) -> Any:
    """The pupils in the intervention in the school year, by name, with what it costs for each."""
    placements = provision_service.intervention_pupils(
        session, intervention_id=intervention_id, school_id=staff.school_id, year=_year(school_year)
    )
    shown = placements[page.offset : page.offset + page.limit]
    found = Page[PlacementPublic](items=shown, total=len(placements), offset=page.offset, limit=page.limit)
    return page_of(found, lambda row: row)


@router.get("/provision-map")
def provision_map(
    session: SessionDep, staff: CurrentStaff, school_year: SchoolYear = None
) -> ProvisionMapCost:
    """What the provision map costs for the school year: in all, by intervention, and for how many pupils."""
    return provision_service.provision_map_cost(session, school_id=staff.school_id, year=_year(school_year))


@router.get("/provision-map/pupils/{pupil_id}")
def pupil_provision(
    session: SessionDep, staff: CurrentStaff, pupil_id: int, school_year: SchoolYear = None
) -> PupilCost:
    """One pupil's interventions in the school year, with the cost of each and in total."""
    return provision_service.pupil_cost(
        session, pupil_id=pupil_id, school_id=staff.school_id, year=_year(school_year)
    )
