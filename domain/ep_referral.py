"""A referral to the EP (or LIFT, a community paediatrician, speech and language therapy).

Local practice, no statutory clock outside an EHC needs assessment (statutory.md, "EP referral"):
EP-CONSENT (chase after 5 school days, escalate after 10), EP-ALLOCATION (the school year's agreement with
the EP service that referrals draw on), EP-VISIT (within 6 school weeks of acceptance), EP-REPORT (6 weeks
after the visit). In Kent a referral may go to a LIFT meeting instead: papers due a configured time before
the meeting, with the signed parental agreement.

What differs between services is data, not code: each service's settings (`ServiceSettings`) say which
route it takes (a visit and a report, or a LIFT meeting), who receives the referral, whether it draws on
the EP allocation, and its offsets. `SERVICES` holds the defaults; a referral may override any offset.
Pure: safe inside the Temporal workflow sandbox.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.rules import rule
from domain.schemas import Actor, CaseRef

Service = Literal["ep", "lift", "paediatrician", "salt"]
Route = Literal["visit", "lift"]
AllocationUnit = Literal["hours", "sessions"]
LiftOutcome = Literal["advice", "outreach", "specialist_teacher", "ep"]
ConsentFrom = Literal["parent", "young_person"]

LIFT_OUTCOME_WORDS: dict[str, str] = {
    "advice": "advice to the school",
    "outreach": "outreach support",
    "specialist_teacher": "a specialist teacher",
    "ep": "an educational psychologist",
}
YOUNG_PERSON_YEAR = 12  # Year 12 and above: 16 or over, so the young person consents


def _offset(rule_id: str) -> int:
    offset = rule(rule_id).offset
    assert offset is not None, rule_id
    return offset


class ServiceSettings(BaseModel):
    """One service's configuration: its route, who gets the referral, and its offsets."""

    model_config = ConfigDict(frozen=True)

    service: Service
    title: str = Field(description="the service in words: 'the EP service'")
    specialist: str = Field(description="who the child sees, in words: 'an educational psychologist'")
    agency: str = Field(description="the register's agency kind that receives the referral")
    route: Route = "visit"
    draws_on_allocation: bool = False
    default_estimate: float = Field(default=0, ge=0, le=500, description="hours or sessions a referral needs")
    consent_chase_school_days: int = Field(default=_offset("EP-CONSENT"), ge=1, le=40)
    consent_escalate_school_days: int = Field(default=rule("EP-CONSENT").escalate_after or 10, ge=1, le=60)
    visit_school_days: int = Field(default=_offset("EP-VISIT"), ge=1, le=190)
    report_weeks: int = Field(default=_offset("EP-REPORT"), ge=1, le=52)
    papers_days_before: int = Field(default=7, ge=1, le=60, description="LIFT: papers due before the meeting")

    @model_validator(mode="after")
    def _escalate_after_chase(self) -> ServiceSettings:
        if self.consent_escalate_school_days <= self.consent_chase_school_days:
            raise ValueError("escalate a missing consent after it has been chased")
        return self


# The defaults (local practice: every one is configuration, and a referral may override its offsets).
SERVICES: dict[str, ServiceSettings] = {
    s.service: s
    for s in (
        ServiceSettings(
            service="ep",
            title="the EP service",
            specialist="an educational psychologist",
            agency="ep_service",
            draws_on_allocation=True,
            default_estimate=6,
        ),
        ServiceSettings(
            service="lift",
            title="LIFT (the Local Inclusion Forum Team)",
            specialist="the LIFT meeting",
            agency="la_sen",
            route="lift",
        ),
        ServiceSettings(
            service="paediatrician",
            title="the community paediatrician",
            specialist="a community paediatrician",
            agency="health",
            visit_school_days=90,
            report_weeks=4,
        ),
        ServiceSettings(
            service="salt",
            title="speech and language therapy",
            specialist="a speech and language therapist",
            agency="health",
            visit_school_days=45,
            report_weeks=4,
        ),
    )
}


