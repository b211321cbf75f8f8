"""Fixtures for workflow tests: a case row for a workflow to write to."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio
from sqlmodel import Session
from temporalio.testing import WorkflowEnvironment

from domain.dates import SchoolYearCalendar
from domain.schemas import CaseRef, SchoolCalendar
from store import case_service
from store.register import Pupil, School, Staff
from tests.fixtures.temporal import time_skipping_server


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


# --- transitions: a pupil of their own, other schools, the school's own calendar ------------------------
@pytest.fixture
def make_pupil(engine, school: School):  # type: ignore[no-untyped-def]
    """A new pupil (with one parent) for each call: a leaver's closing of open cases touches only its own."""
    from store.register import Parent, PupilParent

    def make(provision: str = "K", needs: tuple[str, ...] = ("SPLD",), year_group: int = 4) -> Pupil:
        with Session(engine, expire_on_commit=False) as s:
            pupil = Pupil(
                school_id=school.id,
                legal_name="Sam Mover",
                date_of_birth=dt.date(2017, 3, 1),
                year_group=year_group,
                sen_provision=provision,
                needs=list(needs),
                local_authority="Kent",
            )
            parent = Parent(name="Alex Mover", email=f"mover-parent-{uuid.uuid4().hex[:6]}@example.org")
            s.add_all([pupil, parent])
            s.commit()
            s.add(PupilParent(pupil_id=pupil.id, parent_id=parent.id))
            s.commit()
            return pupil

    return make


@pytest.fixture
def other_school(engine):  # type: ignore[no-untyped-def]
    """Another school, as an agency of the register (its SENDCo's address): `other_school("previous")`."""
    from store.register import Agency, AgencyKind

    def make(which: str) -> Agency:
        with Session(engine, expire_on_commit=False) as s:
            agency = Agency(
                kind=AgencyKind.other,
                name=f"SENDCo, {which.title()} School",
                email=f"sendco-{which}-{uuid.uuid4().hex[:6]}@school.example.org",
                local_authority="Kent",
            )
            s.add(agency)
            s.commit()
            s.refresh(agency)
            return agency

    return make


@pytest.fixture
def case_for(engine, school: School, sendco):  # type: ignore[no-untyped-def]
    """A case row for a given pupil, with the school's own calendar in its CaseRef."""

    def make(process: str, pupil: Pupil, calendar: SchoolYearCalendar | None = None) -> CaseRef:
        cal = calendar or SchoolYearCalendar()
        with Session(engine, expire_on_commit=False) as s:
            case = case_service.open_case(
                s,
                case_id=str(uuid.uuid4()),
                process=process,
                pupil_id=pupil.id,
                school_id=school.id,
                started_by=sendco[0].id,
                facts={},
            )
        return CaseRef(
            case_id=case.id,
            workflow_id=case.workflow_id,
            process=process,
            pupil_id=pupil.id,
            school_id=school.id,
            calendar=SchoolCalendar(
                terms=list(cal.terms),
                inset_days=sorted(cal.inset_days),
                sendco_working_days=school.sendco_working_days,
            ),
        )

    return make


@pytest_asyncio.fixture(scope="module")
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server for each module, its clock starting today: the dates are the school's
    and England's, and one server shared by the session runs years ahead (past the bank-holiday tables)."""
    async with time_skipping_server() as env:
        yield env
