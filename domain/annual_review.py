"""The EHCP annual review's payloads (workflow input, one model per SENDCo action) and its pure helpers.

Dates of the review itself come from domain.timelines (annual_review_timeline); this module only adds
the parent's dispute window (Regs 33), shown on the case, and the year group a later date falls in.
Pure: safe inside the Temporal workflow sandbox.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.dates import ENGLAND, academic_year, within_months
from domain.meeting_time import MeetingStart
from domain.schemas import Actor, CaseRef, Recipient
from domain.timelines import AnnualReviewFacts, Transfer

Recommendation = Literal["maintain", "amend", "cease"]

# Regs 20(2): the parent or young person, the headteacher, an LA SEN officer, health and social care.
MANDATORY_KINDS: tuple[str, ...] = ("parent", "headteacher", "la_sen", "health", "social_care")
NOT_ADVISERS = frozenset({"parent", "headteacher", "sendco", "la_sen"})
PREPARING_FOR_ADULTHOOD_FROM_YEAR = 9
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100  # a plausible window for the dates a case starts from
MAX_YEAR_GROUP = 14  # a plan may run to 25; the year group stops counting at Year 14
MEDIATION_MONTHS = 2  # Regs 33: contact a mediation adviser within 2 months of the decision letter
APPEAL_MONTHS = 2  # Tribunal rules (secondary): appeal within 2 months of the letter ...
APPEAL_AFTER_CERTIFICATE_MONTHS = 1  # ... or 1 month of a mediation certificate, whichever is later


class ReviewStep(StrEnum):
    """The steps of one annual review cycle, in the order the law runs them."""

    planning = "planning"
    meeting_set = "meeting-set"
    report = "report"
    report_approval = "report-approval"
    awaiting_la_decision = "awaiting-la-decision"
    amending = "amending"
    closed = "closed"


def mandatory_invitees() -> list[Recipient]:
    """The invitees every annual review meeting must have (Regs 20(2))."""
    return [Recipient(kind=kind) for kind in MANDATORY_KINDS]


class DisputeWindow(BaseModel):
    """The parent's dispute dates after a decision to maintain or cease (the school does not run it)."""

    letter: dt.date
    mediation_by: dt.date
    appeal_by: dt.date
    certificate: dt.date | None = None
    citation: str = "Regs 33 (mediation); Tribunal rules (appeal, secondary)"


class AnnualReviewInput(BaseModel):
    """One review cycle of a pupil's EHC plan: what the workflow starts (or continues as new) with."""

    case: CaseRef
    facts: AnnualReviewFacts
    started_by: Actor
    cycle: int = Field(default=1, ge=1)
    invitees: list[Recipient] = Field(default_factory=mandatory_invitees)
    optional_invitees: list[Recipient] = Field(default_factory=list)
    advisers: list[Recipient] = Field(
        default_factory=list, description="empty: every agency or staff invitee"
    )
    dispute: DisputeWindow | None = Field(default=None, description="the last decision's dispute window")
    flags: list[str] = Field(default_factory=list, description="the last cycle's flags, as c<cycle>:<flag>")

    @model_validator(mode="after")
    def _invitees_complete(self) -> AnnualReviewInput:
        kinds = {r.kind for r in self.invitees}
        missing = [k for k in MANDATORY_KINDS if k not in kinds]
        if missing:
            raise ValueError(f"mandatory invitees missing (Regs 20(2)): {', '.join(missing)}")
        everyone = self.everyone()
        if not self.advisers:
            self.advisers = [r for r in everyone if r.kind not in NOT_ADVISERS]
        strangers = [r.label for r in self.advisers if r not in everyone]
        if strangers:
            raise ValueError(f"advisers must be invited to the meeting: {', '.join(strangers)}")
        return self

    def everyone(self) -> list[Recipient]:
        """Every invitee, mandatory first, each once."""
        found: list[Recipient] = []
        for r in [*self.invitees, *self.optional_invitees]:
            if r not in found:
                found.append(r)
        return found


