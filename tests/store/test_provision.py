"""The provision map, the census rules and the MIS import at the store, on SQLite and PostgreSQL; and the
record_plan_provision and set_provision activities as a workflow calls them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import pytest
from pydantic import ValidationError
from sqlmodel import Session, select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.cases import set_provision
from activities.provision import record_plan_provision
from domain.provision import PlannedIntervention, PlanProvision
from domain.schemas import ProvisionChange, Role
from domain.upn import make_upn
from store import provision_service, register_import, register_service
from store.casework import Case, CaseStatus
from store.provision import Delivery, InterventionCreate, InterventionUpdate, PlacedIntervention
from store.register import Pupil, PupilCreate, PupilUpdate, School, Staff
from store.register_service import InvalidInput, NotFound

TODAY = dt.date(2026, 11, 2)
YEAR = 2026  # the school year 2026/27
T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def add(session: Session, row: Any) -> Any:
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def school_with_staff(session: Session, name: str = "Oak Primary") -> tuple[School, Staff]:
    school = add(session, School(name=name, local_authority="Kent"))
    sendco = add(
        session,
        Staff(school_id=school.id, name="S", email=f"{uuid.uuid4().hex}@example.org", role=Role.sendco),
    )
    return school, sendco


def pupil(session: Session, school: School, name: str, **fields: Any) -> Pupil:
    values = {"date_of_birth": dt.date(2016, 3, 1), "year_group": 4, "sen_provision": "K", "needs": ["SLCN"]}
    return add(session, Pupil(school_id=school.id, legal_name=name, **{**values, **fields}))


def case(session: Session, school: School, staff: Staff, of: Pupil) -> Case:
    case_id = str(uuid.uuid4())
    return add(
        session,
        Case(
            id=case_id,
            process="graduated_approach",
            workflow_id=f"graduated_approach-{case_id}",
            pupil_id=of.id,
            school_id=school.id,
            started_by=staff.id,
            started_at=T0,
            updated_at=T0,
        ),
    )


def intervention(session: Session, school: School, name: str, delivery: str, cost: float) -> int:
    data = InterventionCreate(
        name=name, delivery=Delivery(delivery), sessions_per_week=2, weeks=10, cost_per_week=cost
    )
    made = provision_service.create_intervention(session, data=data, school_id=school.id or 0, today=TODAY)
    return made.id


def plan(c: Case, cycle: int, *planned: PlannedIntervention) -> PlanProvision:
    return PlanProvision(
        case_id=c.id, cycle=cycle, pupil_id=c.pupil_id, school_id=c.school_id, interventions=list(planned)
    )


def planned(intervention_id: int, weeks: int = 10, **fields: Any) -> PlannedIntervention:
    return PlannedIntervention(intervention_id=intervention_id, sessions_per_week=2, weeks=weeks, **fields)


# --- census codes -------------------------------------------------------------------------------------
CENSUS_REFUSALS = [
    ({"sen_provision": "S", "needs": ["ASD"]}, "obsolete"),
    ({"sen_provision": "E", "needs": ["NSA"]}, "only valid with SEN support"),
    ({"sen_provision": "K", "needs": ["ASD", "SLCN", "MLD"]}, "at most two"),
    ({"sen_provision": "N", "needs": ["SEMH"]}, "carries no need type"),
    ({"sen_provision": "K", "needs": []}, "rank-1"),
]


@pytest.mark.parametrize(("fields", "reason"), CENSUS_REFUSALS)
def test_census_codes_are_refused_when_a_pupil_is_added_or_changed(
    db_session: Session, fields: dict[str, Any], reason: str
) -> None:
    school, _ = school_with_staff(db_session)
    base = {"legal_name": "Sam Pupil", "date_of_birth": dt.date(2016, 3, 1), "year_group": 4}
    with pytest.raises(ValidationError, match=reason):
        PupilCreate(school_id=school.id, **base, **fields)
    existing = pupil(db_session, school, "Sam Pupil")
    with pytest.raises((InvalidInput, ValidationError)) as refused:
        register_service.update_pupil(
            db_session, pupil_id=existing.id, school_id=school.id, changes=PupilUpdate(**fields)
        )
    assert reason in str(refused.value)
    db_session.expire_all()
    kept = db_session.get(Pupil, existing.id)
    assert kept is not None and (kept.sen_provision, kept.needs) == ("K", ["SLCN"])


# --- the provision map --------------------------------------------------------------------------------
def test_a_plan_replaces_its_own_cycle_and_costs_are_shared_in_a_group(db_session: Session) -> None:
    school, sendco = school_with_staff(db_session)
    ada, ben = pupil(db_session, school, "Ada"), pupil(db_session, school, "Ben")
    ada_case, ben_case = case(db_session, school, sendco, ada), case(db_session, school, sendco, ben)
    lego = intervention(db_session, school, "Lego therapy", "group", 60.0)  # shared by its pupils
    reading = intervention(db_session, school, "Reading recovery", "individual", 30.0)
    speech = intervention(db_session, school, "Speech and language", "individual", 25.0)

    provision_service.assign_plan(
        db_session, plan=plan(ada_case, 1, planned(lego), planned(speech)), placed_on=TODAY
    )
    provision_service.assign_plan(db_session, plan=plan(ben_case, 1, planned(lego, weeks=6)), placed_on=TODAY)
    # Ada's cycle 1 plan is changed: speech and language replaced by reading recovery, with her own cost.
    provision_service.assign_plan(
        db_session,
        plan=plan(ada_case, 1, planned(lego), planned(reading, weeks=8, cost_per_week=40.0)),
        placed_on=TODAY,
    )

    rows = db_session.exec(select(PlacedIntervention).where(PlacedIntervention.case_id == ada_case.id)).all()
    assert sorted(r.intervention_id for r in rows) == sorted([lego, reading])
    ada_cost = provision_service.pupil_cost(db_session, pupil_id=ada.id, school_id=school.id, year=YEAR)
    by_name = {p.intervention: p for p in ada_cost.placements}
    assert set(by_name) == {"Lego therapy", "Reading recovery"}
    assert by_name["Lego therapy"].cost_per_week == 30.0  # 60 a week shared by Ada and Ben
    assert by_name["Lego therapy"].cost == 300.0  # for 10 weeks
    assert by_name["Reading recovery"].cost == 320.0  # her own 40 a week for 8 weeks
    assert ada_cost.total == 620.0 and ada_cost.school_year == "2026/27"

    whole = provision_service.provision_map_cost(db_session, school_id=school.id, year=YEAR)
    assert whole.total == 620.0 + 180.0  # Ben: 30 a week for 6 weeks
    assert whole.pupils == 2
    assert {i.name: (i.pupils, i.cost) for i in whole.interventions} == {
        "Lego therapy": (2, 480.0),
        "Reading recovery": (1, 320.0),
        "Speech and language": (0, 0.0),
    }
    assert [
        p.legal_name
        for p in provision_service.intervention_pupils(
            db_session, intervention_id=lego, school_id=school.id, year=YEAR
        )
    ] == ["Ada", "Ben"]

    # A second cycle adds its own plan; the first cycle's stays. Another school year has nothing.
    provision_service.assign_plan(db_session, plan=plan(ada_case, 2, planned(speech)), placed_on=TODAY)
    assert (
        provision_service.pupil_cost(db_session, pupil_id=ada.id, school_id=school.id, year=YEAR).total
        == 870.0
    )
    assert provision_service.provision_map_cost(db_session, school_id=school.id, year=YEAR + 1).total == 0.0


def test_the_provision_map_is_the_schools_own(db_session: Session) -> None:
    oak, oak_sendco = school_with_staff(db_session, "Oak")
    elm, _ = school_with_staff(db_session, "Elm")
    lego = intervention(db_session, oak, "Lego therapy", "group", 60.0)
    elm_pupil = pupil(db_session, elm, "Cal")
    with pytest.raises(NotFound):
        provision_service.get_intervention(db_session, intervention_id=lego, school_id=elm.id, today=TODAY)
    with pytest.raises(NotFound):
        provision_service.update_intervention(
            db_session,
            intervention_id=lego,
            school_id=elm.id,
            changes=InterventionUpdate(weeks=3),
            today=TODAY,
        )
    with pytest.raises(NotFound):
        provision_service.pupil_cost(db_session, pupil_id=elm_pupil.id, school_id=oak.id, year=YEAR)
    # Oak's intervention cannot go into an Elm pupil's plan, and an Elm plan cannot name Oak's staff.
    elm_sendco = db_session.exec(select(Staff).where(Staff.school_id == elm.id)).one()
    elm_case = case(db_session, elm, elm_sendco, elm_pupil)
    with pytest.raises(InvalidInput, match=f"no intervention with id {lego}"):
        provision_service.assign_plan(db_session, plan=plan(elm_case, 1, planned(lego)), placed_on=TODAY)
    with pytest.raises(InvalidInput, match="no staff member"):
        provision_service.create_intervention(
            db_session,
            data=InterventionCreate(
                name="Nurture",
                delivery=Delivery.group,
                staff_id=oak_sendco.id,
                sessions_per_week=1,
                weeks=5,
                cost_per_week=10,
            ),
            school_id=elm.id,
            today=TODAY,
        )


def test_an_intervention_a_plan_used_stays_and_a_pupil_deleted_takes_their_placements(
    db_session: Session,
) -> None:
    school, sendco = school_with_staff(db_session)
    ada = pupil(db_session, school, "Ada")
    ada_case = case(db_session, school, sendco, ada)
    lego = intervention(db_session, school, "Lego therapy", "group", 60.0)
    unused = intervention(db_session, school, "Nurture group", "group", 20.0)
    provision_service.assign_plan(db_session, plan=plan(ada_case, 1, planned(lego)), placed_on=TODAY)

    with pytest.raises(register_service.HasOpenCases, match="stays on the provision map"):
        provision_service.delete_intervention(db_session, intervention_id=lego, school_id=school.id)
    provision_service.delete_intervention(db_session, intervention_id=unused, school_id=school.id)
    with pytest.raises(NotFound):
        provision_service.get_intervention(
            db_session, intervention_id=unused, school_id=school.id, today=TODAY
        )

    ada_case.status = CaseStatus.closed
    add(db_session, ada_case)
    register_service.delete_pupil(db_session, pupil_id=ada.id, school_id=school.id)
    assert db_session.exec(select(PlacedIntervention)).all() == []


# --- the MIS import at the store ----------------------------------------------------------------------
UPNS = [make_upn(f"8862{n:08d}") for n in range(1, 5)]
HEADINGS = "UPN,Legal forename,Legal surname,Date of birth,Year group,SEN provision,Need 1,Need 2\n"
GOOD = HEADINGS + (
    f"{UPNS[0]},Ada,Example,01/03/2016,4,K,SLCN,\n"
    f"{UPNS[1]},Ben,Example,12/09/2015,Year 5,E,ASD,SLCN\n"
    f"{UPNS[2]},Cal,Example,2019-05-30,R,N,,\n"
)


def test_an_import_is_all_or_nothing_and_twice_is_once(db_session: Session) -> None:
    school, _ = school_with_staff(db_session)
    bad = (
        GOOD + f"{UPNS[3]},Dee,Example,01/03/2016,4,S,ASD,\n" + f"{UPNS[0]},Ada,Again,01/03/2016,4,K,SLCN,\n"
    )
    with pytest.raises(register_import.ImportRefused) as refused:
        register_import.import_pupils(db_session, school_id=school.id, text=bad, commit=True, today=TODAY)
    assert [(p.row, p.reason) for p in refused.value.problems] == [
        (5, "provision S (statement) is obsolete: use E for an EHC plan"),
        (6, "the UPN is also on row 2: list each pupil once"),
    ]
    assert db_session.exec(select(Pupil)).all() == []

    preview = register_import.import_pupils(
        db_session, school_id=school.id, text=GOOD, commit=False, today=TODAY
    )
    assert (preview.committed, preview.created, preview.updated, preview.unchanged) == (False, 3, 0, 0)
    assert db_session.exec(select(Pupil)).all() == []

    first = register_import.import_pupils(
        db_session, school_id=school.id, text=GOOD, commit=True, today=TODAY
    )
    again = register_import.import_pupils(
        db_session, school_id=school.id, text=GOOD, commit=True, today=TODAY
    )
    assert (first.created, again.created, again.updated, again.unchanged) == (3, 0, 0, 3)
    stored = {p.upn: p for p in db_session.exec(select(Pupil))}
    assert len(stored) == 3
    ben = stored[UPNS[1]]
    assert (ben.legal_name, ben.date_of_birth, ben.year_group, ben.sen_provision, ben.needs) == (
        "Ben Example",
        dt.date(2015, 9, 12),
        5,
        "E",
        ["ASD", "SLCN"],
    )
    assert stored[UPNS[2]].year_group == 0 and stored[UPNS[2]].needs == []


# --- the activities a workflow calls --------------------------------------------------------------------
def test_record_plan_provision_replaces_the_cycles_plan_and_refuses_another_schools(session: Session) -> None:
    school, sendco = school_with_staff(session, f"Activity Primary {uuid.uuid4().hex[:6]}")
    other, _ = school_with_staff(session, f"Other Primary {uuid.uuid4().hex[:6]}")
    ada = pupil(session, school, "Ada")
    ada_case = case(session, school, sendco, ada)
    lego = intervention(session, school, "Lego therapy", "group", 60.0)
    reading = intervention(session, school, "Reading recovery", "individual", 30.0)
    elsewhere = intervention(session, other, "Elsewhere", "individual", 5.0)
    env = ActivityEnvironment()
    env.info = dataclasses.replace(ActivityEnvironment.default_info(), scheduled_time=T0)

    env.run(record_plan_provision, plan(ada_case, 1, planned(lego)))
    env.run(record_plan_provision, plan(ada_case, 1, planned(reading)))  # the plan changed: replaces
    session.expire_all()
    rows = session.exec(select(PlacedIntervention).where(PlacedIntervention.case_id == ada_case.id)).all()
    assert [(r.intervention_id, r.cycle, r.placed_on) for r in rows] == [(reading, 1, TODAY)]

    with pytest.raises(ApplicationError) as refused:
        env.run(record_plan_provision, plan(ada_case, 1, planned(elsewhere)))
    assert refused.value.non_retryable and refused.value.type == "PlanRefused"
    assert refused.value.message == f"no intervention with id {elsewhere} on the provision map"
    session.expire_all()
    assert (
        len(session.exec(select(PlacedIntervention).where(PlacedIntervention.case_id == ada_case.id)).all())
        == 1
    )


@pytest.mark.parametrize(
    ("provision", "needs", "reason"),
    [
        ("S", ["ASD"], "obsolete"),
        ("E", ["NSA"], "only valid with SEN support"),
        ("N", ["SEMH"], "no need type"),
    ],
)
def test_set_provision_refuses_census_codes_at_once(
    session: Session, provision: str, needs: list[str], reason: str
) -> None:
    school, _ = school_with_staff(session, f"Census Primary {uuid.uuid4().hex[:6]}")
    ada = pupil(session, school, "Ada")
    change = ProvisionChange(pupil_id=ada.id, school_id=school.id, provision=provision, needs=needs)
    with pytest.raises(ApplicationError, match=reason) as refused:
        ActivityEnvironment().run(set_provision, change)
    assert refused.value.non_retryable and refused.value.type == "ProvisionRefused"
    ActivityEnvironment().run(
        set_provision, ProvisionChange(pupil_id=ada.id, school_id=school.id, provision="E", needs=["ASD"])
    )
    session.expire_all()
    stored = session.get(Pupil, ada.id)
    assert stored is not None and (stored.sen_provision, stored.needs) == ("E", ["ASD"])
