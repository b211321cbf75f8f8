"""A pupil leaving the school: its steps, what the SENDCo gives to start it and one payload per action.

The day the pupil left the roll starts the clocks: the LA's deletion return (TR-DELETION-RETURN), the
common transfer file and record to the new school (TR-CTF), the SEN file with them, separately and
securely, to the receiving SENDCo, who acknowledges it (TR-SEN-FILE), and a dual registration's CTF
(TR-DUALREG). An unknown destination is a child missing education. Pure: sandbox-safe.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.schemas import Actor, CaseRef
from domain.timelines import LeavingFacts
from domain.transitions import SchoolAgencyId, plausible

Destination = Literal["school", "home_education", "abroad", "unknown"]
Sent = Literal["ctf", "sen_file", "dual_registration"]
DESTINATION_WORDS: dict[str, str] = {
    "school": "another school",
    "home_education": "education at home",
    "abroad": "a move abroad",
    "unknown": "an unknown destination",
}
SENT_WORDS: dict[str, str] = {
    "ctf": "The common transfer file and the educational record",
    "sen_file": "The SEN file",
    "dual_registration": "The common transfer file for the dual registration",
}
CME_FLAG = "children-missing-education"


class LeavingStep(StrEnum):
    leaving = "leaving"
    missing = "missing"  # the destination is not known: children missing education
    closed = "closed"


class LeavingPlan(BaseModel):
    """What a leaving case runs on (consistent; `LeavingStart` also checks its dates against today)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "leaving_date": "2026-11-27",
                    "destination": "school",
                    "receiving_school_id": 8,
                    "has_sen_file": True,
                    "reason": "Moved house",
                }
            ]
        }
    )

    leaving_date: dt.date = Field(title="Left the roll on")
    destination: Destination = Field(title="Where the pupil is going")
    receiving_school_id: SchoolAgencyId = Field(
        default=None, title="Receiving school", description="its agency id in the register"
    )
    has_sen_file: bool = Field(default=False, title="There is an SEN file to send")
    acknowledge_school_days: int = Field(
        default=5, ge=1, le=20, title="School days for the receiving SENDCo to acknowledge the SEN file"
    )
    dual_registration_learned_on: dt.date | None = Field(
        default=None, title="Dual registration: the headteacher learned of it on"
    )
    reason: str = Field(default="", max_length=500, title="Why the pupil is leaving")

    @model_validator(mode="after")
    def _school(self) -> LeavingPlan:
        if self.destination == "school" and self.receiving_school_id is None:
            raise ValueError("choose the receiving school")
        if self.destination != "school" and self.receiving_school_id is not None:
            raise ValueError("a receiving school applies only when the pupil goes to another school")
        if self.dual_registration_learned_on is not None and self.receiving_school_id is None:
            raise ValueError("a dual registration needs the other school")
        return self

    def facts(self, sen_file_sent_on: dt.date | None = None) -> LeavingFacts:
        return LeavingFacts(
            leaving_date=self.leaving_date,
            to_school=self.destination == "school",
            has_sen_file=self.has_sen_file,
            sen_file_sent_on=sen_file_sent_on,
            acknowledge_school_days=self.acknowledge_school_days,
            dual_registration_learned_on=self.dual_registration_learned_on,
        )


class LeavingStart(LeavingPlan):
    """What the SENDCo gives when a pupil leaves the roll."""

    @field_validator("leaving_date")
    @classmethod
    def _left(cls, day: dt.date) -> dt.date:
        return plausible(day, "the leaving date")

    @field_validator("dual_registration_learned_on")
    @classmethod
    def _learned(cls, day: dt.date | None) -> dt.date | None:
        return None if day is None else plausible(day, "that date")


class LeavingInput(BaseModel):
    case: CaseRef
    started_by: Actor
    start: LeavingPlan


class TransferSent(BaseModel):
    """The CTF and record, or the SEN file, went to the receiving school."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"item": "sen_file", "sent_on": "2026-12-03", "method": "Secure file transfer (S2S)"}
            ]
        }
    )

    actor: Actor
    item: Sent = Field(title="What was sent")
    sent_on: dt.date
    method: str = Field(default="", max_length=200, title="How it was sent securely")

    @model_validator(mode="after")
    def _secure(self) -> TransferSent:
        if self.item == "sen_file" and not self.method.strip():
            raise ValueError("say how the SEN file was sent securely (for example, secure file transfer)")
        return self


class SenFileAcknowledged(BaseModel):
    """The receiving SENDCo confirmed the SEN file arrived."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"acknowledged_on": "2026-12-07", "note": "Email from their SENDCo"}]}
    )

    actor: Actor
    acknowledged_on: dt.date
    note: str = Field(default="", max_length=2000)


class DestinationFound(BaseModel):
    """The destination of a child missing education is now known."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"destination": "school", "receiving_school_id": 8, "found_on": "2026-12-09"}]
        }
    )

    actor: Actor
    destination: Literal["school", "home_education", "abroad"]
    receiving_school_id: int | None = None
    found_on: dt.date

    @model_validator(mode="after")
    def _school(self) -> DestinationFound:
        if (self.destination == "school") != (self.receiving_school_id is not None):
            raise ValueError("choose the receiving school when, and only when, the pupil went to a school")
        return self
