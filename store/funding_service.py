"""Data access for funding applications' money: written by the workflow's activity, read per school.

Every read takes the caller's `school_id`: another school's applications are never in it. An application
counts in the school year it was submitted in (1 September to 31 August).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlmodel import Session, col, select

from domain.funding_application import FundingAwardRecord
from store.funding import FundingAward, FundingLine, FundingSummary, PupilFunding
from store.provision_service import PENCE, school_year_label, school_year_span
from store.register import Pupil


def record_award(session: Session, *, award: FundingAwardRecord) -> None:
    """Write an attempt's row (one per case and attempt; a later write replaces what it says)."""
    row = session.exec(
        select(FundingAward).where(
            FundingAward.case_id == award.case_id, FundingAward.attempt == award.attempt
        )
    ).first()
    values = award.model_dump()
    if row is None:
        row = FundingAward(**values, recorded_at=dt.datetime.now(dt.UTC))
    else:
        row.sqlmodel_update({**values, "recorded_at": dt.datetime.now(dt.UTC)})
    session.add(row)
    session.commit()


def _line(row: FundingAward) -> FundingLine:
    difference = (
        round(row.asked - row.awarded, PENCE) if row.status == "partial" and row.awarded is not None else None
    )
    return FundingLine(
        case_id=row.case_id,
        attempt=row.attempt,
        kind=row.kind,
        status=row.status,
        asked=row.asked,
        awarded=row.awarded,
        difference=difference,
        submitted_on=row.submitted_on,
        decided_on=row.decided_on,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        reason=row.reason,
    )


def funding_summary(session: Session, *, school_id: int, year: int) -> FundingSummary:
    """Funding awarded and pending in the school year, per pupil (names as the register holds them)."""
    starts, ends = school_year_span(year)
    rows = session.exec(
        select(FundingAward, Pupil.legal_name, Pupil.year_group)
        .join(Pupil, col(Pupil.id) == FundingAward.pupil_id)
        .where(FundingAward.school_id == school_id, col(FundingAward.submitted_on).between(starts, ends))
        .order_by(col(Pupil.legal_name), col(FundingAward.submitted_on), col(FundingAward.attempt))
    ).all()
    by_pupil: dict[int, list[FundingAward]] = defaultdict(list)
    who: dict[int, tuple[str, int]] = {}
    for row, name, year_group in rows:
        by_pupil[row.pupil_id].append(row)
        who[row.pupil_id] = (name, year_group)
    pupils = []
    for pupil_id, own in by_pupil.items():
        awarded = sum(r.awarded or 0.0 for r in own if r.status in ("approved", "partial"))
        pending = sum(r.asked for r in own if r.status == "pending")
        pupils.append(
            PupilFunding(
                pupil_id=pupil_id,
                legal_name=who[pupil_id][0],
                year_group=who[pupil_id][1],
                awarded=round(awarded, PENCE),
                pending=round(pending, PENCE),
                applications=[_line(r) for r in own],
            )
        )
    return FundingSummary(
        school_year=school_year_label(year),
        starts=starts,
        ends=ends,
        awarded=round(sum(p.awarded for p in pupils), PENCE),
        pending=round(sum(p.pending for p in pupils), PENCE),
        pupils=pupils,
    )
