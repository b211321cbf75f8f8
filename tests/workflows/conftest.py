"""Fixtures for workflow tests: a pupil with a parent, and a case row for a workflow to write to."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import pytest
from sqlmodel import Session

from domain.schemas import CaseRef, SchoolCalendar
from store import case_service
from store.register import Agency, AgencyKind, Parent, Pupil, PupilParent, School, Staff


@pytest.fixture(scope="session")
def pupil(engine, school: School, sendco, headteacher) -> Pupil:  # type: ignore[no-untyped-def]
    """A Year 6 pupil with an EHC plan, one parent, and the LA's SEN team, EP, health and social care."""
    with Session(engine, expire_on_commit=False) as s:
        pupil = Pupil(
            school_id=school.id,
            legal_name="Ada Example",
            date_of_birth=dt.date(2015, 5, 1),
            year_group=6,
            sen_provision="E",
            needs=["ASD"],
            local_authority="Kent",
        )
        parent = Parent(name="Grace Example", email="parent@example.org")
        s.add_all([pupil, parent])
        s.commit()
        s.add(PupilParent(pupil_id=pupil.id, parent_id=parent.id))
        for kind in AgencyKind:
            s.add(
                Agency(
                    kind=kind, name=f"Kent {kind}", email=f"{kind.value}@example.org", local_authority="Kent"
                )
            )
        s.commit()
        return pupil


@pytest.fixture
def new_case(engine, school: School, pupil: Pupil, sendco) -> Callable[[str], CaseRef]:  # type: ignore[no-untyped-def]
    """Make a case row and return the CaseRef its workflow is started with."""

    def make(process: str = "deadline_probe") -> CaseRef:
        staff: Staff = sendco[0]
        with Session(engine, expire_on_commit=False) as s:
            case = case_service.open_case(
                s,
                case_id=str(uuid.uuid4()),
                process=process,
                pupil_id=pupil.id,
                school_id=school.id,
                started_by=staff.id,
                facts={},
            )
        return CaseRef(
            case_id=case.id,
            workflow_id=case.workflow_id,
            process=process,
            pupil_id=pupil.id,
            school_id=school.id,
            calendar=SchoolCalendar(sendco_working_days=school.sendco_working_days),
        )

    return make
