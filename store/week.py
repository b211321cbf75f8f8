"""The SENDCo's week, as My week shows it and the SENDCo-day digest sends it: what is overdue, what is due
before the SENDCo's next working day, the week after, what waits on others, and the approvals waiting on
the headteacher (read from the case projections)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from domain.deadline_states import OPEN
from store import case_service
from store.casework import Approval, Case, CaseStatus, Deadline
from store.register import Pupil, School

STAFF_KINDS = frozenset({"sendco", "headteacher", "staff"})  # owners who work at the school
EVERY_WEEKDAY = (0, 1, 2, 3, 4)


def next_working_day(on: dt.date, working_days: list[int] | tuple[int, ...]) -> dt.date:
    """The SENDCo's next working day after `on` (their pattern, Monday=0)."""
    days = set(working_days) or set(EVERY_WEEKDAY)
    later = on + dt.timedelta(days=1)
    while later.weekday() not in days:
        later += dt.timedelta(days=1)
    return later


@dataclass(frozen=True)
class Item:
    """One open deadline, with its case and pupil."""

    deadline: Deadline
    case: Case
    pupil: Pupil | None

    @property
    def owner_kind(self) -> str:
        return self.deadline.owner.partition(":")[0]


@dataclass
class Week:
    on: dt.date
    back_on: dt.date  # the SENDCo's next working day
    working_days: list[int]
    overdue: list[Item] = field(default_factory=list)
    due_soon: list[Item] = field(default_factory=list)  # due from today to before the SENDCo is next in
    coming: list[Item] = field(default_factory=list)  # the week after that
    others: list[Item] = field(default_factory=list)  # owed by parents, agencies or the LA
    escalated: list[Item] = field(default_factory=list)
    approvals: list[tuple[Approval, Case, Pupil | None]] = field(default_factory=list)

    @property
    def cover(self) -> list[Item]:
        """What falls due while the SENDCo is out (after today, before they are next in)."""
        return [i for i in self.due_soon if i.deadline.due > self.on]

    @property
    def works_every_weekday(self) -> bool:
        return set(self.working_days) >= set(EVERY_WEEKDAY)


def sendco_week(session: Session, school_id: int, on: dt.date) -> Week:
    """The school's week from `on`, in three queries."""
    school = session.get(School, school_id)
    working = list(school.sendco_working_days) if school else list(EVERY_WEEKDAY)
    week = Week(on=on, back_on=next_working_day(on, working), working_days=working)
    rows = session.exec(
        case_service.deadlines_query(school_id=school_id)
        .join(Case, col(Case.id) == Deadline.case_id)
        .where(col(Deadline.status).in_(OPEN), col(Deadline.completed_at).is_(None))
        .where(Case.status == CaseStatus.open)
    ).all()
    waiting = session.exec(case_service.approvals_query(school_id=school_id)).all()
    case_ids = {r.case_id for r in rows} | {a.case_id for a in waiting}
    cases = {c.id: c for c in session.exec(select(Case).where(col(Case.id).in_(case_ids)))}
    pupil_ids = {c.pupil_id for c in cases.values()}
    pupils = {p.id: p for p in session.exec(select(Pupil).where(col(Pupil.id).in_(pupil_ids)))}
    for row in rows:
        case = cases[row.case_id]
        item = Item(row, case, pupils.get(case.pupil_id))
        if row.status == "escalated":
            week.escalated.append(item)
        if item.owner_kind not in STAFF_KINDS:
            week.others.append(item)
        elif row.due < on or row.status != "pending":
            week.overdue.append(item)
        elif row.due < week.back_on:
            week.due_soon.append(item)
        elif row.due < week.back_on + dt.timedelta(days=7):
            week.coming.append(item)
    week.approvals = [(a, cases[a.case_id], pupils.get(cases[a.case_id].pupil_id)) for a in waiting]
    return week
