"""High needs funding (top-up) and SENIF applications: the LA's requirements, the evidence, the money.

Top-up funding is for a school-age pupil whose costed provision goes above the school's notional SEN
threshold (HNF-THRESHOLD): the amount asked for is the cost above it. SENIF is the early years inclusion
fund for a funded 2-4 year old without a final EHC plan (SENIF). What each LA asks for (its evidence
checklist, threshold, panel dates and how long its decision takes) is data, in la_funding.toml, checked by
`FundingRules`; an LA not listed gets the defaults, whose numbers come from domain/rules.py.
Pure (the data file is read once, by the activity that needs it): safe inside the Temporal sandbox.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from domain.census import NeedType
from domain.dates import SchoolYearCalendar, add_days, add_months, add_weeks
from domain.rules import rule
from domain.schemas import Actor, CaseRef
from domain.timelines import TimelineEntry, school_term

FundingKind = Literal["top_up", "senif"]
EvidenceKind = Literal["support_plans", "provision_map", "parental_consent", "specialist_report", "document"]
Outcome = Literal["approved", "partial", "declined"]

FUNDING_WORDS: dict[str, str] = {
    "top_up": "high needs top-up funding",
    "senif": "SEN inclusion funding (SENIF)",
}
OUTCOME_WORDS: dict[str, str] = {
    "approved": "approved in full",
    "partial": "partly approved",
    "declined": "declined",
}
PENCE = 2


def _offset(rule_id: str) -> int:
    offset = rule(rule_id).offset
    assert offset is not None, rule_id
    return offset


def money(amount: float) -> str:
    """An amount in words a person reads: '£3,500.00'."""
    return f"£{amount:,.2f}"


class FundingStep(StrEnum):
    evidence = "evidence"  # the checklist is being completed
    sign_off = "sign-off"  # with the headteacher
    ready = "ready"  # signed off: the SENDCo submits it
    submitted = "submitted"  # with the LA: HNF-DECISION
    awarded = "awarded"  # the award runs: termly reviews, HNF-AWARD
    declined = "declined"  # resubmit, or request an EHC needs assessment
    closed = "closed"


# --- the LA's requirements (data) ---------------------------------------------------------------------
class EvidenceRequirement(BaseModel):
    """One item of an LA's evidence checklist (HNF-EVIDENCE)."""

    id: str = Field(pattern=r"^[a-z0-9-]{1,40}$")
    kind: EvidenceKind
    title: str = Field(min_length=1, max_length=200)
    count: int = Field(default=1, ge=1, le=6, description="support_plans: how many reviewed plans")
    funding: list[FundingKind] = Field(default_factory=lambda: ["top_up", "senif"], min_length=1)


class PanelSchedule(BaseModel):
    """Panels that sit on a weekday of the month (the first or the last), in the months given."""

    weekday: int = Field(ge=0, le=6, description="Monday 0")
    which: Literal["first", "last"] = "last"
    months: list[int] = Field(min_length=1, description="1 January .. 12 December")

    @field_validator("months")
    @classmethod
    def _months(cls, months: list[int]) -> list[int]:
        if any(not 1 <= m <= 12 for m in months):
            raise ValueError("months are 1 (January) to 12 (December)")
        return sorted(set(months))

    def sitting(self, year: int, month: int) -> dt.date:
        if self.which == "first":
            first = dt.date(year, month, 1)
            return add_days(first, (self.weekday - first.weekday()) % 7)
        last = add_days(add_months(dt.date(year, month, 1), 1), -1)
        return add_days(last, -((last.weekday() - self.weekday) % 7))

    def next_on_or_after(self, day: dt.date) -> dt.date:
        year, month = day.year, day.month
        while True:
            if month in self.months and (sitting := self.sitting(year, month)) >= day:
                return sitting
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)


