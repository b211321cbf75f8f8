"""What a funding application reads and writes: the evidence the engine holds, and the award's money."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select
from temporalio import activity

from domain.dates import ENGLAND
from domain.funding_application import (
    CostLine,
    FundingAwardRecord,
    FundingEvidence,
    FundingQuery,
    HeldReview,
    funding_rules,
)
from infra.database import get_engine, session_scope
from store import funding_service
from store.casework import Case, ChronologyEntry
from store.provision_service import pupil_cost, school_year_of
from store.register import Pupil, School

REVIEWED_PLAN = "review-recorded"  # the graduated approach's chronology entry for a reviewed support plan


def _today() -> dt.date:
    scheduled = activity.info().scheduled_time if activity.in_activity() else dt.datetime.now(dt.UTC)
    return scheduled.astimezone(ENGLAND).date()


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@activity.defn(name="gather_funding_evidence")
def gather_funding_evidence(query: FundingQuery) -> FundingEvidence:
    """The LA's requirements, the pupil's reviewed support plans and this school year's costed provision."""
    today = _today()
    ref = query.case
    with Session(get_engine()) as session:
        pupil = session.get(Pupil, ref.pupil_id)
        school = session.get(School, ref.school_id)
        assert pupil is not None and school is not None
        support_cases = select(Case.id).where(
            Case.process == "graduated_approach",
            Case.pupil_id == ref.pupil_id,
            Case.school_id == ref.school_id,
        )
        reviewed = session.exec(
            select(ChronologyEntry)
            .where(col(ChronologyEntry.case_id).in_(support_cases), ChronologyEntry.action == REVIEWED_PLAN)
            .order_by(col(ChronologyEntry.at).desc(), col(ChronologyEntry.id).desc())
        ).all()
        cost = pupil_cost(session, pupil_id=ref.pupil_id, school_id=ref.school_id, year=school_year_of(today))
        return FundingEvidence(
            rules=funding_rules(pupil.local_authority or school.local_authority),
            reviews=[
                HeldReview(case_id=r.case_id, reviewed_on=r.at.astimezone(ENGLAND).date(), detail=r.detail)
                for r in reviewed
            ],
            school_year=cost.school_year,
            provision=[
                CostLine(
                    intervention=p.intervention,
                    delivery=str(p.delivery),
                    cost_per_week=p.cost_per_week,
                    weeks=p.weeks,
                    cost=p.cost,
                )
                for p in cost.placements
            ],
            age=_age(pupil.date_of_birth, today),
            has_ehc_plan=pupil.sen_provision == "E",
        )


@activity.defn(name="record_funding_award")
def record_funding_award(award: FundingAwardRecord) -> None:
    """Write the application's money: pending at submission, then the LA's decision."""
    with session_scope() as session:
        funding_service.record_award(session, award=award)


FUNDING_ACTIVITIES = [gather_funding_evidence, record_funding_award]
