"""The timeline of each process, computed from its key facts.

The timeline preview endpoint and the workflows both call these functions, so a preview shows exactly
the dates a workflow will use. Offsets come from domain.rules; pure, safe in the Temporal sandbox.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from domain.dates import (
    SchoolYearCalendar,
    academic_year,
    add_days,
    add_months,
    add_weeks,
    add_working_days,
    inclusive_window_end,
    within_12_months,
    within_months,
)
from domain.rules import rule


class TimelineEntry(BaseModel):
    """One dated step of a process, with the rule it comes from."""

    rule_id: str
    step: str
    due: date
    unit: str
    citation: str


def _entry(step: str, rule_id: str, due: date) -> TimelineEntry:
    r = rule(rule_id)
    return TimelineEntry(rule_id=r.id, step=step, due=due, unit=r.unit.value, citation=r.citation)


def _offset(rule_id: str) -> int:
    """The rule's fixed offset (every rule used here has one)."""
    offset = rule(rule_id).offset
    if offset is None:
        raise ValueError(f"rule {rule_id} has no fixed offset")
    return offset


def due_of(entries: list[TimelineEntry], step: str) -> date:
    """The due date of a step; KeyError naming the step and the steps there are if it is absent."""
    for entry in entries:
        if entry.step == step:
            return entry.due
    raise KeyError(f"no step {step!r} in this timeline (steps: {', '.join(e.step for e in entries)})")


# --- EHCP annual review and phase transfer -------------------------------------------------------

Transfer = Literal["none", "phase", "post16", "post16_other"]


class AnnualReviewFacts(BaseModel):
    """What an annual review's timeline depends on."""

    cycle_start: date = Field(description="plan issue date, or the LA's decision date of the last review")
    year_group: int = Field(ge=-3, le=14, description="year group at cycle_start: Reception 0, nursery < 0")
    under5: bool = False
    under5_months: int = Field(default=6, ge=3, le=6, description="review cadence for an under-5 (AR-UNDER5)")
    transfer: Transfer = "none"
    transfer_year: int | None = Field(default=None, validate_default=True)
    transfer_date: date | None = Field(default=None, validate_default=True)
    advice_request_weeks: int = Field(default=6, ge=1, le=12)
    planning_lead_weeks: int = Field(default=2, ge=0, le=12)
    meeting: date | None = None
    amendment_notice: date | None = Field(default=None, description="when the LA served its amendments")

    @field_validator("under5")
    @classmethod
    def _under5_fits_year_group(cls, under5: bool, info: ValidationInfo) -> bool:
        year_group = info.data.get("year_group")
        if under5 and year_group is not None and year_group >= 1:
            raise ValueError(
                f"a pupil in Year {year_group} is not under 5; under5 applies to Reception or below"
            )
        return under5

    @field_validator("transfer_year")
    @classmethod
    def _transfer_year_fits_transfer(cls, year: int | None, info: ValidationInfo) -> int | None:
        transfer = info.data.get("transfer")
        if transfer in ("phase", "post16") and year is None:
            raise ValueError(f"required for a {transfer} transfer: the calendar year of the transfer")
        if transfer in ("none", "post16_other") and year is not None:
            raise ValueError(f"applies only to phase and post16 transfers, not transfer={transfer!r}")
        cycle_start = info.data.get("cycle_start")
        if year is not None and cycle_start is not None and not 0 <= year - cycle_start.year <= 2:
            raise ValueError(f"{year} is not within two years after cycle_start ({cycle_start})")
        return year

    @field_validator("transfer_date")
    @classmethod
    def _transfer_date_fits_transfer(cls, when: date | None, info: ValidationInfo) -> date | None:
        transfer = info.data.get("transfer")
        if transfer == "post16_other" and when is None:
            raise ValueError("required for a post16_other transfer: the date the young person transfers")
        if transfer != "post16_other" and when is not None:
            raise ValueError(f"applies only to post16_other transfers, not transfer={transfer!r}")
        cycle_start = info.data.get("cycle_start")
        if when is not None and cycle_start is not None and when <= cycle_start:
            raise ValueError(f"the transfer ({when}) must be after cycle_start ({cycle_start})")
        return when

    @field_validator("meeting")
    @classmethod
    def _meeting_in_cycle(cls, meeting: date | None, info: ValidationInfo) -> date | None:
        cycle_start = info.data.get("cycle_start")
        if meeting is not None and cycle_start is not None and meeting < cycle_start:
            raise ValueError(f"the meeting ({meeting}) cannot be before cycle_start ({cycle_start})")
        return meeting

    @field_validator("amendment_notice")
    @classmethod
    def _notice_after_meeting(cls, notice: date | None, info: ValidationInfo) -> date | None:
        meeting = info.data.get("meeting") or info.data.get("cycle_start")
        if notice is not None and meeting is not None and notice < meeting:
            raise ValueError(
                f"the amendment notice ({notice}) cannot be before the meeting or cycle ({meeting})"
            )
        return notice


