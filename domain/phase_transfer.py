"""A pupil with SEN moving to the next phase of education (to the next school in September): its steps,
what the SENDCo gives to start it and one payload per action. Pure: safe inside the workflow sandbox.

An EHC plan follows the annual review's phase-transfer dates (PT-15FEB or PT-31MAR, PT-LATEST-MEETING);
a pupil on SEN support has a transition meeting with the receiving school in the summer term before.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.meeting_time import MeetingStart
from domain.schemas import Actor, CaseRef
from domain.timelines import PhaseTransferFacts
from domain.transitions import SchoolAgencyId

Plan = Literal["ehc_plan", "sen_support"]


class PhaseTransferStep(StrEnum):
    planning = "planning"
    meeting_set = "meeting-set"
    closed = "closed"


class PhaseTransferStart(BaseModel):
    """What the SENDCo gives to plan a pupil's move to the next phase."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"plan": "sen_support", "transfer_year": 2027, "receiving_school_id": 8}]
        }
    )

    plan: Plan = Field(title="EHC plan or SEN support")
    transfer: Literal["phase", "post16"] = Field(
        default="phase", title="Transfer", description="phase: to the next school; post16: to post-16"
    )
    transfer_year: int = Field(ge=2000, le=2100, title="Year of the move (September)")
    receiving_school_id: SchoolAgencyId = Field(
        default=None, title="Receiving school", description="its agency id in the register"
    )

    def facts(self) -> PhaseTransferFacts:
        return PhaseTransferFacts(plan=self.plan, transfer=self.transfer, transfer_year=self.transfer_year)


class PhaseTransferInput(BaseModel):
    case: CaseRef
    started_by: Actor
    start: PhaseTransferStart


class TransitionMeeting(BaseModel):
    """The transition meeting with the receiving school and the parents (SEN support, summer term)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"meeting_at": "2027-06-15T15:30:00", "minutes": 45, "location": "SENDCo's room"}]
        }
    )

    actor: Actor
    meeting_at: MeetingStart
    minutes: int = Field(default=45, ge=15, le=240, title="Length in minutes")
    location: str = Field(default="", max_length=200)


class MeetingHeld(BaseModel):
    """A meeting was held: the transition meeting, or the phase-transfer review meeting."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"held_on": "2027-06-15", "note": ""}]})

    actor: Actor
    held_on: dt.date
    note: str = Field(default="", max_length=2000)


class AmendedPlanIssued(BaseModel):
    """The LA issued the amended plan naming the next setting."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"issued_on": "2027-02-10", "setting": "Oakfield Secondary"}]}
    )

    actor: Actor
    issued_on: dt.date
    setting: str = Field(min_length=1, max_length=200, title="The setting the plan names")