class AnnualReviewStart(BaseModel):
    """What the SENDCo gives to start a pupil's annual review case."""

    cycle_start: dt.date = Field(
        title="Plan issued or last review concluded",
        description="the plan's issue date, or the last review's conclusion date",
    )
    year_group: int = Field(
        ge=-3,
        le=14,
        title="Year group then",
        description="on that date: Reception 0, nursery below 0",
    )
    under5: bool = Field(default=False, title="Under 5 (reviews every few months)")
    under5_months: int = Field(default=6, ge=3, le=6, title="Months between reviews, if under 5")
    transfer: Transfer = Field(
        default="none",
        title="Transfer this cycle",
        description="phase: to the next school phase (15 Feb); post16: to post-16 education (31 Mar)",
    )
    transfer_year: int | None = Field(default=None, title="Year of the transfer (phase or post16)")
    transfer_date: dt.date | None = Field(default=None, title="Date of the transfer (post16 other)")
    advice_request_weeks: int = Field(
        default=6, ge=1, le=12, title="Weeks before the meeting to ask for advice"
    )
    planning_lead_weeks: int = Field(
        default=2, ge=0, le=12, title="Weeks to set the meeting date before asking for advice"
    )
    local_authority: str | None = Field(default=None, max_length=100)
    la_sen_agency_id: int | None = Field(
        default=None,
        title="LA SEN team (if not the pupil's LA's)",
        description="its agency id in the register",
    )
    optional_invitees: list[Recipient] = Field(
        default_factory=list,
        title="Also invite",
        description="the parent, headteacher, LA SEN officer, health and social care are always invited",
    )
    advisers: list[Recipient] = Field(
        default_factory=list,
        title="Ask for written advice from",
        description="each must be invited; none ticked: every professional invited",
    )

    @field_validator("cycle_start")
    @classmethod
    def _cycle_start_plausible(cls, day: dt.date) -> dt.date:
        if day > dt.datetime.now(ENGLAND).date():
            raise ValueError("the plan's issue date or the last review's conclusion cannot be in the future")
        if day.year < EARLIEST_YEAR:
            raise ValueError(f"enter a date from 1 Jan {EARLIEST_YEAR} onwards")
        return day

    @field_validator("transfer_year")
    @classmethod
    def _transfer_year_plausible(cls, year: int | None) -> int | None:
        if year is not None and not EARLIEST_YEAR <= year <= LATEST_YEAR:
            raise ValueError(f"enter a year from {EARLIEST_YEAR} to {LATEST_YEAR}")
        return year

    @field_validator("transfer_date")
    @classmethod
    def _transfer_date_plausible(cls, day: dt.date | None) -> dt.date | None:
        if day is not None and not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
            raise ValueError(f"enter a date from {EARLIEST_YEAR} to {LATEST_YEAR}")
        return day

    @model_validator(mode="after")
    def _facts_valid(self) -> AnnualReviewStart:
        self.facts()
        return self

    def facts(self) -> AnnualReviewFacts:
        """The timeline facts of the first cycle."""
        return AnnualReviewFacts(
            cycle_start=self.cycle_start,
            year_group=self.year_group,
            under5=self.under5,
            under5_months=self.under5_months,
            transfer=self.transfer,
            transfer_year=self.transfer_year,
            transfer_date=self.transfer_date,
            advice_request_weeks=self.advice_request_weeks,
            planning_lead_weeks=self.planning_lead_weeks,
        )

    def build_input(self, case: CaseRef, actor: Actor) -> AnnualReviewInput:
        """The first cycle's workflow input."""
        invitees = mandatory_invitees()
        if self.la_sen_agency_id is not None:
            invitees = [
                Recipient(kind="la_sen", agency_id=self.la_sen_agency_id) if r.kind == "la_sen" else r
                for r in invitees
            ]
        return AnnualReviewInput(
            case=case,
            facts=self.facts(),
            started_by=actor,
            invitees=invitees,
            optional_invitees=self.optional_invitees,
            advisers=self.advisers,
        )


# --- the SENDCo's actions (one Update each) ----------------------------------------------------------


class SetMeeting(BaseModel):
    """The review meeting; a date after the latest meeting date or with short notice needs a reason."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "meeting_at": "2027-01-20T10:00:00",
                    "minutes": 60,
                    "location": "Meeting room 2",
                    "breach_reason": "",
                }
            ]
        }
    )

    actor: Actor
    meeting_at: MeetingStart
    minutes: int = Field(default=60, ge=15, le=480, title="Length in minutes")
    location: str = Field(default="", max_length=200)
    breach_reason: str = Field(
        default="", max_length=1000, title="Reason, if the date is late or at short notice"
    )


class RescheduleMeeting(SetMeeting):
    """A new date for a meeting not yet held: every date is re-planned and invitations re-sent."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "meeting_at": "2027-01-27T10:00:00",
                    "minutes": 60,
                    "location": "Meeting room 2",
                    "reason": "The EP cannot come on the first date",
                }
            ]
        }
    )

    reason: str = Field(min_length=1, max_length=1000)


class AdviceReceived(BaseModel):
    """Written advice from one adviser."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "adviser": {"kind": "ep_service"},
                    "received_on": "2027-01-05",
                    "summary": "Advice on reading and attention: see the attached report",
                }
            ]
        }
    )

    actor: Actor
    adviser: Recipient
    received_on: dt.date
    summary: str = Field(min_length=1, max_length=4000)


class ParentViews(BaseModel):
    """The parents' (or young person's) views, gathered before the meeting."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"received_on": "2027-01-10", "views": "We would like more support at lunchtimes"}]
        }
    )

    actor: Actor
    received_on: dt.date
    views: str = Field(min_length=1, max_length=4000)


