"""The register service on SQLite and on PostgreSQL (every test runs on both through `db_engine`)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
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
    AgencyUpdate,
    Parent,
    ParentCreate,
    ParentPublic,
    ParentUpdate,
    Pupil,
    PupilCreate,
    PupilParent,
    PupilUpdate,
    SchoolCreate,
    SchoolPublic,
    SchoolUpdate,
    StaffCreate,
    StaffUpdate,
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


@pytest.fixture
def elm(db_session: Session) -> SchoolPublic:
    """A second school of the same trust, whose staff must see nothing of Oak's."""
    return svc.create_school(db_session, data=SchoolCreate(name="Elm", local_authority="Kent"))


def pupil(session: Session, school_id: int, **fields: object) -> int:
    data = {"legal_name": "Pupil", "date_of_birth": dt.date(2016, 3, 1), "year_group": 4, **fields}
    made = svc.create_pupil(session, data=PupilCreate(school_id=school_id, **data), school_id=school_id)  # type: ignore[arg-type]
    return made.id


def staff(session: Session, school_id: int, email: str, role: Role = Role.staff) -> int:
    data = StaffCreate(school_id=school_id, name="Staff", email=email, role=role)
    return svc.create_staff(session, data=data, school_id=school_id).id


def parent(session: Session, school_id: int, *pupil_ids: int, name: str = "P") -> ParentPublic:
    data = ParentCreate(name=name, email=f"{name.lower()}@example.org", pupil_ids=list(pupil_ids))
    return svc.create_parent(session, data=data, school_id=school_id)


def test_school_round_trips_its_calendar(db_session: Session, school: SchoolPublic) -> None:
    got = svc.get_school(db_session, target_id=school.id, school_id=school.id)
    assert got.terms[0].start == dt.date(2025, 9, 3)
    assert got.inset_days == [dt.date(2025, 9, 1)]
    assert svc.list_schools(db_session, school_id=school.id).total == 1
    with pytest.raises(svc.NotFound):
        svc.get_school(db_session, target_id=school.id + 1000, school_id=school.id + 1000)


def test_staff_by_role_and_unique_email(db_session: Session, school: SchoolPublic) -> None:
    staff(db_session, school.id, "sendco@example.org", Role.sendco)
    staff(db_session, school.id, "head@example.org", Role.headteacher)
    staff(db_session, school.id, "t1@example.org")
    staff(db_session, school.id, "t2@example.org")
    assert svc.list_staff(db_session, school_id=school.id, role=Role.staff).total == 2
    assert [s.role for s in svc.list_staff(db_session, school_id=school.id, role=Role.sendco).items] == [
        Role.sendco
    ]
    with pytest.raises(IntegrityError):
        staff(db_session, school.id, "t1@example.org")
    assert svc.list_staff(db_session, school_id=school.id).total == 4  # usable again, nothing was added
    with pytest.raises(svc.InvalidInput) as refused:
        staff(db_session, school.id + 1000, "t3@example.org")
    assert refused.value.field == "school_id"


def test_pupil_filters(db_session: Session, school: SchoolPublic, elm: SchoolPublic) -> None:
    pupil(db_session, school.id, sen_provision="K", needs=["PMLD"])
    mld = pupil(db_session, school.id, sen_provision="K", needs=["SEMH", "MLD"], year_group=5)
    ehcp = pupil(db_session, school.id, sen_provision="E", needs=["ASD"], year_group=5)
    pupil(db_session, school.id)
    elm_asd = pupil(db_session, elm.id, sen_provision="E", needs=["ASD"])

    def ids(**filters: object) -> list[int]:
        return [p.id for p in svc.list_pupils(db_session, school_id=school.id, **filters).items]  # type: ignore[arg-type]

    assert ids(need=NeedType.MLD) == [mld]  # rank 2 counts; PMLD does not match MLD
    assert ids(year_group=5) == [mld, ehcp]
    assert ids(sen_provision=SenProvision.E) == [ehcp]
    assert ids(year_group=5, sen_provision=SenProvision.K) == [mld]
    for school_id, asd in [(school.id, ehcp), (elm.id, elm_asd)]:  # each school lists only its own
        listed = svc.list_pupils(db_session, school_id=school_id, need=NeedType.ASD)
        assert [p.id for p in listed.items] == [asd]


