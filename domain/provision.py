"""The provision map as processes see it: the interventions a support plan puts a pupil in.

Pure: the tables, the costing and the lists live in store/provision.py; a workflow passes these models
to the `record_plan_provision` activity.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class PlannedIntervention(BaseModel):
    """One intervention of the provision map in a pupil's support plan, as planned for this cycle."""

    intervention_id: int = Field(description="the intervention in the school's provision map")
    sessions_per_week: float = Field(gt=0, le=50)
    weeks: int = Field(ge=1, le=52)
    staff_id: int | None = Field(default=None, description="who delivers it, if not the intervention's own")
    cost_per_week: float | None = Field(default=None, ge=0, description="GBP; empty: the intervention's own")


class PlanProvision(BaseModel):
    """What a support plan puts the pupil in, for one cycle of a case (replaces that cycle's earlier plan)."""

    case_id: str
    cycle: int
    pupil_id: int
    school_id: int
    interventions: list[PlannedIntervention]
