"""The school's request for an EHC needs assessment: its steps, start, workflow input and action payloads.

The LA runs the assessment; the school tracks the LA's clocks from the day the LA received the request
(domain.timelines.needs_assessment_timeline) and gives its own advice and consultation reply on time.
Pure: safe inside the Temporal workflow sandbox.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.census import NeedType
from domain.dates import ENGLAND, academic_year, within_months
from domain.schemas import Actor, CaseRef

EARLIEST_YEAR = 2000
MAX_YEAR_GROUP = 14
MEDIATION_MONTHS = 2  # Regs 33: contact a mediation adviser within 2 months of the decision letter
APPEAL_MONTHS = 2  # Tribunal rules: appeal within 2 months of the letter (or 1 month of a certificate)

Decision = Literal["assess", "not_assess"]
Regulation = Literal["5(4)", "10(4)", "13(3)"]

# Which of the LA's clocks each exception lets run past its date, and the words for it.
EXCEPTION_STEPS: dict[str, tuple[str, ...]] = {
    "5(4)": ("la-decision",),
    "10(4)": ("no-plan-notice",),
    "13(3)": ("final-plan",),
}
EXCEPTION_WORDS: dict[str, str] = {
    "5(4)": "the decision whether to assess",
    "10(4)": "the notice that no plan will be issued",
    "13(3)": "the final plan",
}


class NeedsStep(StrEnum):
    """The steps of the school's request, as the school sees them."""

    awaiting_receipt = "awaiting-receipt"  # sent; the day the LA received it not yet known
    awaiting_decision = "awaiting-decision"  # EHCNA-DECIDE
    assessing = "assessing"  # advice, then a draft plan or a notice that no plan will be issued
    draft_plan = "draft-plan"  # the draft is with the parents; the final plan is due
    closed = "closed"


def _not_future(day: dt.date | None, what: str) -> dt.date | None:
    if day is None:
        return day
    if day > dt.datetime.now(ENGLAND).date():
        raise ValueError(f"{what} cannot be in the future")
    if day.year < EARLIEST_YEAR:
        raise ValueError(f"enter a date from 1 Jan {EARLIEST_YEAR} onwards")
    return day


class NeedsAssessmentStart(BaseModel):
    """What the SENDCo gives to open the case: the request, its evidence and, if known, its receipt."""

    year_group: int = Field(ge=-3, le=MAX_YEAR_GROUP, title="Year group", description="Reception 0")
    evidence: str = Field(
        min_length=1,
        max_length=8000,
        title="The evidence sent with the request",
        description="support plans, reviews, specialist reports and what they show",
    )
    needs: list[NeedType] = Field(
        default_factory=list, max_length=2, title="Need types (rank 1 first)", description="census codes"
    )
    la_received: dt.date | None = Field(
        default=None, title="The day the LA received the request", description="leave empty if not known"
    )
    local_authority: str | None = Field(default=None, max_length=100)

    @field_validator("la_received")
    @classmethod
    def _received_plausible(cls, day: dt.date | None) -> dt.date | None:
        return _not_future(day, "the day the LA received the request")


class NeedsAssessmentInput(BaseModel):
    """What the workflow starts with; buildable from a CaseRef, an Actor and a few facts."""

    case: CaseRef
    started_by: Actor
    year_group: int = Field(ge=-3, le=MAX_YEAR_GROUP, description="when the request was made")
    evidence: str = Field(min_length=1, max_length=8000)
    needs: list[NeedType] = Field(default_factory=list, max_length=2)
    la_received: dt.date | None = None
    requested_on: dt.date | None = Field(default=None, description="the day the school made the request")
    local_authority: str | None = None
    from_case_id: str | None = Field(default=None, description="the graduated-approach case it came from")


def build_input(case: CaseRef, start: NeedsAssessmentStart, actor: Actor) -> NeedsAssessmentInput:
    """The workflow input for a request the SENDCo starts directly."""
    return NeedsAssessmentInput(
        case=case,
        started_by=actor,
        year_group=start.year_group,
        evidence=start.evidence,
        needs=start.needs,
        la_received=start.la_received,
        local_authority=start.local_authority,
    )


class AppealRight(BaseModel):
    """The parents' right to appeal a decision not to assess or not to issue a plan (shown on the case)."""

    decision: Literal["not_assess", "no_plan"]
    letter: dt.date
    mediation_by: dt.date
    appeal_by: dt.date
    citation: str = "CFA s.51; Regs 33 (mediation); Tribunal rules (appeal)"


