"""The provision map: a school's interventions, and the pupils a support plan places in each.

An intervention's `cost_per_week` is what it costs the school to run for a week. An individual
intervention's pupil bears all of it; a group's cost is shared between the pupils placed in it that
school year. A placement may give its own cost per week (a pupil's own extra time): that is the pupil's
alone. A pupil's cost of a placement is its weekly cost times its weeks.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import field_validator
from sqlalchemy import Column, Index, UniqueConstraint
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel

from domain.census import NeedType, SenProvision


class Delivery(StrEnum):
    group = "group"
    individual = "individual"


# --- Interventions ----------------------------------------------------------
class InterventionBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    delivery: Delivery = Field(description="group or individual")
    staff_id: int | None = Field(
        default=None, description="who usually delivers it (one of the school's staff)"
    )
    sessions_per_week: float = Field(gt=0, le=50)
    weeks: int = Field(ge=1, le=52, description="how many weeks it usually runs")
    cost_per_week: float = Field(ge=0, le=100_000, description="GBP a week to run it")

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("give the intervention a name")
        return name.strip()


class Intervention(InterventionBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    delivery: Delivery = Field(
        sa_column=Column(
            SAEnum(Delivery, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
            nullable=False,
        )
    )
    school_id: int = Field(foreign_key="school.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")


class InterventionCreate(InterventionBase):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "name": "Lego therapy",
                    "delivery": "group",
                    "staff_id": None,
                    "sessions_per_week": 2,
                    "weeks": 12,
                    "cost_per_week": 45.0,
                }
            ]
        }
    }


class InterventionUpdate(SQLModel):
    """A partial change: only the fields given are changed."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    delivery: Delivery | None = None
    staff_id: int | None = None
    sessions_per_week: float | None = Field(default=None, gt=0, le=50)
    weeks: int | None = Field(default=None, ge=1, le=52)
    cost_per_week: float | None = Field(default=None, ge=0, le=100_000)


class InterventionPublic(InterventionBase):
    id: int
    school_id: int
    pupils: int = Field(default=0, description="pupils placed in it this school year")


# --- Placements: the pupils in each, by the case and cycle that placed them -----------------------------
class PlacedIntervention(SQLModel, table=True):
    """A pupil in an intervention, as one cycle of a case's support plan placed them."""

    __tablename__ = "placed_intervention"
    __table_args__ = (
        UniqueConstraint("case_id", "cycle", "intervention_id"),
        Index("ix_placed_intervention_school_placed", "school_id", "placed_on"),
    )
    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id")
    intervention_id: int = Field(foreign_key="intervention.id", index=True)
    pupil_id: int = Field(foreign_key="pupil.id", index=True)
    case_id: str = Field(foreign_key="case.id", index=True, max_length=36)
    cycle: int
    sessions_per_week: float
    weeks: int
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    cost_per_week: float | None = Field(
        default=None, description="the pupil's own; empty: a share of the intervention's"
    )
    placed_on: dt.date = Field(description="when the plan was recorded: its school year")


class PlacementPublic(SQLModel):
    """A pupil in an intervention: how often, for how long, and what it costs for them."""

    intervention_id: int
    intervention: str
    delivery: Delivery
    pupil_id: int
    legal_name: str
    year_group: int
    case_id: str
    cycle: int
    sessions_per_week: float
    weeks: int
    staff_id: int | None
    placed_on: dt.date
    cost_per_week: float = Field(description="GBP a week for this pupil (a group's cost is shared)")
    cost: float = Field(description="GBP for this pupil over its weeks")


class PupilCost(SQLModel):
    """What a pupil's provision costs in a school year, intervention by intervention."""

    pupil_id: int
    legal_name: str
    year_group: int
    sen_provision: SenProvision
    needs: list[NeedType]
    school_year: str
    placements: list[PlacementPublic]
    total: float = Field(description="GBP for the school year")


class InterventionCost(SQLModel):
    intervention_id: int
    name: str
    delivery: Delivery
    pupils: int
    cost: float = Field(description="GBP for the school year")


class ProvisionMapCost(SQLModel):
    """The provision map's cost for a school year: the whole, by intervention, and how many pupils."""

    school_year: str = Field(description="e.g. 2026/27: 1 September to 31 August")
    starts: dt.date
    ends: dt.date
    pupils: int
    total: float = Field(description="GBP for the school year")
    interventions: list[InterventionCost]