class FundingRules(BaseModel):
    """What one LA asks of a funding application; every number defaults to statutory.md's."""

    model_config = ConfigDict(extra="forbid")

    local_authority: str = "default"
    funding_team: str = Field(min_length=1, max_length=200)
    submission: Literal["email", "portal"] = "email"
    notional_threshold: float = Field(default=6000.0, ge=0, description="GBP a pupil (HNF-THRESHOLD)")
    senif_threshold: float = Field(default=0.0, ge=0, description="GBP the setting meets before SENIF")
    consent_days: int = Field(default=10, ge=1, le=60, description="days the parents have to consent")
    decision_weeks: int = Field(default_factory=lambda: _offset("HNF-DECISION"), ge=1, le=26)
    escalate_weeks: int = Field(default_factory=lambda: rule("HNF-DECISION").escalate_after or 6, ge=1, le=52)
    award_months: int = Field(default=12, ge=1, le=36, description="how long an award runs (HNF-AWARD)")
    reapply_weeks: int = Field(default_factory=lambda: _offset("HNF-AWARD"), ge=1, le=26)
    panel_dates: list[dt.date] = Field(default_factory=list, description="top-up panels; empty: none")
    panels: PanelSchedule | None = Field(default=None, description="top-up panels that recur")
    senif_panel_dates: list[dt.date] = Field(default_factory=list, description="SENIF panels (SENIF)")
    senif_panels: PanelSchedule | None = Field(default=None, description="SENIF panels that recur")
    evidence: list[EvidenceRequirement] = Field(min_length=1)

    @model_validator(mode="after")
    def _sound(self) -> FundingRules:
        ids = [e.id for e in self.evidence]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{self.local_authority}: each evidence item needs its own id")
        if self.escalate_weeks <= self.decision_weeks:
            raise ValueError(f"{self.local_authority}: escalate_weeks must be after decision_weeks")
        for kind in ("top_up", "senif"):
            found = [e for e in self.evidence if kind in e.funding]
            if not any(e.kind == "parental_consent" for e in found):
                raise ValueError(f"{self.local_authority}: {kind} evidence must include parental consent")
            if sum(e.kind == "provision_map" for e in found) != 1:
                raise ValueError(f"{self.local_authority}: {kind} evidence needs one costed provision map")
        self.panel_dates.sort()
        self.senif_panel_dates.sort()
        return self

    def checklist(self, kind: FundingKind) -> list[EvidenceRequirement]:
        return [e for e in self.evidence if kind in e.funding]

    def threshold(self, kind: FundingKind) -> float:
        return self.notional_threshold if kind == "top_up" else self.senif_threshold

    def next_panel(self, kind: FundingKind, day: dt.date) -> dt.date | None:
        """The first panel on or after `day` (from the dates listed and the recurring schedule), if any."""
        dates = self.panel_dates if kind == "top_up" else self.senif_panel_dates
        schedule = self.panels if kind == "top_up" else self.senif_panels
        found = [d for d in dates if d >= day]
        if schedule is not None:
            found.append(schedule.next_on_or_after(day))
        return min(found, default=None)


def parse_funding_rules(data: dict[str, Any]) -> dict[str, FundingRules]:
    """Every LA's rules from the data file's tables ('default' and [authorities.<name>])."""
    default = data.get("default", {})
    found = {"default": FundingRules.model_validate({**default, "local_authority": "default"})}
    for name, own in data.get("authorities", {}).items():
        merged = {"evidence": default.get("evidence", []), **own, "local_authority": name}
        found[name.casefold()] = FundingRules.model_validate(merged)
    return found


@lru_cache
def _all_rules() -> dict[str, FundingRules]:
    text = resources.files("domain").joinpath("la_funding.toml").read_text(encoding="utf-8")
    return parse_funding_rules(tomllib.loads(text))


def funding_rules(local_authority: str | None) -> FundingRules:
    """The LA's requirements, or the defaults for an LA the data file does not list."""
    found = _all_rules()
    return found.get((local_authority or "").casefold(), found["default"])