def test_pages_are_stable_and_bounded(db_session: Session, school: SchoolPublic) -> None:
    made = [pupil(db_session, school.id) for _ in range(7)]
    pages = [svc.list_pupils(db_session, school_id=school.id, offset=offset, limit=3) for offset in (0, 3, 6)]
    assert [p.total for p in pages] == [7, 7, 7]
    assert [p.id for page in pages for p in page.items] == made
    assert (pages[2].offset, pages[2].limit, len(pages[2].items)) == (6, 3, 1)
    for bad in ({"limit": 0}, {"limit": 501}, {"offset": -1}):
        with pytest.raises(ValueError, match="a page needs offset >= 0 and limit between 1 and 500"):
            svc.list_pupils(db_session, school_id=school.id, **bad)  # type: ignore[arg-type]


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
    assert svc.list_pupils(db_session, school_id=school.id).total == 0


def test_update_pupil_checks_the_merged_record(db_session: Session, school: SchoolPublic) -> None:
    pid = pupil(db_session, school.id, sen_provision="K", needs=["SPLD"])
    with pytest.raises(svc.InvalidInput) as refused:
        svc.update_pupil(
            db_session, pupil_id=pid, school_id=school.id, changes=PupilUpdate(sen_provision=SenProvision.N)
        )
    assert (refused.value.field, refused.value.reason) == ("needs", "provision N carries no need type")
    db_session.expire_all()
    assert svc.get_pupil(db_session, pupil_id=pid, school_id=school.id).sen_provision == SenProvision.K
    changes = PupilUpdate(sen_provision=SenProvision.E, needs=[NeedType.SLCN])
    changed = svc.update_pupil(db_session, pupil_id=pid, school_id=school.id, changes=changes)
    assert (changed.sen_provision, changed.needs, changed.year_group) == ("E", ["SLCN"], 4)


def test_parents_link_pupils(db_session: Session, school: SchoolPublic) -> None:
    a, b = pupil(db_session, school.id), pupil(db_session, school.id)
    with pytest.raises(svc.InvalidInput) as refused:
        parent(db_session, school.id, a, 9999)
    assert (refused.value.field, refused.value.reason) == ("pupil_ids", "no pupil with id 9999")
    with pytest.raises(svc.InvalidInput, match="at least one pupil"):
        parent(db_session, school.id)
    assert svc.list_parents(db_session, school_id=school.id).total == 0
    both = parent(db_session, school.id, b, a, a)
    assert both.pupil_ids == [a, b]
    parent(db_session, school.id, b, name="Q")
    assert [p.name for p in svc.list_parents(db_session, school_id=school.id, pupil_id=a).items] == ["P"]
    assert svc.list_parents(db_session, school_id=school.id, pupil_id=b).total == 2
    moved = svc.update_parent(
        db_session, parent_id=both.id, school_id=school.id, changes=ParentUpdate(pupil_ids=[b])
    )
    assert moved.pupil_ids == [b]


def test_agency_filters(db_session: Session, school: SchoolPublic, elm: SchoolPublic) -> None:
    made = [(AgencyKind.ep_service, "Kent"), (AgencyKind.la_sen, "Kent"), (AgencyKind.la_sen, "Medway")]
    for kind, la in made:
        data = AgencyCreate(kind=kind, name="Team", email="team@example.org", local_authority=la)
        svc.create_agency(db_session, data=data, school_id=None)
    assert svc.list_agencies(db_session, school_id=school.id, kind=AgencyKind.la_sen).total == 2
    assert (
        svc.list_agencies(
            db_session, school_id=school.id, kind=AgencyKind.la_sen, local_authority="Kent"
        ).total
        == 1
    )