class EPStep(StrEnum):
    approval = "awaiting-approval"  # the referral would overrun the EP allocation
    consent = "consent"  # EP-CONSENT
    with_service = "with-service"  # submitted: the service accepts or declines
    visit = "visit"  # EP-VISIT
    report = "report"  # EP-REPORT
    lift_meeting = "lift-meeting"  # papers before the meeting, then its outcome
    follow_up = "follow-up"  # the LIFT outcome's actions
    closed = "closed"


class Evidence(BaseModel):
    """What the referral rests on: the reviewed plans, the provision, the parents' and pupil's views."""

    support_plans: str = Field(default="", max_length=4000, title="The reviewed support plans and progress")
    provision: str = Field(default="", max_length=4000, title="The provision the pupil has had")
    parents_views: str = Field(default="", max_length=4000, title="The parents' views")
    pupil_views: str = Field(default="", max_length=4000, title="The pupil's views")

    @model_validator(mode="after")
    def _something(self) -> Evidence:
        if not any(v.strip() for v in self.model_dump().values()):
            raise ValueError("give the evidence: the support plans, the provision, or the views")
        return self


class EPReferralStart(BaseModel):
    """What the SENDCo gives to make a referral."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "service": "ep",
                    "question": "Why does reading not improve despite two cycles of phonics support?",
                    "evidence": {
                        "support_plans": "Two reviewed plans; reading outcomes less than expected",
                        "provision": "Phonics group 3 times a week for 20 weeks",
                        "parents_views": "Worried about confidence at home",
                        "pupil_views": "Reading is hard and makes me tired",
                    },
                    "year_group": 4,
                    "estimate": 6,
                }
            ]
        }
    )

    service: Service = Field(default="ep", title="Which service")
    question: str = Field(min_length=1, max_length=2000, title="The question for the specialist")
    evidence: Evidence
    year_group: int = Field(ge=-3, le=14, title="Year group", description="Reception 0")
    consent_from: ConsentFrom = Field(
        default="parent", title="Who consents", description="the young person at 16 or over (Year 12 on)"
    )
    estimate: float | None = Field(
        default=None,
        gt=0,
        le=500,
        title="Hours or sessions it needs",
        description="empty: the service's usual",
    )
    report_weeks: int | None = Field(default=None, ge=1, le=52, title="Weeks for the report after the visit")
    papers_days_before: int | None = Field(default=None, ge=1, le=60, title="LIFT: days before the meeting")

    @model_validator(mode="after")
    def _who_consents(self) -> EPReferralStart:
        if self.consent_from == "young_person" and self.year_group < YOUNG_PERSON_YEAR:
            raise ValueError("the young person consents at 16 or over (Year 12 on); otherwise the parents do")
        return self


class EPReferralInput(BaseModel):
    case: CaseRef
    started_by: Actor
    settings: ServiceSettings
    question: str
    evidence: Evidence
    year_group: int = Field(ge=-3, le=14)
    consent_from: ConsentFrom = "parent"
    estimate: float = Field(default=0, ge=0)
    support_case: str | None = Field(
        default=None, description="the workflow id of the pupil's SEN support case"
    )


def settings_for(service: str, **overrides: int | None) -> ServiceSettings:
    """The service's settings with any offsets the referral gives."""
    given = {k: v for k, v in overrides.items() if v is not None}
    return SERVICES[service].model_copy(update=given) if given else SERVICES[service]


def build_input(case: CaseRef, start: EPReferralStart, actor: Actor) -> EPReferralInput:
    settings = settings_for(
        start.service, report_weeks=start.report_weeks, papers_days_before=start.papers_days_before
    )
    return EPReferralInput(
        case=case,
        started_by=actor,
        settings=settings,
        question=start.question,
        evidence=start.evidence,
        year_group=start.year_group,
        consent_from=start.consent_from,
        estimate=start.estimate if start.estimate is not None else settings.default_estimate,
    )


# --- the EP allocation, as the activities and the workflow pass it ------------------------------------
class AllocationRequest(BaseModel):
    """A referral's draw on its school's EP allocation for the school year it starts in."""

    case_id: str
    school_id: int
    amount: float = Field(ge=0)
    allow_overrun: bool = False