def appeal_right(decision: Literal["not_assess", "no_plan"], letter: dt.date) -> AppealRight:
    """Mediation advice within 2 months of the LA's letter; appeal within 2 months of it."""
    return AppealRight(
        decision=decision,
        letter=letter,
        mediation_by=within_months(letter, MEDIATION_MONTHS),
        appeal_by=within_months(letter, APPEAL_MONTHS),
    )


def year_group_on(year_group: int, then: dt.date, day: dt.date) -> int:
    """The pupil's year group on a day, from the year group on an earlier day (years start 1 August)."""
    return min(year_group + academic_year(day) - academic_year(then), MAX_YEAR_GROUP)


# --- the SENDCo's actions (one Update each) ----------------------------------------------------------


class _Dated(BaseModel):
    actor: Actor
    note: str = Field(default="", max_length=2000)


class LAReceived(_Dated):
    """The day the LA received the school's request: its clocks start here."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"received_on": "2026-11-02", "note": ""}]})

    received_on: dt.date = Field(title="The LA received the request on")


class AssessDecision(_Dated):
    """The LA's decision whether to carry out the assessment (EHCNA-DECIDE)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"decision": "assess", "decided_on": "2026-12-10", "note": ""}]}
    )

    decision: Decision = Field(title="The LA decided to", description="assess, or not to assess")
    decided_on: dt.date = Field(title="Date of the LA's letter")


class AdviceRequested(_Dated):
    """The LA asked the school for its advice (EHCNA-ADVICE: due 6 weeks later)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"requested_on": "2026-12-14", "note": ""}]})

    requested_on: dt.date = Field(title="The LA asked for the school's advice on")


class AdviceSent(_Dated):
    """The school sent its advice to the LA."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"sent_on": "2027-01-08", "summary": "Attainment, attendance and support given"}]
        }
    )

    sent_on: dt.date = Field(title="Advice sent on")
    summary: str = Field(min_length=1, max_length=8000, title="What the advice says")


class SchoolConsulted(_Dated):
    """The LA consulted the school about being named in the plan (SCHOOL-CONSULT: reply in 15 days)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"consulted_on": "2027-02-15", "note": ""}]})

    consulted_on: dt.date = Field(title="The LA consulted the school on")


class ConsultationReply(_Dated):
    """The school's reply to the LA's consultation."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"replied_on": "2027-02-22", "summary": "The school can meet the pupil's needs"}]
        }
    )

    replied_on: dt.date = Field(title="Reply sent on")
    summary: str = Field(min_length=1, max_length=4000, title="What the school replied")


class DraftServed(_Dated):
    """The LA served the draft plan on the parents (EHCNA-DRAFT-COMMENTS: 15 days to comment)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"served_on": "2027-02-10", "note": ""}]})

    served_on: dt.date = Field(title="Draft plan served on")


class DraftComments(_Dated):
    """The parents' comments on the draft plan (EHCNA-DRAFT-COMMENTS), as the school heard of them."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"received_on": "2027-02-20", "note": "Asked for more speech therapy"}]
        }
    )

    received_on: dt.date = Field(title="The parents commented on")


class NoPlan(_Dated):
    """The LA's notice that it will not issue a plan (EHCNA-NO-PLAN)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"decided_on": "2027-02-20", "note": ""}]})

    decided_on: dt.date = Field(title="Date of the LA's notice")


class FinalPlanIssued(_Dated):
    """The LA issued the final EHC plan (EHCNA-FINAL): the pupil's provision becomes E."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"issued_on": "2027-03-15", "needs": ["SEMH", "SLCN"], "note": ""}]}
    )

    issued_on: dt.date = Field(title="Final plan issued on")
    needs: list[NeedType] = Field(
        min_length=1, max_length=2, title="Need types in the plan (rank 1 first)", description="census codes"
    )


class RecordException(BaseModel):
    """An exception to one of the LA's time limits: an audited reason and the new date (never silent)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "regulation": "5(4)",
                    "reason": "The school was closed for the summer holiday during the decision period",
                    "new_due": "2027-01-05",
                }
            ]
        }
    )

    actor: Actor
    regulation: Regulation = Field(
        title="Exception",
        description="5(4): the decision whether to assess; 10(4): the notice of no plan; 13(3): the plan",
    )
    reason: str = Field(min_length=1, max_length=2000)
    new_due: dt.date = Field(title="New date")

    @model_validator(mode="after")
    def _reason_has_words(self) -> RecordException:
        if not self.reason.strip():
            raise ValueError("give the reason for the exception")
        return self