def test_an_agency_a_school_registers_is_that_schools_alone(
    db_session: Session, school: SchoolPublic, elm: SchoolPublic
) -> None:
    data = AgencyCreate(kind=AgencyKind.la_sen, name="Team", email="team@example.org", local_authority="Kent")
    own = svc.create_agency(db_session, data=data, school_id=elm.id)
    assert svc.get_agency(db_session, agency_id=own.id, school_id=elm.id) == own
    with pytest.raises(svc.NotFound):
        svc.get_agency(db_session, agency_id=own.id, school_id=school.id)
    with pytest.raises(svc.NotFound):
        svc.update_agency(db_session, agency_id=own.id, school_id=school.id, changes=AgencyUpdate(name="X"))
    assert svc.list_agencies(db_session, school_id=school.id, local_authority="Kent").total == 0
    assert svc.list_agencies(db_session, school_id=elm.id, local_authority="Kent").total == 1


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
    linked = parent(db_session, school.id, pid)
    case = open_case(db_session, pid, school.id, staff(db_session, school.id, "s@example.org", Role.sendco))
    with pytest.raises(svc.HasOpenCases, match="open case"):
        svc.delete_pupil(db_session, pupil_id=pid, school_id=school.id)
    assert svc.get_pupil(db_session, pupil_id=pid, school_id=school.id).id == pid

    case.status = CaseStatus.closed
    db_session.add(case)
    db_session.commit()
    svc.delete_pupil(db_session, pupil_id=pid, school_id=school.id)
    with pytest.raises(svc.NotFound):
        svc.get_pupil(db_session, pupil_id=pid, school_id=school.id)
    assert db_session.exec(select(Case)).all() == []
    assert db_session.exec(select(ChronologyEntry)).all() == []
    assert db_session.exec(select(PupilParent)).all() == []
    # The parent's record stays, linked to no pupil, so no school sees it any more.
    assert db_session.exec(select(Parent.id)).all() == [linked.id]
    with pytest.raises(svc.NotFound):
        svc.get_parent(db_session, parent_id=linked.id, school_id=school.id)
    assert db_session.exec(select(Pupil)).all() == []


# --- Each school sees and changes only its own register ---------------------
def test_another_schools_pupil_is_not_found(
    db_session: Session, school: SchoolPublic, elm: SchoolPublic
) -> None:
    pid = pupil(db_session, school.id, sen_provision="K", needs=["SPLD"])
    unknown = f"no pupil with id {pid}"  # the same answer as for an id no school has
    with pytest.raises(svc.NotFound, match=unknown):
        svc.get_pupil(db_session, pupil_id=pid, school_id=elm.id)
    with pytest.raises(svc.NotFound, match=unknown):
        svc.update_pupil(db_session, pupil_id=pid, school_id=elm.id, changes=PupilUpdate(year_group=5))
    with pytest.raises(svc.NotFound, match=unknown):
        svc.delete_pupil(db_session, pupil_id=pid, school_id=elm.id)
    assert svc.list_pupils(db_session, school_id=elm.id).total == 0
    db_session.expire_all()
    kept = svc.get_pupil(db_session, pupil_id=pid, school_id=school.id)
    assert (kept.year_group, kept.school_id) == (4, school.id)


def test_pupils_and_staff_are_added_to_your_own_school_only(
    db_session: Session, school: SchoolPublic, elm: SchoolPublic
) -> None:
    data = PupilCreate(legal_name="P", date_of_birth=dt.date(2016, 3, 1), year_group=4, school_id=school.id)
    with pytest.raises(svc.OtherSchool) as refused:
        svc.create_pupil(db_session, data=data, school_id=elm.id)
    assert refused.value.field == "school_id"
    assert refused.value.reason == "you can only add pupils to your own school"
    made = StaffCreate(school_id=school.id, name="S", email="s@example.org", role=Role.sendco)
    with pytest.raises(svc.OtherSchool, match="staff to your own school"):
        svc.create_staff(db_session, data=made, school_id=elm.id)
    assert svc.list_pupils(db_session, school_id=school.id).total == 0
    assert svc.list_staff(db_session, school_id=school.id).total == 0


def test_another_schools_staff_are_not_found(
    db_session: Session, school: SchoolPublic, elm: SchoolPublic
) -> None:
    oak_staff = staff(db_session, school.id, "oak@example.org")
    elm_staff = staff(db_session, elm.id, "elm@example.org")
    with pytest.raises(svc.NotFound, match=f"no staff with id {oak_staff}"):
        svc.get_staff(db_session, staff_id=oak_staff, school_id=elm.id)
    with pytest.raises(svc.NotFound, match=f"no staff with id {oak_staff}"):
        svc.update_staff(
            db_session, staff_id=oak_staff, school_id=elm.id, changes=StaffUpdate(role=Role.sendco)
        )
    assert [s.id for s in svc.list_staff(db_session, school_id=elm.id).items] == [elm_staff]
    assert [s.id for s in svc.list_staff(db_session, school_id=school.id).items] == [oak_staff]
    db_session.expire_all()
    assert svc.get_staff(db_session, staff_id=oak_staff, school_id=school.id).role == Role.staff