# --- what the engine holds: gathered by an activity -------------------------------------------------
class FundingQuery(BaseModel):
    case: CaseRef
    kind: FundingKind


class HeldReview(BaseModel):
    """A reviewed support plan, from one of the pupil's SEN support cases."""

    case_id: str
    reviewed_on: dt.date
    detail: str


class CostLine(BaseModel):
    """One intervention of the pupil's provision map this school year, costed."""

    intervention: str
    delivery: str
    cost_per_week: float
    weeks: int
    cost: float


class FundingEvidence(BaseModel):
    """What the engine already holds for an application, and the LA's requirements."""

    rules: FundingRules
    reviews: list[HeldReview] = Field(default_factory=list, description="newest first")
    school_year: str
    provision: list[CostLine] = Field(default_factory=list)
    age: int = Field(description="the pupil's age in years on the day")
    has_ehc_plan: bool = False


class Costing(BaseModel):
    """The costed provision and the amount asked for, with its working (HNF-THRESHOLD)."""

    total: float
    threshold: float
    asked: float
    working: list[str]


def costing(evidence: FundingEvidence, kind: FundingKind) -> Costing:
    """The provision map's cost this school year; the amount asked is what goes above the threshold."""
    threshold = evidence.rules.threshold(kind)
    total = round(sum(line.cost for line in evidence.provision), PENCE)
    asked = round(max(total - threshold, 0.0), PENCE)
    working = [
        f"{line.intervention} ({line.delivery}): {money(line.cost_per_week)} a week for {line.weeks} weeks"
        f" = {money(line.cost)}"
        for line in evidence.provision
    ]
    working.append(f"Provision map {evidence.school_year}: total {money(total)}")
    if kind == "top_up":
        working.append(
            f"Less the school's notional SEN threshold {money(threshold)} (HNF-THRESHOLD): "
            f"{money(asked)} asked for"
        )
    else:
        working.append(f"Less what the setting meets itself {money(threshold)}: {money(asked)} asked for")
    return Costing(total=total, threshold=threshold, asked=asked, working=working)


# --- the checklist ---------------------------------------------------------------------------------
class RecordedEvidence(BaseModel):
    """A report or document the SENDCo recorded against a checklist item."""

    item: str
    received_on: dt.date
    description: str


class ChecklistItem(BaseModel):
    id: str
    title: str
    held: bool
    sources: list[str] = Field(default_factory=list, description="where each piece came from")
    missing: str = ""


def _day(d: dt.date) -> str:
    """As the chronology and next actions put a date (workflows.kit.day): '12 Jan 2027'."""
    return f"{d:%d %b %Y}"


def checklist(
    evidence: FundingEvidence,
    kind: FundingKind,
    recorded: dict[str, RecordedEvidence],
    consent_on: dt.date | None,
) -> list[ChecklistItem]:
    """Each of the LA's items: held (with where it came from) or what is missing, eligibility first."""
    items: list[ChecklistItem] = []
    eligible = eligibility(evidence, kind)
    if eligible:
        items.append(ChecklistItem(id="eligibility", title="Eligibility", held=False, missing=eligible))
    for need in evidence.rules.checklist(kind):
        if need.kind == "support_plans":
            reviews = evidence.reviews[: need.count]
            sources = [
                f"SEN support case {r.case_id[:8]}: support plan reviewed {_day(r.reviewed_on)}"
                for r in reviews
            ]
            held = len(reviews) >= need.count
            missing = "" if held else f"{len(reviews)} of {need.count} reviewed support plans held"
            items.append(
                ChecklistItem(id=need.id, title=need.title, held=held, sources=sources, missing=missing)
            )
        elif need.kind == "provision_map":
            cost = costing(evidence, kind)
            source = f"Provision map {evidence.school_year}: {money(cost.total)}"
            held = cost.asked > 0
            missing = (
                ""
                if held
                else f"the provision costs {money(cost.total)} this school year, not above the "
                f"{money(cost.threshold)} threshold (HNF-THRESHOLD)"
            )
            items.append(
                ChecklistItem(id=need.id, title=need.title, held=held, sources=[source], missing=missing)
            )
        elif need.kind == "parental_consent":
            sources = [f"Recorded by the SENDCo: given {_day(consent_on)}"] if consent_on else []
            missing = "" if consent_on else "the parents have not given their consent yet"
            items.append(
                ChecklistItem(
                    id=need.id, title=need.title, held=bool(consent_on), sources=sources, missing=missing
                )
            )
        else:
            got = recorded.get(need.id)
            sources = [f"Recorded by the SENDCo: {got.description}, {_day(got.received_on)}"] if got else []
            missing = "" if got else "not recorded yet"
            items.append(
                ChecklistItem(
                    id=need.id, title=need.title, held=got is not None, sources=sources, missing=missing
                )
            )
    return items


