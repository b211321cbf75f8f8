"""The register service on SQLite and on PostgreSQL (every test runs on both through `db_engine`)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from domain.census import NeedType, SenProvision
from domain.schemas import Role
from store import register_service as svc
from store.casework import Case, CaseStatus, ChronologyEntry
from store.register import (
    AgencyCreate,
    AgencyKind,
    ParentCreate,
    ParentPublic,
    ParentUpdate,
    Pupil,
    PupilCreate,
    PupilParent,
    PupilUpdate,
    SchoolCreate,
    SchoolPublic,
    StaffCreate,
)

NOW = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def school(db_session: Session) -> SchoolPublic:
    return svc.create_school(
        db_session,
        data=SchoolCreate(
            name="Oak Primary",
            local_authority="Kent",
            terms=[{"start": dt.date(2025, 9, 3), "end": dt.date(2025, 12, 19)}],  # type: ignore[list-item]
            inset_days=[dt.date(2025, 9, 1)],
        ),
    )


def pupil(session: Session, school_id: int, **fields: object) -> int:
    data = {"legal_name": "Pupil", "date_of_birth": dt.date(2016, 3, 1), "year_group": 4, **fields}
    return svc.create_pupil(session, data=PupilCreate(school_id=school_id, **data)).id  # type: ignore[arg-type]


def staff(session: Session, school_id: int, email: str, role: Role = Role.staff) -> int:
    return svc.create_staff(
        session, data=StaffCreate(school_id=school_id, name="Staff", email=email, role=role)
    ).id


def parent(session: Session, *pupil_ids: int, name: str = "P") -> ParentPublic:
    return svc.create_parent(
        session, data=ParentCreate(name=name, email=f"{name.lower()}@example.org", pupil_ids=list(pupil_ids))
    )


def test_school_round_trips_its_calendar(db_session: Session, school: SchoolPublic) -> None:
    got = svc.get_school(db_session, school_id=school.id)
    assert got.terms[0].start == dt.date(2025, 9, 3)
    assert got.inset_days == [dt.date(2025, 9, 1)]
    assert svc.list_schools(db_session).total == 1
    with pytest.raises(svc.NotFound):
        svc.get_school(db_session, school_id=school.id + 1000)


def test_staff_by_role_and_unique_email(db_session: Session, school: SchoolPublic) -> None:
    staff(db_session, school.id, "sendco@example.org", Role.sendco)
    staff(db_session, school.id, "head@example.org", Role.headteacher)
    staff(db_session, school.id, "t1@example.org")
    staff(db_session, school.id, "t2@example.org")
    assert svc.list_staff(db_session, role=Role.staff).total == 2
    assert [s.role for s in svc.list_staff(db_session, role=Role.sendco).items] == [Role.sendco]
    with pytest.raises(IntegrityError):
        staff(db_session, school.id, "t1@example.org")
    assert svc.list_staff(db_session).total == 4  # the session is usable again and nothing was added
    with pytest.raises(svc.InvalidInput) as refused:
        staff(db_session, school.id + 1000, "t3@example.org")
    assert refused.value.field == "school_id"


def test_pupil_filters(db_session: Session, school: SchoolPublic) -> None:
    other = svc.create_school(db_session, data=SchoolCreate(name="Elm", local_authority="Kent"))
    pupil(db_session, school.id, sen_provision="K", needs=["PMLD"])
    mld = pupil(db_session, school.id, sen_provision="K", needs=["SEMH", "MLD"], year_group=5)
    ehcp = pupil(db_session, school.id, sen_provision="E", needs=["ASD"], year_group=5)
    pupil(db_session, school.id)
    pupil(db_session, other.id, sen_provision="E", needs=["ASD"])

    def ids(**filters: object) -> list[int]:
        return [p.id for p in svc.list_pupils(db_session, school_id=school.id, **filters).items]  # type: ignore[arg-type]

    assert ids(need=NeedType.MLD) == [mld]  # rank 2 counts; PMLD does not match MLD
    assert ids(year_group=5) == [mld, ehcp]
    assert ids(sen_provision=SenProvision.E) == [ehcp]
    assert ids(year_group=5, sen_provision=SenProvision.K) == [mld]
    assert svc.list_pupils(db_session, need=NeedType.ASD).total == 2


def test_pages_are_stable_and_bounded(db_session: Session, school: SchoolPublic) -> None:
    made = [pupil(db_session, school.id) for _ in range(7)]
    pages = [svc.list_pupils(db_session, offset=offset, limit=3) for offset in (0, 3, 6)]
    assert [p.total for p in pages] == [7, 7, 7]
    assert [p.id for page in pages for p in page.items] == made
    assert (pages[2].offset, pages[2].limit, len(pages[2].items)) == (6, 3, 1)
    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}):
        with pytest.raises(RequestValidationError):
            svc.list_pupils(db_session, **bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"sen_provision": "S"}, "obsolete"),
        ({"sen_provision": "K"}, "needs at least a rank-1"),
        ({"sen_provision": "E", "needs": ["NSA"]}, "only valid with SEN support"),
        ({"sen_provision": "K", "needs": ["ASD", "HI", "VI"]}, "at most two"),
        ({"needs": ["ASD"]}, "carries no need type"),
    ],
)
def test_census_rules_refuse_a_pupil(
    db_session: Session, school: SchoolPublic, fields: dict[str, object], reason: str
) -> None:
    with pytest.raises(ValidationError, match=reason):
        pupil(db_session, school.id, **fields)
    assert svc.list_pupils(db_session).total == 0


def test_update_pupil_checks_the_merged_record(db_session: Session, school: SchoolPublic) -> None:
    pid = pupil(db_session, school.id, sen_provision="K", needs=["SPLD"])
    with pytest.raises(svc.InvalidInput) as refused:
        svc.update_pupil(db_session, pupil_id=pid, changes=PupilUpdate(sen_provision=SenProvision.N))
    assert (refused.value.field, refused.value.reason) == ("needs", "provision N carries no need type")
    db_session.expire_all()
    assert svc.get_pupil(db_session, pupil_id=pid).sen_provision == SenProvision.K
    changed = svc.update_pupil(
        db_session, pupil_id=pid, changes=PupilUpdate(sen_provision=SenProvision.E, needs=[NeedType.SLCN])
    )
    assert (changed.sen_provision, changed.needs, changed.year_group) == ("E", ["SLCN"], 4)


def test_parents_link_pupils(db_session: Session, school: SchoolPublic) -> None:
    a, b = pupil(db_session, school.id), pupil(db_session, school.id)
    with pytest.raises(svc.InvalidInput) as refused:
        parent(db_session, a, 9999)
    assert (refused.value.field, refused.value.reason) == ("pupil_ids", "no pupil with id 9999")
    assert svc.list_parents(db_session).total == 0
    both = parent(db_session, b, a, a)
    assert both.pupil_ids == [a, b]
    parent(db_session, b, name="Q")
    assert [p.name for p in svc.list_parents(db_session, pupil_id=a).items] == ["P"]
    assert svc.list_parents(db_session, pupil_id=b).total == 2
    moved = svc.update_parent(db_session, parent_id=both.id, changes=ParentUpdate(pupil_ids=[b]))
    assert moved.pupil_ids == [b]


def test_agency_filters(db_session: Session) -> None:
    made = [(AgencyKind.ep_service, "Kent"), (AgencyKind.la_sen, "Kent"), (AgencyKind.la_sen, "Medway")]
    for kind, la in made:
        data = AgencyCreate(kind=kind, name="Team", email="team@example.org", local_authority=la)
        svc.create_agency(db_session, data=data)
    assert svc.list_agencies(db_session, kind=AgencyKind.la_sen).total == 2
    assert svc.list_agencies(db_session, kind=AgencyKind.la_sen, local_authority="Kent").total == 1


def open_case(session: Session, pupil_id: int, school_id: int, started_by: int) -> Case:
    case_id = str(uuid.uuid4())
    case = Case(
        id=case_id,
        process="ep_referral",
        workflow_id=f"ep_referral-{case_id}",
        pupil_id=pupil_id,
        school_id=school_id,
        started_by=started_by,
        started_at=NOW,
        updated_at=NOW,
    )
    session.add(case)
    session.add(ChronologyEntry(case_id=case_id, at=NOW, actor="engine", action="started"))
    session.commit()
    return case


def test_delete_pupil_waits_for_open_cases(db_session: Session, school: SchoolPublic) -> None:
    pid = pupil(db_session, school.id, sen_provision="K", needs=["SEMH"])
    linked = parent(db_session, pid)
    case = open_case(db_session, pid, school.id, staff(db_session, school.id, "s@example.org", Role.sendco))
    with pytest.raises(svc.HasOpenCases, match="open case"):
        svc.delete_pupil(db_session, pupil_id=pid)
    assert svc.get_pupil(db_session, pupil_id=pid).id == pid

    case.status = CaseStatus.closed
    db_session.add(case)
    db_session.commit()
    svc.delete_pupil(db_session, pupil_id=pid)
    with pytest.raises(svc.NotFound):
        svc.get_pupil(db_session, pupil_id=pid)
    assert db_session.exec(select(Case)).all() == []
    assert db_session.exec(select(ChronologyEntry)).all() == []
    assert db_session.exec(select(PupilParent)).all() == []
    assert svc.get_parent(db_session, parent_id=linked.id).pupil_ids == []
    assert db_session.exec(select(Pupil)).all() == []