def review_due(facts: AnnualReviewFacts) -> date:
    """AR-DUE: within 12 months of cycle_start; AR-UNDER5: within under5_months for an under-5."""
    if facts.under5:
        return within_months(facts.cycle_start, facts.under5_months)
    return within_12_months(facts.cycle_start)


def phase_transfer_deadline(
    transfer: Transfer, year: int | None = None, when: date | None = None
) -> tuple[str, date] | None:
    """(rule id, date) by which a transfer's amended plan naming the next setting must be final."""
    if transfer == "phase":
        assert year is not None
        return "PT-15FEB", date(year, 2, 15)
    if transfer == "post16":
        assert year is not None
        return "PT-31MAR", date(year, 3, 31)
    if transfer == "post16_other":
        assert when is not None
        return "PT-POST16", add_months(when, -_offset("PT-POST16"))
    return None


def transfer_deadline(facts: AnnualReviewFacts) -> tuple[str, date] | None:
    """(rule id, date) by which the transfer's amended plan must be final, or None outside a transfer year."""
    return phase_transfer_deadline(facts.transfer, facts.transfer_year, facts.transfer_date)


def transfer_latest_meeting(facts: AnnualReviewFacts) -> date | None:
    """PT-LATEST-MEETING: the transfer deadline less 12 weeks (LA decision 4 weeks + final plan 8 weeks)."""
    deadline = transfer_deadline(facts)
    return None if deadline is None else add_weeks(deadline[1], -_offset("PT-LATEST-MEETING"))


def latest_meeting_date(facts: AnnualReviewFacts) -> date:
    """The latest the review meeting can be held: review-due, or the transfer's latest meeting if earlier."""
    due = review_due(facts)
    transfer = transfer_latest_meeting(facts)
    return due if transfer is None else min(due, transfer)


def annual_review_timeline(
    facts: AnnualReviewFacts, calendar: SchoolYearCalendar | None = None
) -> list[TimelineEntry]:
    """Every dated step of an annual review, sorted by due date (calendar is unused: all calendar days)."""
    entries = [_entry("review-due", "AR-UNDER5" if facts.under5 else "AR-DUE", review_due(facts))]
    deadline = transfer_deadline(facts)
    latest_transfer_meeting = transfer_latest_meeting(facts)
    if deadline is not None and latest_transfer_meeting is not None:
        entries.append(_entry("phase-transfer", deadline[0], deadline[1]))
        entries.append(_entry("latest-meeting", "PT-LATEST-MEETING", latest_transfer_meeting))
    lead = facts.advice_request_weeks + facts.planning_lead_weeks
    entries.append(
        _entry("set-meeting-date", "AR-ADVICE-REQUEST", add_weeks(latest_meeting_date(facts), -lead))
    )
    if facts.meeting is not None:
        m = facts.meeting
        entries += [
            _entry("request-advice", "AR-ADVICE-REQUEST", add_weeks(m, -facts.advice_request_weeks)),
            _entry("send-invitations", "AR-INVITE", add_days(m, -_offset("AR-INVITE"))),
            _entry("circulate-advice", "AR-ADVICE-CIRCULATE", add_days(m, -_offset("AR-ADVICE-CIRCULATE"))),
            _entry("send-report", "AR-REPORT", add_days(m, _offset("AR-REPORT"))),
            _entry("la-decision", "AR-LA-DECISION", add_days(m, _offset("AR-LA-DECISION"))),
            _entry("amend-proposal", "AR-AMEND-PROPOSAL", add_days(m, _offset("AR-AMEND-PROPOSAL"))),
        ]
    if facts.amendment_notice is not None:
        notice = facts.amendment_notice
        entries += [
            _entry(
                "amend-comments",
                "AR-AMEND-COMMENTS",
                inclusive_window_end(notice, _offset("AR-AMEND-COMMENTS")),
            ),
            _entry("final-amended-plan", "AR-FINAL-AMENDED", add_days(notice, _offset("AR-FINAL-AMENDED"))),
        ]
    return sorted(entries, key=lambda e: e.due)