def eligibility(evidence: FundingEvidence, kind: FundingKind) -> str:
    """Why the pupil cannot have this funding, or '' (SENIF: a funded 2-4 year old without an EHC plan)."""
    if kind == "senif":
        if evidence.has_ehc_plan:
            return "SENIF is for a child without a final EHC plan, and this child has one"
        if not 2 <= evidence.age <= 4:
            return f"SENIF is for a funded 2 to 4 year old, and this child is {evidence.age}"
    elif evidence.age < 4:
        return f"top-up funding is for a school-age pupil, and this child is {evidence.age}: apply for SENIF"
    return ""


def missing_words(items: list[ChecklistItem]) -> str:
    return "; ".join(f"{i.title} ({i.missing})" for i in items if not i.held)


# --- start and input ---------------------------------------------------------------------------------
class FundingApplicationStart(BaseModel):
    """What the SENDCo gives to open an application."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "top_up",
                    "year_group": 4,
                    "needs": ["SLCN"],
                    "summary": "Daily 1:1 speech and language support and a small-group reading programme",
                }
            ]
        }
    )

    kind: FundingKind = Field(
        title="Funding",
        description="Top up: high needs top-up funding for a school-age pupil. Senif: the SEN inclusion "
        "fund, for a funded 2 to 4 year old without a final EHC plan",
    )
    year_group: int = Field(ge=-3, le=14, title="Year group", description="Reception 0, nursery below")
    needs: list[NeedType] = Field(default_factory=list, max_length=2, title="Need types (rank 1 first)")
    summary: str = Field(min_length=1, max_length=4000, title="What the funding is for")

    @model_validator(mode="after")
    def _fits(self) -> FundingApplicationStart:
        if self.kind == "senif" and self.year_group > 0:
            raise ValueError("SENIF is for funded 2 to 4 year olds: the year group is nursery or Reception")
        if self.kind == "top_up" and self.year_group < 0:
            raise ValueError("top-up funding is for school-age pupils: for a nursery child apply for SENIF")
        return self


class FundingApplicationInput(BaseModel):
    """One attempt's input; a resubmission after a decline carries what the next attempt keeps."""

    case: CaseRef
    started_by: Actor
    kind: FundingKind
    year_group: int = Field(ge=-3, le=14)
    needs: list[NeedType] = Field(default_factory=list, max_length=2)
    summary: str = ""
    attempt: int = Field(default=1, ge=1)
    opened_on: dt.date | None = Field(default=None, description="empty: the day the run starts")
    consent_on: dt.date | None = None
    recorded: dict[str, RecordedEvidence] = Field(default_factory=dict)
    declined: list[str] = Field(default_factory=list, description="earlier attempts' decline reasons")
    flags: list[str] = Field(default_factory=list)


def build_input(case: CaseRef, start: FundingApplicationStart, actor: Actor) -> FundingApplicationInput:
    return FundingApplicationInput(
        case=case,
        started_by=actor,
        kind=start.kind,
        year_group=start.year_group,
        needs=start.needs,
        summary=start.summary,
    )


