"""The provision map as a support plan changes it: the pupil placed in the plan's interventions."""

from __future__ import annotations

import datetime as dt

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.dates import ENGLAND
from domain.provision import PlanProvision
from infra.database import session_scope
from store.provision_service import assign_plan
from store.register_service import RegisterError

PLAN_REFUSED = "PlanRefused"


@activity.defn(name="record_plan_provision")
def record_plan_provision(plan: PlanProvision) -> None:
    """Place the pupil in the plan's interventions for its case and cycle (replacing its earlier ones).

    The plan's school year is the day the activity was scheduled (in England). An intervention or staff
    member not of the school fails at once (PlanRefused, not retried), with the reason in plain words.
    """
    scheduled = activity.info().scheduled_time if activity.in_activity() else dt.datetime.now(dt.UTC)
    placed_on = scheduled.astimezone(ENGLAND).date()
    try:
        with session_scope() as session:
            assign_plan(session, plan=plan, placed_on=placed_on)
    except RegisterError as refused:
        raise ApplicationError(refused.reason, type=PLAN_REFUSED, non_retryable=True) from None


PROVISION_ACTIVITIES = [record_plan_provision]
