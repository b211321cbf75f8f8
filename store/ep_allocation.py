"""The school's annual allocation agreement with its EP service (EP-ALLOCATION), and the referrals on it.

One agreement per school and school year (1 September to 31 August), in hours or sessions. Each referral
that draws on it has one row: its estimate reserved when it starts, what the visit used booked once it is
held (replacing the reservation), or released when the parents refuse or the service declines.
Remaining = allocated - reserved - used. Every function takes the caller's school: another school's
figures are never read or changed.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import pydantic
from sqlalchemy import Column, UniqueConstraint
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, Session, SQLModel, col, select

from domain.ep_referral import AllocationFigures, AllocationUnit
from store.provision_service import school_year_label, school_year_of
from store.register_service import RegisterError

ROUNDING = 2


class UseStatus(StrEnum):
    reserved = "reserved"
    used = "used"
    released = "released"


class EPAllocation(SQLModel, table=True):
    """A school year's agreement with the EP service."""

    __tablename__ = "ep_allocation"
    __table_args__ = (UniqueConstraint("school_id", "school_year"),)
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id")
    school_year: int = Field(description="the year the school year starts")
    unit: str = Field(default="hours", max_length=10)
    allocated: float = Field(ge=0)
    updated_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))


class EPAllocationUse(SQLModel, table=True):
    """One referral's draw on the allocation: reserved, then used, or released."""

    __tablename__ = "ep_allocation_use"
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    school_year: int
    case_id: str = Field(foreign_key="case.id", max_length=36, unique=True)
    reserved: float = Field(ge=0)
    used: float | None = None
    status: UseStatus = Field(
        sa_column=Column(
            SAEnum(UseStatus, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e]),
            nullable=False,
        )
    )
    overrun: bool = Field(
        default=False, description="reserved beyond the allocation, the headteacher approving"
    )
    at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))


class AllocationAgreement(SQLModel):
    """The agreement to record for a school year: how much, in hours or sessions."""

    model_config = {"json_schema_extra": {"examples": [{"unit": "hours", "allocated": 60}]}}

    unit: AllocationUnit = "hours"
    allocated: float = Field(ge=0, le=10_000, description="hours or sessions agreed for the school year")


class ReferralDraw(SQLModel):
    """One referral's draw on the allocation."""

    case_id: str
    status: UseStatus
    reserved: float
    used: float | None
    overrun: bool


class AllocationPublic(AllocationFigures):
    """The school year's figures, with each referral drawing on them."""

    agreed: bool = False
    referrals: list[ReferralDraw] = pydantic.Field(default_factory=list)


def _round(x: float) -> float:
    return round(x, ROUNDING)


def _uses(session: Session, school_id: int, school_year: int) -> list[EPAllocationUse]:
    query = select(EPAllocationUse).where(
        EPAllocationUse.school_id == school_id, EPAllocationUse.school_year == school_year
    )
    return list(session.exec(query.order_by(col(EPAllocationUse.id))))


def _agreement(session: Session, school_id: int, school_year: int) -> EPAllocation | None:
    query = select(EPAllocation).where(
        EPAllocation.school_id == school_id, EPAllocation.school_year == school_year
    )
    return session.exec(query).first()


def allocation(session: Session, *, school_id: int, school_year: int) -> AllocationPublic:
    """Allocated, reserved, used and remaining for the school year (nothing agreed: all 0)."""
    agreement = _agreement(session, school_id, school_year)
    uses = _uses(session, school_id, school_year)
    reserved = sum(u.reserved for u in uses if u.status == UseStatus.reserved)
    used = sum(u.used or 0 for u in uses if u.status == UseStatus.used)
    allocated = agreement.allocated if agreement else 0
    return AllocationPublic(
        school_year=school_year,
        label=school_year_label(school_year),
        unit=agreement.unit if agreement else "hours",  # type: ignore[arg-type]
        allocated=_round(allocated),
        reserved=_round(reserved),
        used=_round(used),
        remaining=_round(allocated - reserved - used),
        agreed=agreement is not None,
        referrals=[
            ReferralDraw(
                case_id=u.case_id, status=u.status, reserved=u.reserved, used=u.used, overrun=u.overrun
            )
            for u in uses
        ],
    )


def set_allocation(
    session: Session, *, school_id: int, school_year: int, agreement: AllocationAgreement
) -> AllocationPublic:
    """Record (or change) the school year's agreement; never below what referrals already draw."""
    drawn = allocation(session, school_id=school_id, school_year=school_year)
    if agreement.allocated < drawn.reserved + drawn.used:
        raise RegisterError(
            f"referrals already draw {drawn.reserved + drawn.used:g} {drawn.unit} of the {drawn.label} "
            f"allocation: agree at least that much",
            field="allocated",
        )
    row = _agreement(session, school_id, school_year) or EPAllocation(
        school_id=school_id, school_year=school_year, allocated=0
    )
    row.unit, row.allocated, row.updated_at = agreement.unit, agreement.allocated, dt.datetime.now(dt.UTC)
    session.add(row)
    session.commit()
    return allocation(session, school_id=school_id, school_year=school_year)


def reserve(
    session: Session, *, school_id: int, case_id: str, amount: float, today: dt.date, allow_overrun: bool
) -> tuple[bool, AllocationPublic]:
    """Reserve a referral's estimate in the school year it starts in (once: a retry finds its row).

    Without `allow_overrun`, an estimate beyond what remains is not reserved (False, with the figures).
    """
    existing = session.exec(select(EPAllocationUse).where(EPAllocationUse.case_id == case_id)).first()
    year = existing.school_year if existing else school_year_of(today)
    if existing is None:
        figures = allocation(session, school_id=school_id, school_year=year)
        overrun = amount > figures.remaining
        if overrun and not allow_overrun:
            return False, figures
        session.add(
            EPAllocationUse(
                school_id=school_id,
                school_year=year,
                case_id=case_id,
                reserved=amount,
                status=UseStatus.reserved,
                overrun=overrun,
            )
        )
        session.commit()
    return True, allocation(session, school_id=school_id, school_year=year)


def book(session: Session, *, case_id: str, used: float | None) -> AllocationPublic | None:
    """What the visit used replaces the reservation (used None: the reservation is released)."""
    row = session.exec(select(EPAllocationUse).where(EPAllocationUse.case_id == case_id)).first()
    if row is None:
        return None
    if used is None:
        row.status = UseStatus.released
    else:
        row.status, row.used = UseStatus.used, used
    row.at = dt.datetime.now(dt.UTC)
    session.add(row)
    session.commit()
    return allocation(session, school_id=row.school_id, school_year=row.school_year)