class FundingAwardRecord(BaseModel):
    """An application's money as the app database keeps it: pending while the LA decides, then decided."""

    case_id: str
    attempt: int
    pupil_id: int
    school_id: int
    kind: FundingKind
    status: Literal["pending", "approved", "partial", "declined"]
    asked: float
    awarded: float | None = None
    submitted_on: dt.date
    decided_on: dt.date | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    reason: str = ""


# --- the SENDCo's and the LA's steps (one Update each) ---------------------------------------------
class _Act(BaseModel):
    actor: Actor


class ConsentGiven(_Act):
    """The parents' consent to the application."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"given_on": "2026-12-01"}]})

    given_on: dt.date


class EvidenceReceived(_Act):
    """A report or document for one of the LA's checklist items (a specialist report, say)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"item": "lift-outcome", "received_on": "2026-11-20", "description": "LIFT outcome, Nov 2026"}
            ]
        }
    )

    item: str = Field(min_length=1, max_length=40, title="Checklist item")
    received_on: dt.date
    description: str = Field(min_length=1, max_length=500, title="What it is")


class CheckEvidence(_Act):
    """Look again at what the engine holds (support plan reviews, the provision map)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "The spring review is recorded"}]})

    note: str = Field(default="", max_length=500, title="What changed")


class SignOffRequest(_Act):
    """Send the application to the headteacher to sign off."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "Ready for the panel"}]})

    note: str = Field(default="", max_length=2000)


class Submission(_Act):
    """The application sent to the LA: by email from the engine, or on the LA's portal (its reference)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"method": "email", "reference": ""}]})

    method: Literal["email", "portal"] = "email"
    reference: str = Field(default="", max_length=100, title="The portal's reference")

    @model_validator(mode="after")
    def _reference(self) -> Submission:
        if self.method == "portal" and not self.reference.strip():
            raise ValueError("give the reference the LA's portal gave the submission")
        return self


class FundingDecision(_Act):
    """The LA's decision: the amount and dates of an award, or the reason it was declined."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "outcome": "approved",
                    "decided_on": "2026-12-15",
                    "amount": 3500.0,
                    "starts_on": "2027-01-04",
                    "ends_on": None,
                    "reason": "",
                }
            ]
        }
    )

    outcome: Outcome = Field(title="The LA's decision", description="partial: less than was asked for")
    decided_on: dt.date = Field(title="Decided on")
    amount: float | None = Field(default=None, ge=0, le=1_000_000, title="Amount awarded (GBP)")
    starts_on: dt.date | None = Field(default=None, title="Award starts")
    ends_on: dt.date | None = Field(default=None, title="Award ends", description="empty: the LA's period")
    reason: str = Field(default="", max_length=2000, title="The LA's reason")

    @model_validator(mode="after")
    def _complete(self) -> FundingDecision:
        if self.outcome == "declined":
            if not self.reason.strip():
                raise ValueError("record the reason the LA gave for declining")
        else:
            if self.amount is None or self.amount <= 0 or self.starts_on is None:
                raise ValueError("record the amount awarded and the day the award starts")
            if self.ends_on is not None and self.ends_on <= self.starts_on:
                raise ValueError("the award must end after it starts")
        return self


class AwardReview(_Act):
    """This term's review of the provision the award pays for (HNF-AWARD)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reviewed_on": "2027-03-20", "note": "Speech targets met"}]}
    )

    reviewed_on: dt.date
    note: str = Field(min_length=1, max_length=2000, title="What the review found")


class Reapplication(_Act):
    """Open the next application before the award ends (HNF-AWARD)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"summary": "Continue the 1:1 support"}]})

    summary: str = Field(min_length=1, max_length=4000, title="What the funding is for")


