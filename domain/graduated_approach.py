"""The graduated approach (SEN support): its steps, start, workflow input and one payload per action.

One case per pupil on SEN support runs assess, plan, do, review cycles, one cycle per workflow run.
What the next cycle needs is carried in `GraduatedApproachInput`: the cycles in a row without expected
progress (GA-SPECIALIST), the terms whose parent meeting is settled (GA-PARENT-MEETINGS), the parent
meetings held and the next annual report's due date (GA-ANNUAL-REPORT).

"Without expected progress" (GA-SPECIALIST): at a review, more than half of the plan's outcomes made
less than expected progress. Only cycles in a row count: a review with expected progress resets the count.
Pure: safe inside the Temporal workflow sandbox.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.census import NeedType, validate_sen_record
from domain.meeting_time import MeetingStart
from domain.provision import PlannedIntervention
from domain.schemas import Actor, CaseRef

Source = Literal["class_teacher", "sendco", "parents", "pupil"]
Progress = Literal["more", "as", "less"]
Decision = Literal["another_cycle", "specialist", "needs_assessment", "end_support"]
Specialist = Literal["ep", "specialist_teacher", "therapist", "other"]

SOURCES: tuple[Source, ...] = ("class_teacher", "sendco", "parents", "pupil")
SOURCE_WORDS: dict[str, str] = {
    "class_teacher": "The class teacher's assessment",
    "sendco": "The SENDCo's assessment",
    "parents": "The parents' views",
    "pupil": "The pupil's views",
}
PROGRESS_WORDS: dict[str, str] = {
    "more": "more than expected",
    "as": "as expected",
    "less": "less than expected",
}
DECISION_WORDS: dict[str, str] = {
    "another_cycle": "another cycle of SEN support",
    "specialist": "involve a specialist",
    "needs_assessment": "request an EHC needs assessment",
    "end_support": "end SEN support",
}
SPECIALIST_WORDS: dict[str, str] = {
    "ep": "an educational psychologist",
    "specialist_teacher": "a specialist teacher",
    "therapist": "a therapist",
    "other": "another specialist",
}


class GAStep(StrEnum):
    assess = "assess"
    plan = "plan"
    do = "do"
    review = "review"
    closed = "closed"


def without_expected_progress(progress: list[Progress]) -> bool:
    """GA-SPECIALIST for one review: more than half of the outcomes made less than expected progress."""
    return bool(progress) and 2 * sum(p == "less" for p in progress) > len(progress)


class GraduatedApproachStart(BaseModel):
    """What the SENDCo gives to place a pupil on SEN support."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "needs": ["SLCN", "SEMH"],
                    "reason": "Speech and language difficulties affect reading and friendships",
                    "class_teacher_id": 3,
                    "year_group": 4,
                }
            ]
        }
    )

    needs: list[NeedType] = Field(
        min_length=1, max_length=2, title="Need types (rank 1 first)", description="census codes"
    )
    reason: str = Field(min_length=1, max_length=4000, title="Why the pupil needs SEN support")
    class_teacher_id: int = Field(title="Class teacher", description="the staff member who teaches the pupil")
    year_group: int = Field(ge=-3, le=14, title="Year group", description="Reception 0")
    assess_school_days: int = Field(
        default=10,
        ge=1,
        le=40,
        title="School days to gather each assessment and the views",
        description="part of each cycle before its agreed review date (GA-REVIEW)",
    )
    specialist_after_cycles: int = Field(
        default=2,
        ge=1,
        le=6,
        title="Cycles without expected progress before a specialist is suggested (GA-SPECIALIST)",
    )

    @field_validator("needs")
    @classmethod
    def _census(cls, needs: list[NeedType]) -> list[NeedType]:
        validate_sen_record("K", [str(n) for n in needs])
        return needs


class GraduatedApproachInput(BaseModel):
    """One cycle's input; the first from the start, each next one carrying what it needs."""

    case: CaseRef
    started_by: Actor
    needs: list[NeedType] = Field(min_length=1, max_length=2)
    reason: str = ""
    class_teacher_id: int
    year_group: int = Field(ge=-3, le=14)
    assess_school_days: int = Field(default=10, ge=1, le=40)
    specialist_after_cycles: int = Field(default=2, ge=1, le=6)
    cycle: int = Field(default=1, ge=1)
    cycle_start: dt.date | None = Field(default=None, description="empty: the day the run starts")
    started_on: dt.date | None = Field(default=None, description="the day SEN support began")
    without_progress: int = Field(default=0, ge=0, description="cycles in a row without expected progress")
    parent_meetings: list[dt.date] = Field(default_factory=list)
    terms_settled: list[str] = Field(default_factory=list, description="terms met or escalated")
    annual_report_due: dt.date | None = None
    annual_reports: int = Field(default=0, ge=0)
    referrals: list[str] = Field(default_factory=list, description="specialists referred to, in words")
    recommendations: list[str] = Field(default_factory=list, description="specialists' recommendations")
    flags: list[str] = Field(default_factory=list)