# --- a parent's request to see the educational record --------------------------------------------


class RecordsRequestFacts(BaseModel):
    """What a records request's timeline depends on."""

    request_received: date


def records_request_timeline(
    facts: RecordsRequestFacts, calendar: SchoolYearCalendar | None = None
) -> list[TimelineEntry]:
    """TR-RECORDS-ACCESS: respond within 15 school days of the request (default terms if no calendar)."""
    calendar = calendar or SchoolYearCalendar()
    due = calendar.add_school_days(facts.request_received, _offset("TR-RECORDS-ACCESS"))
    return [_entry("respond", "TR-RECORDS-ACCESS", due)]


# --- the school's request for an EHC needs assessment (the LA's clocks) ---------------------------


class NeedsAssessmentFacts(BaseModel):
    """What an EHC needs assessment's timeline depends on: every clock runs from the LA's receipt."""

    la_received: date = Field(description="the day the LA received the school's request")
    advice_requested: date | None = Field(default=None, description="the LA asked the school for advice")
    draft_served: date | None = Field(default=None, description="the LA served the draft plan")
    school_consulted: date | None = Field(default=None, description="the LA consulted the school")

    @field_validator("advice_requested", "draft_served", "school_consulted")
    @classmethod
    def _after_receipt(cls, day: date | None, info: ValidationInfo) -> date | None:
        received = info.data.get("la_received")
        if day is not None and received is not None and day < received:
            raise ValueError(f"{day} is before the LA received the request ({received})")
        return day


def needs_assessment_timeline(
    facts: NeedsAssessmentFacts, calendar: SchoolYearCalendar | None = None
) -> list[TimelineEntry]:
    """The LA's clocks from receipt (all calendar days; calendar unused), and the school's own replies."""
    r = facts.la_received
    entries = [
        _entry("la-decision", "EHCNA-DECIDE", add_weeks(r, _offset("EHCNA-DECIDE"))),
        _entry("no-plan-notice", "EHCNA-NO-PLAN", add_weeks(r, _offset("EHCNA-NO-PLAN"))),
        _entry("final-plan", "EHCNA-FINAL", add_weeks(r, _offset("EHCNA-FINAL"))),
    ]
    if facts.advice_requested is not None:
        entries.append(
            _entry(
                "school-advice",
                "EHCNA-ADVICE",
                add_weeks(facts.advice_requested, _offset("EHCNA-ADVICE")),
            )
        )
    if facts.draft_served is not None:
        entries.append(
            _entry(
                "draft-comments",
                "EHCNA-DRAFT-COMMENTS",
                inclusive_window_end(facts.draft_served, _offset("EHCNA-DRAFT-COMMENTS")),
            )
        )
    if facts.school_consulted is not None:
        entries.append(
            _entry(
                "school-consultation",
                "SCHOOL-CONSULT",
                add_days(facts.school_consulted, _offset("SCHOOL-CONSULT")),
            )
        )
    return sorted(entries, key=lambda e: e.due)


# --- SEN support: the graduated approach --------------------------------------------------------

TERM_NAMES = ("autumn", "spring", "summer")