def test_a_school_sees_and_changes_itself_only(
    db_session: Session, school: SchoolPublic, elm: SchoolPublic
) -> None:
    assert [s.id for s in svc.list_schools(db_session, school_id=elm.id).items] == [elm.id]
    with pytest.raises(svc.NotFound, match=f"no school with id {school.id}"):
        svc.get_school(db_session, target_id=school.id, school_id=elm.id)
    with pytest.raises(svc.NotFound, match=f"no school with id {school.id}"):
        svc.update_school(
            db_session, target_id=school.id, school_id=elm.id, changes=SchoolUpdate(name="Taken")
        )
    renamed = svc.update_school(
        db_session, target_id=elm.id, school_id=elm.id, changes=SchoolUpdate(name="Elm Road")
    )
    assert renamed.name == "Elm Road"
    db_session.expire_all()
    assert svc.get_school(db_session, target_id=school.id, school_id=school.id).name == "Oak Primary"


def test_parents_are_seen_through_your_own_schools_pupils(
    db_session: Session, school: SchoolPublic, elm: SchoolPublic
) -> None:
    oak_pupil, elm_pupil = pupil(db_session, school.id), pupil(db_session, elm.id)
    oak_only = parent(db_session, school.id, oak_pupil, name="Oak")
    with pytest.raises(svc.InvalidInput) as refused:  # another school's pupil is as unknown as a missing one
        parent(db_session, elm.id, elm_pupil, oak_pupil, name="Elm")
    assert (refused.value.field, refused.value.reason) == ("pupil_ids", f"no pupil with id {oak_pupil}")
    with pytest.raises(svc.NotFound, match=f"no parent with id {oak_only.id}"):
        svc.get_parent(db_session, parent_id=oak_only.id, school_id=elm.id)
    with pytest.raises(svc.NotFound, match=f"no parent with id {oak_only.id}"):
        svc.update_parent(db_session, parent_id=oak_only.id, school_id=elm.id, changes=ParentUpdate(name="X"))
    assert svc.list_parents(db_session, school_id=elm.id).total == 0
    assert svc.list_parents(db_session, school_id=elm.id, pupil_id=oak_pupil).total == 0
    assert [p.id for p in svc.list_parents(db_session, school_id=school.id).items] == [oak_only.id]


def test_a_parent_at_two_schools_shows_each_only_its_own_pupils(
    db_session: Session, school: SchoolPublic, elm: SchoolPublic
) -> None:
    oak_pupil, elm_pupil = pupil(db_session, school.id), pupil(db_session, elm.id)
    shared = parent(db_session, school.id, oak_pupil)
    db_session.add(PupilParent(pupil_id=elm_pupil, parent_id=shared.id))  # a sibling at Elm
    db_session.commit()
    assert svc.get_parent(db_session, parent_id=shared.id, school_id=school.id).pupil_ids == [oak_pupil]
    assert svc.get_parent(db_session, parent_id=shared.id, school_id=elm.id).pupil_ids == [elm_pupil]
    assert [p.pupil_ids for p in svc.list_parents(db_session, school_id=elm.id).items] == [[elm_pupil]]
    with pytest.raises(svc.InvalidInput, match="at least one pupil"):
        svc.update_parent(
            db_session, parent_id=shared.id, school_id=school.id, changes=ParentUpdate(pupil_ids=[])
        )
    other = pupil(db_session, school.id)
    moved = svc.update_parent(
        db_session, parent_id=shared.id, school_id=school.id, changes=ParentUpdate(pupil_ids=[other])
    )
    assert moved.pupil_ids == [other]
    links = db_session.exec(select(PupilParent.pupil_id).where(PupilParent.parent_id == shared.id)).all()
    assert sorted(links) == sorted([other, elm_pupil])  # Elm's link is left alone
