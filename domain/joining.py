"""A pupil joining the school: its steps, what the SENDCo gives to start it and one payload per action.

The admission date starts every clock: the LA's new-pupil return (TR-NEW-PUPIL-RETURN), the previous
school's common transfer file, record and SEN file (TR-CTF, TR-SEN-FILE), and meeting the parents of a
pupil with SEN. A pupil with an EHC plan gets an annual review case from the plan's dates; a plan moving
from another LA shows its transfer clocks (TR-LA-TRANSFER, TR-NEW-LA-CONTACT). Pure: sandbox-safe.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.census import NeedType, validate_sen_record
from domain.schemas import Actor, CaseRef
from domain.timelines import JoiningFacts
from domain.transitions import SchoolAgencyId, plausible

Sen = Literal["ehc_plan", "sen_support", "none"]
Received = Literal["records", "sen_file"]
SEN_WORDS: dict[str, str] = {"ehc_plan": "an EHC plan", "sen_support": "SEN support", "none": "no SEN"}
RECEIVED_WORDS: dict[str, str] = {
    "records": "The common transfer file and the educational record",
    "sen_file": "The SEN file",
}


class JoiningStep(StrEnum):
    joining = "joining"
    closed = "closed"


class JoiningPlan(BaseModel):
    """What a joining case runs on (consistent; `JoiningStart` also checks its dates against today)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "admission_date": "2026-11-30",
                    "previous_school_id": 7,
                    "sen": "ehc_plan",
                    "plan_cycle_start": "2026-03-12",
                    "year_group": 4,
                    "moved_on": "2026-11-27",
                }
            ]
        }
    )

    admission_date: dt.date = Field(title="Admitted on", description="entered in the admission register")
    previous_school_id: SchoolAgencyId = Field(
        default=None, title="Previous school", description="its agency id in the register; empty: none"
    )
    sen: Sen = Field(default="none", title="Special educational needs")
    parents_meeting_school_days: int = Field(
        default=10, ge=1, le=40, title="School days to meet the parents (pupils with SEN)"
    )
    plan_cycle_start: dt.date | None = Field(
        default=None, title="EHC plan issued or last reviewed", description="starts the annual review case"
    )
    year_group: int | None = Field(default=None, ge=-3, le=14, title="Year group on that date")
    moved_on: dt.date | None = Field(
        default=None, title="Moved from another LA on", description="an EHC plan moving LA (TR-LA-TRANSFER)"
    )
    old_la_aware_on: dt.date | None = Field(
        default=None, title="Old LA told of the move on", description="empty: the day of the move"
    )

    @model_validator(mode="after")
    def _plan(self) -> JoiningPlan:
        if self.sen == "ehc_plan" and (self.plan_cycle_start is None or self.year_group is None):
            raise ValueError(
                "for a pupil with an EHC plan, give the date the plan was issued or last reviewed, "
                "and the year group then"
            )
        if self.sen != "ehc_plan" and (self.moved_on or self.plan_cycle_start):
            raise ValueError("a plan's dates and an LA move apply only to a pupil with an EHC plan")
        if self.plan_cycle_start is not None and self.plan_cycle_start > self.admission_date:
            raise ValueError("the plan's date cannot be after the admission")
        return self

    def facts(self) -> JoiningFacts:
        return JoiningFacts(
            admission_date=self.admission_date,
            has_sen=self.sen != "none",
            parents_meeting_school_days=self.parents_meeting_school_days,
            moved_on=self.moved_on,
            old_la_aware_on=self.old_la_aware_on,
        )


class JoiningStart(JoiningPlan):
    """What the SENDCo gives when a pupil joins."""

    @field_validator("admission_date")
    @classmethod
    def _admitted(cls, day: dt.date) -> dt.date:
        return plausible(day, "the admission date", future_days=60)

    @field_validator("plan_cycle_start", "moved_on", "old_la_aware_on")
    @classmethod
    def _past(cls, day: dt.date | None) -> dt.date | None:
        return None if day is None else plausible(day, "that date", future_days=60)


class JoiningInput(BaseModel):
    case: CaseRef
    started_by: Actor
    start: JoiningPlan


class RecordsReceived(BaseModel):
    """The previous school's records, or the SEN file, have arrived."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"item": "records", "received_on": "2026-12-08"}]}
    )

    actor: Actor
    item: Received = Field(title="What arrived")
    received_on: dt.date


class ParentsMet(BaseModel):
    """The SENDCo met the parents of the new pupil."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"met_on": "2026-12-04", "note": "At school"}]})

    actor: Actor
    met_on: dt.date
    note: str = Field(default="", max_length=2000)


class PlanTransferred(BaseModel):
    """The EHC plan has reached the new LA (TR-LA-TRANSFER)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"transferred_on": "2026-12-10"}]})

    actor: Actor
    transferred_on: dt.date


class NewLAContact(BaseModel):
    """The new LA told the family whether it will reassess and when it will review (TR-NEW-LA-CONTACT)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"contacted_on": "2027-01-12", "note": "Review in March; no reassessment"}]
        }
    )

    actor: Actor
    contacted_on: dt.date
    note: str = Field(default="", max_length=2000)


class StartSenSupport(BaseModel):
    """Start SEN support (the graduated approach) from the plan the previous school sent."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "needs": ["SPLD"],
                    "reason": "Support plan from the previous school",
                    "class_teacher_id": 3,
                    "year_group": 4,
                }
            ]
        }
    )

    actor: Actor
    needs: list[NeedType] = Field(min_length=1, max_length=2, title="Need types (rank 1 first)")
    reason: str = Field(min_length=1, max_length=4000, title="Why the pupil needs SEN support")
    class_teacher_id: int = Field(title="Class teacher")
    year_group: int = Field(ge=-3, le=14, title="Year group")

    @field_validator("needs")
    @classmethod
    def _census(cls, needs: list[NeedType]) -> list[NeedType]:
        validate_sen_record("K", [str(n) for n in needs])
        return needs