class MeetingRecord(BaseModel):
    """What happened at the meeting; from Year 9 preparing for adulthood is required."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "attended": [{"kind": "parent"}, {"kind": "headteacher"}, {"kind": "la_sen"}],
                    "pupil_views": "Likes maths, finds the playground hard",
                    "parent_views": "Pleased with progress in reading",
                    "outcomes_progress": "Two of three outcomes met",
                    "recommendation": "maintain",
                }
            ]
        }
    )

    actor: Actor
    attended: list[Recipient] = Field(min_length=1)
    pupil_views: str = Field(min_length=1, max_length=4000)
    parent_views: str = Field(min_length=1, max_length=4000)
    outcomes_progress: str = Field(min_length=1, max_length=8000, title="Progress towards the outcomes")
    recommendation: Recommendation
    proposed_changes: str = Field(default="", max_length=8000, title="Proposed changes (to amend)")
    preparing_for_adulthood: str = Field(
        default="", max_length=4000, title="Preparing for adulthood (from Year 9)"
    )

    @model_validator(mode="after")
    def _amend_has_changes(self) -> MeetingRecord:
        if self.recommendation == "amend" and not self.proposed_changes.strip():
            raise ValueError("a recommendation to amend needs the proposed changes")
        return self


class ReportDraft(BaseModel):
    """The review report, submitted for the headteacher's approval."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"report": "The review recommends that the plan is maintained.", "disagreements": ""}
            ]
        }
    )

    actor: Actor
    report: str = Field(min_length=1, max_length=20000)
    disagreements: str = Field(default="", max_length=4000)


class LADecision(BaseModel):
    """The LA's decision after the review; amendments may be served with it (AR-AMEND-PROPOSAL)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "decision": "amend",
                    "decided_on": "2027-03-01",
                    "amendment_notice_served": "2027-03-01",
                    "note": "",
                }
            ]
        }
    )

    actor: Actor
    decision: Recommendation
    decided_on: dt.date
    amendment_notice_served: dt.date | None = Field(
        default=None, title="Amendment notice served on (with a decision to amend)"
    )
    note: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _notice_only_when_amending(self) -> LADecision:
        if self.amendment_notice_served is not None:
            if self.decision != "amend":
                raise ValueError("an amendment notice goes only with a decision to amend")
            if self.amendment_notice_served < self.decided_on:
                raise ValueError("the amendment notice cannot be served before the decision")
        return self


class AmendmentNotice(BaseModel):
    """The LA's proposed amendments, served on the parent or young person."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"served_on": "2027-03-01", "note": "Section F changes"}]}
    )

    actor: Actor
    served_on: dt.date
    note: str = Field(default="", max_length=2000)


class ParentComments(BaseModel):
    """The parents' comments on the proposed amendments (AR-AMEND-COMMENTS)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"received_on": "2027-03-10", "summary": "Agree with the changes"}]}
    )

    actor: Actor
    received_on: dt.date
    summary: str = Field(default="", max_length=4000)


class FinalPlan(BaseModel):
    """The final amended plan the LA issued."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"issued_on": "2027-04-20", "note": ""}]})

    actor: Actor
    issued_on: dt.date
    note: str = Field(default="", max_length=2000)


# --- pure helpers ------------------------------------------------------------------------------------


def dispute_window(letter: dt.date, certificate: dt.date | None = None) -> DisputeWindow:
    """Mediation within 2 months of the letter; appeal within 2 months of it, or 1 of a certificate."""
    appeal_by = within_months(letter, APPEAL_MONTHS)
    if certificate is not None:
        appeal_by = max(appeal_by, within_months(certificate, APPEAL_AFTER_CERTIFICATE_MONTHS))
    return DisputeWindow(
        letter=letter,
        mediation_by=within_months(letter, MEDIATION_MONTHS),
        appeal_by=appeal_by,
        certificate=certificate,
    )


def year_group_on(facts: AnnualReviewFacts, day: dt.date) -> int:
    """The pupil's year group on a day, from the year group on cycle_start (school years start 1 August)."""
    return facts.year_group + academic_year(day) - academic_year(facts.cycle_start)


def needs_preparing_for_adulthood(facts: AnnualReviewFacts, day: dt.date) -> bool:
    """From Year 9 the review must consider preparing for adulthood."""
    return year_group_on(facts, day) >= PREPARING_FOR_ADULTHOOD_FROM_YEAR


def next_cycle_facts(facts: AnnualReviewFacts, concluded_on: dt.date) -> AnnualReviewFacts:
    """The next cycle's facts: counted from the LA's decision, same settings, the transfer behind it."""
    year_group = min(year_group_on(facts, concluded_on), MAX_YEAR_GROUP)
    return AnnualReviewFacts(
        cycle_start=concluded_on,
        year_group=year_group,
        under5=facts.under5 and year_group < 1,
        under5_months=facts.under5_months,
        advice_request_weeks=facts.advice_request_weeks,
        planning_lead_weeks=facts.planning_lead_weeks,
    )


class AttendanceReply(BaseModel):
    """An invitee's answer to the meeting invitation: coming or not (by the emailed link, or recorded)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"invitee": {"kind": "parent"}, "attending": True, "note": ""}]}
    )

    actor: Actor
    invitee: Recipient
    attending: bool = Field(title="Coming to the meeting")
    note: str = Field(default="", max_length=1000)