def build_input(case: CaseRef, start: GraduatedApproachStart, actor: Actor) -> GraduatedApproachInput:
    return GraduatedApproachInput(
        case=case,
        started_by=actor,
        needs=start.needs,
        reason=start.reason,
        class_teacher_id=start.class_teacher_id,
        year_group=start.year_group,
        assess_school_days=start.assess_school_days,
        specialist_after_cycles=start.specialist_after_cycles,
    )


class Assessment(BaseModel):
    """One of the four the cycle gathers: class teacher's, SENDCo's, the parents' or the pupil's views."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "source": "class_teacher",
                    "received_on": "2026-10-05",
                    "summary": "Reading age two years behind; avoids group work",
                }
            ]
        }
    )

    actor: Actor
    source: Source = Field(title="Whose assessment or views")
    received_on: dt.date
    summary: str = Field(min_length=1, max_length=4000)


class SupportPlan(BaseModel):
    """The plan: outcomes, the provision from the provision map, and the agreed review date (GA-REVIEW)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "outcomes": ["Reads a Year 3 book aloud with support", "Joins a group task each day"],
                    "interventions": [{"intervention_id": 1, "sessions_per_week": 2, "weeks": 10}],
                    "review_on": None,
                }
            ]
        }
    )

    actor: Actor
    outcomes: list[str] = Field(min_length=1, max_length=10, title="Outcomes this cycle aims for")
    interventions: list[PlannedIntervention] = Field(default_factory=list, max_length=20)
    review_on: dt.date | None = Field(
        default=None, title="Agreed review date", description="empty: the end of the current term"
    )

    @field_validator("outcomes")
    @classmethod
    def _worded(cls, outcomes: list[str]) -> list[str]:
        cleaned = [o.strip() for o in outcomes]
        if any(not o or len(o) > 500 for o in cleaned):
            raise ValueError("write each outcome in a few words (up to 500 characters)")
        return cleaned


class PlanSeen(BaseModel):
    """The parents confirmed they have seen the plan."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"seen_on": "2026-10-20"}]})

    actor: Actor
    seen_on: dt.date


class SessionLog(BaseModel):
    """A note or an intervention session, logged against the plan (the class teacher may log it)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"on": "2026-11-02", "intervention_id": 1, "minutes": 30, "note": "Read 2 pages unaided"}
            ]
        }
    )

    actor: Actor
    on: dt.date
    intervention_id: int | None = Field(default=None, description="empty: a note, not a session")
    minutes: int | None = Field(default=None, ge=1, le=480)
    note: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _something(self) -> SessionLog:
        if self.intervention_id is None and not self.note.strip():
            raise ValueError("write a note, or choose the intervention the session was for")
        return self


class ReviewMeeting(BaseModel):
    """The review meeting with the parents: they get an invitation with a calendar file."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"meeting_at": "2026-12-10T15:30:00", "minutes": 45, "location": "SENDCo's room"}]
        }
    )

    actor: Actor
    meeting_at: MeetingStart
    minutes: int = Field(default=45, ge=15, le=240, title="Length in minutes")
    location: str = Field(default="", max_length=200)


class ReviewOutcome(BaseModel):
    """The review: progress against each outcome, in the plan's order, and the decision."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "progress": ["as", "less"],
                    "decision": "another_cycle",
                    "specialist": None,
                    "note": "Reading improving; group work still hard",
                }
            ]
        }
    )

    actor: Actor
    progress: list[Progress] = Field(min_length=1, max_length=10, title="Progress on each outcome")
    decision: Decision
    specialist: Specialist | None = Field(default=None, title="Which specialist, if one is involved")
    note: str = Field(default="", max_length=4000)

    @model_validator(mode="after")
    def _specialist(self) -> ReviewOutcome:
        if self.decision == "specialist" and self.specialist is None:
            raise ValueError("choose which specialist to involve")
        return self


class ParentMeeting(BaseModel):
    """A meeting with the parents other than the review meeting (GA-PARENT-MEETINGS)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"met_on": "2026-11-12", "note": "Phone call"}]}
    )

    actor: Actor
    met_on: dt.date
    note: str = Field(default="", max_length=2000)


class AnnualReport(BaseModel):
    """The yearly report on progress sent to the parents (GA-ANNUAL-REPORT)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"sent_on": "2027-07-10"}]})

    actor: Actor
    sent_on: dt.date


NEED_WORDS: dict[str, str] = {
    "SPLD": "a specific learning difficulty",
    "MLD": "a moderate learning difficulty",
    "SLD": "a severe learning difficulty",
    "PMLD": "a profound and multiple learning difficulty",
    "SEMH": "social, emotional and mental health needs",
    "SLCN": "speech, language and communication needs",
    "ASD": "autism",
    "HI": "a hearing impairment",
    "VI": "a visual impairment",
    "MSI": "a multi-sensory impairment",
    "PD": "a physical disability",
    "OTH": "another difficulty or disability",
    "NSA": "SEN support without a specialist assessment of the type of need",
}
