"""A school whose SENDCo works Wednesdays only, with cases and deadlines dated from a given day."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlmodel import Session

from domain.deadline_states import DeadlineState
from domain.schemas import Role
from store import case_service
from store.casework import Approval, Deadline
from store.register import Pupil, School, Staff
from store.tokens import issue_token

WEDNESDAY = 2


@dataclass
class WednesdaySchool:
    sendco: tuple[Staff, str]
    head: tuple[Staff, str]
    pupils: dict[str, Pupil]
    back_on: dt.date


def next_wednesday(after: dt.date) -> dt.date:
    later = after + dt.timedelta(days=1)
    while later.weekday() != WEDNESDAY:
        later += dt.timedelta(days=1)
    return later


def wednesday_school_on(engine, today: dt.date) -> WednesdaySchool:  # type: ignore[no-untyped-def]
    """A school whose SENDCo works Wednesdays only: four pupils, each case with one open deadline, dated
    from `today` (written as the workflows write the case projections)."""
    back_on = next_wednesday(today)
    with Session(engine, expire_on_commit=False) as s:
        school = School(name=f"Wednesday Primary {uuid.uuid4().hex[:4]}", local_authority="Kent")
        school.sendco_working_days = [WEDNESDAY]
        s.add(school)
        s.commit()
        people = {}
        for role, name in ((Role.sendco, "Rita Wednesday"), (Role.headteacher, "Hal Head")):
            staff = Staff(
                school_id=school.id, name=name, email=f"{uuid.uuid4().hex[:8]}@example.org", role=role
            )
            s.add(staff)
            s.commit()
            people[role] = (staff, issue_token(s, staff.id))
        pupils = {}
        plan = (
            ("Olive Overdue", "E", ["ASD"], "sendco", today - dt.timedelta(days=3), DeadlineState.missed),
            ("Tia Today", "K", ["SLCN"], "sendco", today, DeadlineState.pending),
            (
                "Nell Nextweek",
                "K",
                ["SEMH", "SPLD"],
                "sendco",
                back_on + dt.timedelta(days=2),
                DeadlineState.pending,
            ),
            ("Lars Waiting", "E", ["HI"], "la_sen", today + dt.timedelta(days=10), DeadlineState.pending),
        )
        for name, provision, needs, owner, due, state in plan:
            pupil = Pupil(
                school_id=school.id,
                legal_name=name,
                date_of_birth=dt.date(2016, 1, 1),
                year_group=4,
                sen_provision=provision,
                needs=needs,
                local_authority="Kent",
            )
            s.add(pupil)
            s.commit()
            pupils[name] = pupil
            case = case_service.open_case(
                s,
                case_id=str(uuid.uuid4()),
                process="records_request",
                pupil_id=pupil.id,
                school_id=school.id,
                started_by=people[Role.sendco][0].id,
                facts={"request_received": (due - dt.timedelta(days=21)).isoformat()},
            )
            case.step, case.next_action = "gathering", "Gather the educational record"
            s.add(case)
            s.add(
                Deadline(
                    case_id=case.id,
                    school_id=school.id,
                    key="respond",
                    step="respond",
                    rule_id="TR-RECORDS-ACCESS",
                    owner=owner,
                    due=due,
                    status=state,
                )
            )
            if name == "Tia Today":
                s.add(
                    Approval(
                        case_id=case.id,
                        key="release",
                        step="approval",
                        summary="Release the educational record (14 pages)",
                        requested_at=dt.datetime.now(dt.UTC),
                    )
                )
            s.commit()
        return WednesdaySchool(people[Role.sendco], people[Role.headteacher], pupils, back_on)