class SchoolTerm(BaseModel):
    """One of the school year's three terms (its half-terms together), as GA-PARENT-MEETINGS counts them."""

    label: str  # "autumn 2026": unique across years
    start: date
    end: date  # the term's last school day


def _season(start: date) -> str:
    """Autumn terms begin August to December, spring ones January to March, summer ones April to July."""
    return "autumn" if start.month >= 8 else "spring" if start.month <= 3 else "summer"


def school_term(calendar: SchoolYearCalendar, day: date) -> SchoolTerm:
    """The term `day` falls in or, in a holiday, the next one (from the school's calendar)."""
    for year in (academic_year(day), academic_year(day) + 1):
        by_season: dict[str, list[tuple[date, date]]] = {}
        for start, end in calendar.terms_for_year(year):
            by_season.setdefault(_season(start), []).append((start, end))
        for name in TERM_NAMES:
            parts = by_season.get(name)
            if not parts:
                continue
            start, end = min(s for s, _ in parts), max(e for _, e in parts)
            last = calendar.add_school_days(end + timedelta(days=1), -1)  # the last school day on or before
            if day <= last:
                return SchoolTerm(label=f"{name} {start.year}", start=start, end=last)
    raise ValueError(f"no school term after {day}: check the term dates")


class GraduatedApproachFacts(BaseModel):
    """What a graduated-approach cycle's timeline depends on."""

    cycle_start: date = Field(description="the day the cycle began")
    assess_school_days: int = Field(default=10, ge=1, le=40, description="school days to gather assessments")
    review_on: date | None = Field(default=None, description="the agreed review date; empty: end of term")
    annual_report_due: date | None = Field(default=None, description="empty: 12 months from cycle_start")

    @field_validator("review_on")
    @classmethod
    def _review_after_start(cls, review: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("cycle_start")
        if review is not None and start is not None and review <= start:
            raise ValueError(f"the review ({review}) must be after the cycle starts ({start})")
        return review


def default_review_date(facts: GraduatedApproachFacts, calendar: SchoolYearCalendar) -> date:
    """GA-REVIEW's default: the last school day of the current term, or of the next term when the current
    one ends before the assessments are due (a cycle needs time to assess, plan and do)."""
    assess_by = calendar.add_school_days(facts.cycle_start, facts.assess_school_days)
    term = school_term(calendar, facts.cycle_start)
    if term.end <= assess_by:
        term = school_term(calendar, term.end + timedelta(days=1))
    return term.end


def graduated_approach_timeline(
    facts: GraduatedApproachFacts, calendar: SchoolYearCalendar | None = None
) -> list[TimelineEntry]:
    """One cycle: assessments gathered (school days), the review (GA-REVIEW), this term's parent meeting
    (GA-PARENT-MEETINGS, the term's last school day) and the annual report (GA-ANNUAL-REPORT)."""
    calendar = calendar or SchoolYearCalendar()
    start = facts.cycle_start
    review = facts.review_on or default_review_date(facts, calendar)
    report = facts.annual_report_due or add_months(start, _offset("GA-ANNUAL-REPORT"))
    entries = [
        _entry("assess", "GA-REVIEW", calendar.add_school_days(start, facts.assess_school_days)),
        _entry("review", "GA-REVIEW", review),
        _entry("parent-meeting", "GA-PARENT-MEETINGS", school_term(calendar, start).end),
        _entry("annual-report", "GA-ANNUAL-REPORT", report),
    ]
    return sorted(entries, key=lambda e: e.due)


# --- transitions: pupils joining and leaving -----------------------------------------------------


def la_transfer_due(moved_on: date, old_la_aware_on: date | None = None) -> date:
    """TR-LA-TRANSFER: the day of the move when the old LA knew 15 working days before, else 15 working
    days after it learned of the move (working days: England's bank holidays left out)."""
    aware = old_la_aware_on or moved_on
    notice = _offset("TR-LA-TRANSFER")
    if add_working_days(aware, notice) <= moved_on:
        return moved_on
    return add_working_days(aware, notice)


class JoiningFacts(BaseModel):
    """What a joiner's timeline depends on: the admission, and a plan moving from another LA."""

    admission_date: date = Field(description="the day the pupil was entered in the admission register")
    has_sen: bool = Field(default=False, description="an EHC plan or SEN support: the SEN file, parents met")
    parents_meeting_school_days: int = Field(default=10, ge=1, le=40)
    moved_on: date | None = Field(default=None, description="the family moved from another LA (EHC plan)")
    old_la_aware_on: date | None = Field(default=None, description="when the old LA learned of the move")
    plan_transferred_on: date | None = Field(default=None, description="when the plan reached the new LA")

    @field_validator("plan_transferred_on")
    @classmethod
    def _transferred_after_move(cls, day: date | None, info: ValidationInfo) -> date | None:
        if day is not None and info.data.get("moved_on") is None:
            raise ValueError("give the day the family moved (moved_on) first")
        return day


def joining_timeline(facts: JoiningFacts, calendar: SchoolYearCalendar | None = None) -> list[TimelineEntry]:
    """The LA's new-pupil return (calendar days), the previous school's records and SEN file (school days),
    meeting the parents (school days) and, for a plan moving LA, its transfer clocks (working days, weeks)."""
    calendar = calendar or SchoolYearCalendar()
    start = facts.admission_date
    records_due = calendar.add_school_days(start, _offset("TR-CTF"))
    entries = [
        _entry("new-pupil-return", "TR-NEW-PUPIL-RETURN", add_days(start, _offset("TR-NEW-PUPIL-RETURN"))),
        _entry("records", "TR-CTF", records_due),
    ]
    if facts.has_sen:
        entries += [
            _entry("sen-file", "TR-SEN-FILE", records_due),
            _entry(
                "parents-meeting",
                "GA-PARENT-MEETINGS",
                calendar.add_school_days(start, facts.parents_meeting_school_days),
            ),
        ]
    if facts.moved_on is not None:
        transfer = la_transfer_due(facts.moved_on, facts.old_la_aware_on)
        transferred = facts.plan_transferred_on or transfer
        entries += [
            _entry("la-transfer", "TR-LA-TRANSFER", transfer),
            _entry(
                "new-la-contact", "TR-NEW-LA-CONTACT", add_weeks(transferred, _offset("TR-NEW-LA-CONTACT"))
            ),
        ]
    return sorted(entries, key=lambda e: e.due)


class LeavingFacts(BaseModel):
    """What a leaver's timeline depends on: the day the pupil left the roll, and what goes where."""

    leaving_date: date = Field(description="the day the pupil's name left the admission register")
    to_school: bool = Field(default=True, description="leaving for another school: the CTF and record")
    has_sen_file: bool = Field(default=False, description="an SEN file to send to the receiving SENDCo")
    sen_file_sent_on: date | None = Field(default=None, description="when the SEN file was sent")
    acknowledge_school_days: int = Field(default=5, ge=1, le=20)
    dual_registration_learned_on: date | None = Field(
        default=None, description="the headteacher learned the pupil is also registered at another school"
    )


def leaving_timeline(facts: LeavingFacts, calendar: SchoolYearCalendar | None = None) -> list[TimelineEntry]:
    """The deletion return (no later than deletion), the CTF and record (TR-CTF: 15 school days after
    leaving the roll), the SEN file with them and its acknowledgement, and a dual registration's CTF."""
    calendar = calendar or SchoolYearCalendar()
    left = facts.leaving_date
    entries = [_entry("deletion-return", "TR-DELETION-RETURN", left)]
    if facts.to_school:
        ctf_due = calendar.add_school_days(left, _offset("TR-CTF"))
        entries.append(_entry("ctf", "TR-CTF", ctf_due))
        if facts.has_sen_file:
            entries.append(_entry("sen-file", "TR-SEN-FILE", ctf_due))
            if facts.sen_file_sent_on is not None:
                acknowledge = calendar.add_school_days(facts.sen_file_sent_on, facts.acknowledge_school_days)
                entries.append(_entry("sen-file-acknowledged", "TR-SEN-FILE", acknowledge))
    if facts.dual_registration_learned_on is not None:
        learned = facts.dual_registration_learned_on
        entries.append(
            _entry(
                "dual-registration", "TR-DUALREG", calendar.add_school_days(learned, _offset("TR-DUALREG"))
            )
        )
    return sorted(entries, key=lambda e: e.due)


# --- transitions: phase transfer ----------------------------------------------------------------


class PhaseTransferFacts(BaseModel):
    """What a phase transfer's timeline depends on."""

    plan: Literal["ehc_plan", "sen_support"] = Field(description="an EHC plan, or SEN support")
    transfer: Literal["phase", "post16"] = Field(default="phase", description="phase: 15 Feb; post16: 31 Mar")
    transfer_year: int = Field(ge=2000, le=2100, description="the calendar year of the transfer (September)")


def summer_term_before(calendar: SchoolYearCalendar, transfer_year: int) -> SchoolTerm:
    """The summer term before a September transfer, on the school's calendar."""
    return school_term(calendar, date(transfer_year, 5, 1))


def phase_transfer_timeline(
    facts: PhaseTransferFacts, calendar: SchoolYearCalendar | None = None
) -> list[TimelineEntry]:
    """An EHC plan: the amended plan naming the next setting final by PT-15FEB (or PT-31MAR), and the review
    meeting by PT-LATEST-MEETING (the annual review's dates). SEN support has no statutory date: the
    transition meeting with the receiving school is set in the summer term."""
    if facts.plan != "ehc_plan":
        return []
    deadline = phase_transfer_deadline(facts.transfer, facts.transfer_year)
    assert deadline is not None
    rule_id, final = deadline
    latest = add_weeks(final, -_offset("PT-LATEST-MEETING"))
    return [_entry("review-meeting", "PT-LATEST-MEETING", latest), _entry("final-plan", rule_id, final)]


# --- a referral to the EP, LIFT or another specialist service (local practice) --------------------


class EPReferralFacts(BaseModel):
    """What a referral's timeline depends on: the day consent was asked, and each later step's day."""

    consent_asked: date = Field(description="the day the parents (or the young person) were asked")
    consent_chase_school_days: int = Field(default=5, ge=1, le=40)
    consent_escalate_school_days: int = Field(default=10, ge=2, le=60)
    accepted_on: date | None = Field(default=None, description="the service accepted the referral")
    visit_school_days: int = Field(default=30, ge=1, le=190)
    visit_held: date | None = Field(default=None, description="the visit or consultation was held")
    report_weeks: int = Field(default=6, ge=1, le=52)
    lift_meeting: date | None = Field(default=None, description="the LIFT meeting the referral goes to")
    papers_days_before: int = Field(default=7, ge=1, le=60)


def ep_referral_timeline(
    facts: EPReferralFacts, calendar: SchoolYearCalendar | None = None
) -> list[TimelineEntry]:
    """EP-CONSENT (chased, then escalated, in school days from the request), EP-VISIT (school days from
    acceptance), EP-REPORT (weeks from the visit); for LIFT, the papers a configured number of days before
    the meeting (the meeting is the referral's consultation, EP-VISIT)."""
    calendar = calendar or SchoolYearCalendar()
    asked = facts.consent_asked
    entries = [
        _entry("consent", "EP-CONSENT", calendar.add_school_days(asked, facts.consent_chase_school_days)),
        _entry(
            "consent-escalation",
            "EP-CONSENT",
            calendar.add_school_days(asked, facts.consent_escalate_school_days),
        ),
    ]
    if facts.accepted_on is not None:
        entries.append(
            _entry("visit", "EP-VISIT", calendar.add_school_days(facts.accepted_on, facts.visit_school_days))
        )
    if facts.visit_held is not None:
        entries.append(_entry("report", "EP-REPORT", add_weeks(facts.visit_held, facts.report_weeks)))
    if facts.lift_meeting is not None:
        entries.append(
            _entry("lift-papers", "EP-VISIT", add_days(facts.lift_meeting, -facts.papers_days_before))
        )
    return sorted(entries, key=lambda e: e.due)
