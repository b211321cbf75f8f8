"""The EP allocation as referrals draw on it (reserve an estimate, book what a visit used, release), and a
referral's recommendations sent to the pupil's SEN support case."""

from __future__ import annotations

import datetime as dt

from temporalio import activity
from temporalio.service import RPCError, RPCStatusCode

from domain.dates import ENGLAND
from domain.ep_referral import (
    AdviceForSupportCase,
    AllocationAnswer,
    AllocationBooking,
    AllocationFigures,
    AllocationRequest,
)
from infra.database import session_scope
from store import ep_allocation


def _figures(public: ep_allocation.AllocationPublic) -> AllocationFigures:
    return AllocationFigures.model_validate(public.model_dump(include=set(AllocationFigures.model_fields)))


@activity.defn(name="reserve_ep_allocation")
def reserve_ep_allocation(request: AllocationRequest) -> AllocationAnswer:
    """Reserve the referral's estimate in the school year the activity was scheduled in (in England).

    An estimate beyond what remains is reserved only when the headteacher approved the overrun.
    """
    scheduled = activity.info().scheduled_time if activity.in_activity() else dt.datetime.now(dt.UTC)
    with session_scope() as session:
        reserved, figures = ep_allocation.reserve(
            session,
            school_id=request.school_id,
            case_id=request.case_id,
            amount=request.amount,
            today=scheduled.astimezone(ENGLAND).date(),
            allow_overrun=request.allow_overrun,
        )
        return AllocationAnswer(reserved=reserved, figures=_figures(figures))


@activity.defn(name="book_ep_allocation")
def book_ep_allocation(booking: AllocationBooking) -> AllocationFigures | None:
    """What the visit used replaces the reservation; used None releases it."""
    with session_scope() as session:
        figures = ep_allocation.book(session, case_id=booking.case_id, used=booking.used)
        return _figures(figures) if figures else None


@activity.defn(name="send_specialist_advice")
async def send_specialist_advice(sent: AdviceForSupportCase) -> bool:
    """Give the SEN support case the recommendations (an Update); False when that case has ended."""
    handle = activity.client().get_workflow_handle(sent.workflow_id)
    try:
        await handle.execute_update("specialist_advice", sent.advice)
    except RPCError as err:
        if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
            return False
        raise
    return True


EP_ALLOCATION_ACTIVITIES = [reserve_ep_allocation, book_ep_allocation, send_specialist_advice]
