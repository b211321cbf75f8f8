"""A funding application's state and what it shows: the money, its dates, the case view and the checks.

FundingApplication (workflows/funding_application.py) runs the steps and takes the actions; this holds
what they share: the evidence the engine gathered and the checklist it makes, the amount asked with its
working (HNF-THRESHOLD), the LA's panel and the dates of the timeline (HNF-EVIDENCE, HNF-DECISION,
HNF-AWARD), the award row the funding page reads, and the case's next action and view.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.dates import SchoolYearCalendar
    from domain.funding_application import (
        FUNDING_WORDS,
        AwardReview,
        ChecklistItem,
        Costing,
        FundingApplicationInput,
        FundingAwardRecord,
        FundingDecision,
        FundingEvidence,
        FundingFacts,
        FundingRules,
        FundingStep,
        HeldReview,
        NeedsAssessmentInstead,
        Reapplication,
        RecordedEvidence,
        Resubmission,
        SignOffRequest,
        Submission,
        award_review_terms,
        checklist,
        costing,
        funding_timeline,
        missing_words,
        money,
    )
    from domain.schemas import Recipient
    from domain.timelines import TimelineEntry
    from workflows.case_io import RECORD_OPTIONS
    from workflows.kit import CaseWorkflow, day, iso

LA = Recipient(kind="la_sen")  # the LA's team in the register: the funding team's address
RECORDED_KINDS = ("specialist_report", "document")  # checklist items the SENDCo records


class FundingCase(CaseWorkflow):
    """One application attempt's state; FundingApplication runs its steps."""

    def open_application(self, inp: FundingApplicationInput) -> None:
        self.open_case(inp.case, cycle=inp.attempt, flags=inp.flags)
        self.inp = inp
        self.step = FundingStep.evidence
        self.calendar = SchoolYearCalendar.from_school(inp.case.calendar.terms, inp.case.calendar.inset_days)
        self.opened_on: date = inp.opened_on or self.today
        self.evidence: FundingEvidence | None = None
        self.consent_on: date | None = inp.consent_on
        self.recorded: dict[str, RecordedEvidence] = dict(inp.recorded)
        self.check_wanted = False
        self.sign_off_wanted: SignOffRequest | None = None
        self.sign_offs = 0
        self.signed_off: float | None = None  # the amount the headteacher signed off
        self.submission: Submission | None = None
        self.submitted_on: date | None = None
        self.decision: FundingDecision | None = None
        self.award_ends: date | None = None
        self.reviews: dict[str, AwardReview] = {}  # by term
        self.reapplication: Reapplication | None = None
        self.reapplied_case: str | None = None
        self.after_decline: Resubmission | NeedsAssessmentInstead | None = None
        self.needs_assessment_case: str | None = None

    # --- the money ---------------------------------------------------------------------------------------
    async def record_award(self) -> None:
        assert self.submitted_on is not None
        decision = self.decision
        record = FundingAwardRecord(
            case_id=self.inp.case.case_id,
            attempt=self.inp.attempt,
            pupil_id=self.inp.case.pupil_id,
            school_id=self.inp.case.school_id,
            kind=self.inp.kind,
            status=decision.outcome if decision else "pending",
            asked=self.costing.asked,
            awarded=decision.amount if decision and decision.outcome != "declined" else None,
            submitted_on=self.submitted_on,
            decided_on=decision.decided_on if decision else None,
            starts_on=decision.starts_on if decision else None,
            ends_on=self.award_ends,
            reason=decision.reason if decision else "",
        )
        await workflow.execute_activity("record_funding_award", record, **RECORD_OPTIONS)

    @property
    def rules(self) -> FundingRules:
        assert self.evidence is not None
        return self.evidence.rules

    @property
    def costing(self) -> Costing:
        assert self.evidence is not None
        return costing(self.evidence, self.inp.kind)

    @property
    def checklist(self) -> list[ChecklistItem]:
        assert self.evidence is not None
        return checklist(self.evidence, self.inp.kind, self.recorded, self.consent_on)

    @property
    def panel(self) -> date | None:
        """The LA's panel that hears the application: the first on or after its submission."""
        if self.submitted_on is None:
            return None
        return self.rules.next_panel(self.inp.kind, self.submitted_on)

    @property
    def reviews_sent(self) -> list[HeldReview]:
        """The reviewed support plans the LA's checklist asks for, newest first."""
        assert self.evidence is not None
        wanted = max(
            (e.count for e in self.rules.checklist(self.inp.kind) if e.kind == "support_plans"), default=0
        )
        return self.evidence.reviews[:wanted]

    @property
    def missing(self) -> str:
        return missing_words(self.checklist)

    @property
    def difference(self) -> float | None:
        if self.decision is None or self.decision.outcome != "partial" or self.decision.amount is None:
            return None
        return round(self.costing.asked - self.decision.amount, 2)

    # --- dates -------------------------------------------------------------------------------------------
    def timeline(self) -> list[TimelineEntry]:
        if self.evidence is None:
            return []
        rules = self.rules
        facts = FundingFacts(
            opened_on=self.opened_on,
            kind=self.inp.kind,
            consent_days=rules.consent_days,
            submitted_on=self.submitted_on,
            panel_dates=[p for p in [self.panel] if p is not None],
            decision_weeks=rules.decision_weeks,
            escalate_weeks=rules.escalate_weeks,
            award_starts=self.decision.starts_on if self.decision else None,
            award_ends=self.award_ends,
            reapply_weeks=rules.reapply_weeks,
        )
        return funding_timeline(facts, self.calendar)

    # --- the case view -----------------------------------------------------------------------------------
    def next_action(self) -> str:
        step = self.step
        if step == FundingStep.evidence:
            missing = [i.title for i in self.checklist if not i.held] if self.evidence else []
            if missing:
                return f"Complete the evidence for the LA. Still missing: {'; '.join(missing)}"
            return "The evidence is complete: ask the headteacher to sign the application off"
        if step == FundingStep.sign_off:
            return "Waiting for the headteacher to sign the application off"
        if step == FundingStep.ready:
            how = "on the LA's portal" if self.rules.submission == "portal" else "by email"
            return f"Signed off: submit the application to {self.rules.funding_team} ({how})"
        if step == FundingStep.submitted:
            panel = self.entry("panel")
            heard = f" at its panel on {day(panel.due)}" if panel else ""
            return (
                f"Record the LA's decision when it comes: it aims to decide{heard} by "
                f"{day(self.due('decision-target'))} (HNF-DECISION)"
            )
        if step == FundingStep.awarded:
            todo = [
                f"review the provision in the {label} term by {day(self.due('award-review:' + label))}"
                for label, _ in self.award_terms()
                if label not in self.reviews
            ][:1]
            if self.reapplied_case is None:
                todo.append(f"reapply by {day(self.due('reapply'))} (HNF-AWARD)")
            text = "; ".join(todo) or f"nothing until the award ends on {day(self.award_ends or self.today)}"
            return text[0].upper() + text[1:]
        if step == FundingStep.declined:
            return (
                "The LA declined the application: resubmit it with more evidence, or request an EHC needs "
                "assessment"
            )
        if self.needs_assessment_case:
            return "Nothing more: a request for an EHC needs assessment has been opened"
        return "Nothing more on this application"

    def award_terms(self) -> list[tuple[str, date]]:
        if self.decision is None or self.decision.starts_on is None or self.award_ends is None:
            return []
        return award_review_terms(self.decision.starts_on, self.award_ends, self.calendar)

    def view(self) -> dict[str, Any] | None:
        if self.evidence is None:
            return None
        cost = self.costing
        decision = self.decision
        return {
            "funding": FUNDING_WORDS[self.inp.kind],
            "attempt": self.inp.attempt,
            "local_authority": self.rules.local_authority,
            "evidence_held": [f"{i.title}: {'; '.join(i.sources)}" for i in self.checklist if i.held],
            "evidence_missing": [self.missing_item(i) for i in self.checklist if not i.held],
            "amount_asked": money(cost.asked),
            "costed_provision": money(cost.total),
            "threshold": money(cost.threshold),
            "working": "; ".join(cost.working),
            "consent_on": iso(self.consent_on),
            "signed_off": self.signed_off is not None,
            "submitted_on": iso(self.submitted_on),
            "submitted_by": self.submission.method if self.submission else None,
            "portal_reference": self.submission.reference if self.submission else None,
            "decision": decision.outcome if decision else None,
            "decided_on": iso(decision.decided_on) if decision else None,
            "amount_awarded": money(decision.amount or 0)
            if decision and decision.outcome != "declined"
            else None,
            "difference": money(self.difference) if self.difference is not None else None,
            "award_starts": iso(decision.starts_on) if decision else None,
            "award_ends": iso(self.award_ends),
            "reviews": {label: iso(r.reviewed_on) for label, r in self.reviews.items()},
            "reapplication_case": self.reapplied_case,
            "declined_reasons": [
                *self.inp.declined,
                *([decision.reason] if decision and decision.reason else []),
            ],
            "needs_assessment_case": self.needs_assessment_case,
        }

    def missing_item(self, item: ChecklistItem) -> str:
        """A missing item in words; one the SENDCo records names the item to record it as."""
        recorded = any(
            e.id == item.id and e.kind in RECORDED_KINDS for e in self.rules.checklist(self.inp.kind)
        )
        return f"{item.title}: {item.missing}" + (f" (record it as {item.id})" if recorded else "")

    # --- checks the actions share ------------------------------------------------------------------------
    def not_future(self, when: date) -> None:
        if when > self.today:
            raise ApplicationError(f"{day(when)} is in the future: enter the day it happened", type="Invalid")

    def require_evidence(self, doing: str) -> None:
        if self.evidence is None:
            raise ApplicationError(
                "The evidence is still being gathered: try again in a moment", type="Conflict"
            )
        missing = self.missing
        if missing:
            raise ApplicationError(
                f"{doing}: the evidence is not complete. Still missing: {missing}", type="Conflict"
            )

    def require_award(self) -> None:
        if self.step != FundingStep.awarded:
            raise ApplicationError("There is no award running on this application", type="Conflict")

    def not_chosen_yet(self) -> None:
        if self.decision is None or self.decision.outcome != "declined":
            raise ApplicationError("The LA has not declined this application", type="Conflict")
        if self.after_decline is not None:
            raise ApplicationError("What happens after the decline is already chosen", type="Conflict")

    def require_before_submission(self) -> None:
        if self.submission is not None:
            raise ApplicationError(
                "The application has been submitted: it can no longer change", type="Conflict"
            )