class Resubmission(_Act):
    """After a decline: try again, with more evidence."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "Adding the EP report"}]})

    note: str = Field(min_length=1, max_length=2000, title="What changes this time")


class NeedsAssessmentInstead(_Act):
    """After a decline: request an EHC needs assessment instead."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "Needs exceed what SEN support gives"}]}
    )

    note: str = Field(min_length=1, max_length=4000, title="Why")


# --- dates ---------------------------------------------------------------------------------------------
class FundingFacts(BaseModel):
    """What an application's timeline depends on."""

    opened_on: dt.date
    kind: FundingKind = "top_up"
    consent_days: int = Field(default=10, ge=1, le=60)
    submitted_on: dt.date | None = None
    panel_dates: list[dt.date] = Field(default_factory=list)
    decision_weeks: int = Field(default_factory=lambda: _offset("HNF-DECISION"), ge=1, le=26)
    escalate_weeks: int = Field(default_factory=lambda: rule("HNF-DECISION").escalate_after or 6, ge=1, le=52)
    award_starts: dt.date | None = None
    award_ends: dt.date | None = None
    reapply_weeks: int = Field(default_factory=lambda: _offset("HNF-AWARD"), ge=1, le=26)

    @field_validator("submitted_on", "award_starts")
    @classmethod
    def _after_opening(cls, day: dt.date | None, info: Any) -> dt.date | None:
        opened = info.data.get("opened_on")
        if day is not None and opened is not None and day < opened:
            raise ValueError(f"{day} is before the application was opened ({opened})")
        return day


def _entry(step: str, rule_id: str, due: dt.date) -> TimelineEntry:
    r = rule(rule_id)
    return TimelineEntry(rule_id=r.id, step=step, due=due, unit=r.unit.value, citation=r.citation)


def panel_on_or_after(panels: list[dt.date], day: dt.date) -> dt.date | None:
    return next((p for p in sorted(panels) if p >= day), None)


def award_end(starts: dt.date, months: int) -> dt.date:
    """An award of `months` from its start ends the day before the same date (HNF-AWARD)."""
    return add_days(add_months(starts, months), -1)


def award_review_terms(
    starts: dt.date, ends: dt.date, calendar: SchoolYearCalendar
) -> list[tuple[str, dt.date]]:
    """Each term the award runs in, with its review's due date: the term's last school day (or the end)."""
    found: list[tuple[str, dt.date]] = []
    day = starts
    while day <= ends:
        term = school_term(calendar, day)
        found.append((term.label, min(term.end, ends)))
        day = add_days(term.end, 1)
    return found


def funding_timeline(facts: FundingFacts, calendar: SchoolYearCalendar | None = None) -> list[TimelineEntry]:
    """Consent (HNF-EVIDENCE), the panel (SENIF), the LA's decision (HNF-DECISION), the award (HNF-AWARD)."""
    calendar = calendar or SchoolYearCalendar()
    entries = [_entry("consent", "HNF-EVIDENCE", add_days(facts.opened_on, facts.consent_days))]
    if facts.submitted_on is not None:
        heard = facts.submitted_on
        panel = panel_on_or_after(facts.panel_dates, facts.submitted_on)
        if panel is not None:
            entries.append(_entry("panel", "SENIF" if facts.kind == "senif" else "HNF-DECISION", panel))
            heard = panel
        entries += [
            _entry("decision-target", "HNF-DECISION", add_weeks(heard, facts.decision_weeks)),
            _entry("la-decision", "HNF-DECISION", add_weeks(heard, facts.escalate_weeks)),
        ]
    if facts.award_starts is not None and facts.award_ends is not None:
        for label, due in award_review_terms(facts.award_starts, facts.award_ends, calendar):
            entries.append(_entry(f"award-review:{label}", "HNF-AWARD", due))
        entries += [
            _entry("reapply", "HNF-AWARD", add_weeks(facts.award_ends, -facts.reapply_weeks)),
            _entry("award-ends", "HNF-AWARD", facts.award_ends),
        ]
    return sorted(entries, key=lambda e: e.due)