class AllocationFigures(BaseModel):
    """A school year's EP allocation: agreed, reserved by open referrals, used by visits held, and left."""

    school_year: int = Field(description="the year the school year starts: 2026 for 2026/27")
    label: str = Field(description="2026/27")
    unit: AllocationUnit = "hours"
    allocated: float = 0
    reserved: float = 0
    used: float = 0
    remaining: float = 0


class AllocationAnswer(BaseModel):
    reserved: bool = Field(description="False: it would overrun, and was not reserved")
    figures: AllocationFigures


class AllocationBooking(BaseModel):
    """What a visit used (replacing the reservation), or the reservation released (used None)."""

    case_id: str
    used: float | None = None


# --- the actions ------------------------------------------------------------------------------------
class ConsentAnswer(BaseModel):
    """The parents' (or the young person's) answer to the request for consent."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"given": True, "answered_on": "2026-12-01"}]})

    actor: Actor
    given: bool = Field(title="Consent given")
    answered_on: dt.date
    note: str = Field(default="", max_length=2000)


class ServiceAnswer(BaseModel):
    """The service accepts the referral with a proposed visit or consultation date, or declines it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"accepted": True, "answered_on": "2026-12-01", "proposed_on": "2027-01-14"}]
        }
    )

    actor: Actor
    accepted: bool
    answered_on: dt.date
    proposed_on: dt.date | None = Field(default=None, title="Proposed visit or consultation date")
    reason: str = Field(default="", max_length=2000, title="Why the service declined")

    @model_validator(mode="after")
    def _complete(self) -> ServiceAnswer:
        if self.accepted and self.proposed_on is None:
            raise ValueError("give the visit or consultation date the service proposes")
        if not self.accepted and not self.reason.strip():
            raise ValueError("give the reason the service declined")
        return self


class VisitHeld(BaseModel):
    """The visit or consultation was held: what it used of the allocation."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"held_on": "2027-01-14", "used": 5}]})

    actor: Actor
    held_on: dt.date
    used: float | None = Field(default=None, ge=0, le=500, title="Hours or sessions used")


class ReportReceived(BaseModel):
    """The written report: shared with the parents; its recommendations go to the support case."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "received_on": "2027-02-20",
                    "summary": "Working memory difficulties affect decoding",
                    "recommendations": ["Pre-teach key vocabulary", "Short, chunked instructions"],
                }
            ]
        }
    )

    actor: Actor
    received_on: dt.date
    summary: str = Field(min_length=1, max_length=4000)
    recommendations: list[str] = Field(default_factory=list, max_length=20)


class LiftMeeting(BaseModel):
    """The LIFT meeting the referral goes to: its papers are due before it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"meeting_on": "2027-01-20"}]})

    actor: Actor
    meeting_on: dt.date


class PapersSent(BaseModel):
    """The LIFT papers, with the signed parental agreement, went to the meeting's coordinator."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"sent_on": "2027-01-12"}]})

    actor: Actor
    sent_on: dt.date


class FollowUp(BaseModel):
    action: str = Field(min_length=1, max_length=500)
    by: str = Field(default="", max_length=200, title="Who does it")


class LiftOutcomeRecord(BaseModel):
    """What the LIFT meeting decided, its advice and the follow-up actions."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "outcome": "outreach",
                    "advice": ["Visual timetable", "Movement breaks"],
                    "follow_ups": [{"action": "Book the outreach visit", "by": "SENDCo"}],
                }
            ]
        }
    )

    actor: Actor
    outcome: LiftOutcome
    advice: list[str] = Field(default_factory=list, max_length=20)
    follow_ups: list[FollowUp] = Field(default_factory=list, max_length=20)


class FollowUpDone(BaseModel):
    """One of the LIFT outcome's follow-up actions is done (numbered from 1, as the case lists them)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"number": 1, "done_on": "2027-02-01"}]})

    actor: Actor
    number: int = Field(ge=1, le=20)
    done_on: dt.date


class SpecialistAdvice(BaseModel):
    """A specialist's recommendations, sent to the pupil's SEN support case."""

    from_case_id: str
    specialist: str
    received_on: dt.date
    recommendations: list[str]


class AdviceForSupportCase(BaseModel):
    """The recommendations, for the SEN support case of that workflow id."""

    workflow_id: str
    advice: SpecialistAdvice
