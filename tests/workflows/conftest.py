"""Fixtures for workflow tests: a case row for a workflow to write to."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlmodel import Session

from domain.schemas import CaseRef, SchoolCalendar
from store import case_service
from store.register import Pupil, School, Staff


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
