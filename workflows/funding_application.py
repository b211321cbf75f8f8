"""A high needs top-up funding or SENIF application, from its evidence to the award's reviews.

1. Evidence (HNF-EVIDENCE): the checklist comes from the LA's requirements (domain/la_funding.toml); what
   the engine holds is attached by itself with where it came from (the pupil's reviewed support plans, the
   costed provision map), the rest is recorded by the SENDCo. The parents are asked for their consent and
   chased. The amount asked is the provision map's cost above the notional SEN threshold (HNF-THRESHOLD),
   shown with its working; SENIF is for a funded 2-4 year old without a final EHC plan (SENIF).
2. Sign-off: the headteacher approves the application, seeing the evidence and the amount.
3. Submission: refused, with the reason, while evidence is missing or the sign-off is not given; it goes
   to the LA's funding team by email (or is recorded as submitted on the LA's portal, with its reference).
4. The LA's decision (HNF-DECISION): heard at the next panel where the LA has panels (SENIF: per LA panel
   dates); the LA is chased at its target and the headteacher told when it is later still.
5. An award (approved, or partly approved with the difference): its amount and dates are kept, the
   provision is reviewed each term it runs, and the SENDCo is reminded to reapply before it ends
   (HNF-AWARD). A decline: the reason is recorded; the SENDCo resubmits with more evidence (the next
   attempt, continue-as-new) or requests an EHC needs assessment (a linked case).
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.dates import english_moment
    from domain.funding_application import (
        FUNDING_WORDS,
        OUTCOME_WORDS,
        AwardReview,
        CheckEvidence,
        ConsentGiven,
        EvidenceReceived,
        FundingApplicationInput,
        FundingApplicationStart,
        FundingDecision,
        FundingEvidence,
        FundingFacts,
        FundingQuery,
        FundingStep,
        NeedsAssessmentInstead,
        Reapplication,
        RecordedEvidence,
        Resubmission,
        SignOffRequest,
        Submission,
        award_end,
        build_input,
        funding_timeline,
        missing_words,
        money,
    )
    from domain.needs_assessment import NeedsAssessmentInput
    from domain.timelines import school_term
    from workflows.case_io import RECORD_OPTIONS
    from workflows.deadlines import HEADTEACHER, PARENT, REMIND_AT, SENDCO, Policy
    from workflows.funding_application_case import LA, RECORDED_KINDS, FundingCase
    from workflows.kit import day, iso, rule_context
    from workflows.process import Process, action

CONSENT = Policy(remind_days_before=(3,), escalate_to=(SENDCO,))  # the parents reminded, then chased
WAIT_FOR_LA = Policy(remind_days_before=())  # chased at the target (hnf-chase), escalated at the limit
TITLES = {
    "consent": "The parents' consent to the funding application",
    "la-decision": "The LA's decision on the funding application",
    "reapply": "Reapply for funding before the award ends",
}


@workflow.defn(name="funding_application")
class FundingApplication(FundingCase):
    @workflow.init
    def __init__(self, inp: FundingApplicationInput) -> None:
        self.open_application(inp)

    @workflow.run
    async def run(self, inp: FundingApplicationInput) -> str:
        await self.gather("opened")  # 1. the checklist, what the engine holds, the amount asked
        if self.consent_on is None:
            await self.ask_for_consent()
        await self.completing()  # 1-3. evidence, the headteacher's sign-off, the submission
        await self.submitting()  # 3. to the LA's funding team
        await self.awaiting_decision()  # 4. HNF-DECISION
        assert self.decision is not None
        if self.decision.outcome == "declined":
            return await self.declined()
        return await self.award_running()  # 5. HNF-AWARD

    # --- 1. Evidence -------------------------------------------------------------------------------------
    async def gather(self, why: str) -> None:
        """Read what the engine holds now (the LA's requirements, reviewed plans, the provision map)."""
        query = FundingQuery(case=self.inp.case, kind=self.inp.kind)
        self.evidence = await workflow.execute_activity(
            "gather_funding_evidence", query, result_type=FundingEvidence, **RECORD_OPTIONS
        )
        cost = self.costing
        held = [i for i in self.checklist if i.held]
        attached = "; ".join(f"{i.title}: {', '.join(i.sources)}" for i in held) or "nothing yet"
        missing = missing_words(self.checklist)
        if why == "opened":
            opened = f"Application for {FUNDING_WORDS[self.inp.kind]} opened (attempt {self.inp.attempt})"
            self.io.remark("application-opened", f"{opened}: {self.inp.summary}", self.inp.started_by)
        self.io.remark(
            "evidence-gathered",
            f"Evidence held: {attached}. Amount asked: {money(cost.asked)} ({'; '.join(cost.working)})"
            + (f". Missing: {missing}" if missing else ""),
        )
        if self.signed_off is not None and self.signed_off != cost.asked:
            self.signed_off = None
            self.step = FundingStep.evidence
            self.io.remark(
                "sign-off-withdrawn",
                f"The amount asked changed to {money(cost.asked)} since the headteacher signed off: "
                "ask for the sign-off again",
            )
        self.show()

    async def ask_for_consent(self) -> None:
        due = self.due("consent")
        context = {
            "funding": FUNDING_WORDS[self.inp.kind],
            "summary": self.inp.summary,
            "due": due.isoformat(),
            **rule_context("HNF-EVIDENCE"),
        }
        await self.email(
            "consent",
            "hnf-consent",
            [PARENT],
            context,
            "consent-requested",
            f"The parents are asked for their consent to the application by {day(due)} (HNF-EVIDENCE)",
        )
        self.track("consent", TITLES["consent"], PARENT, lambda: self.consent_on is not None, CONSENT)

    async def completing(self) -> None:
        """Until the SENDCo submits: look again at the evidence, and ask the headteacher to sign off."""
        while self.submission is None:
            await workflow.wait_condition(
                lambda: self.check_wanted or self.sign_off_wanted is not None or self.submission is not None
            )
            if self.check_wanted:
                self.check_wanted = False
                await self.gather("checked")
            if self.sign_off_wanted is not None:
                await self.sign_off(self.sign_off_wanted)
                self.sign_off_wanted = None

    # --- 2. The headteacher's sign-off -------------------------------------------------------------------
    async def sign_off(self, request: SignOffRequest) -> None:
        self.sign_offs += 1
        cost = self.costing
        self.show(FundingStep.sign_off)
        evidence = "; ".join(f"{i.title}: {', '.join(i.sources)}" for i in self.checklist)
        note = f" Note from the SENDCo: {request.note}" if request.note.strip() else ""
        decision = await self.approvals.request(
            self.key(f"sign-off-{self.sign_offs}"),
            FundingStep.sign_off,
            f"Application for {FUNDING_WORDS[self.inp.kind]}",
            f"Amount asked: {money(cost.asked)}. Working: {'; '.join(cost.working)}. "
            f"Evidence: {evidence}.{note}",
        )
        if decision.approve:
            self.signed_off = cost.asked
            self.show(FundingStep.ready)
        else:
            self.show(FundingStep.evidence)

    # --- 3. Submission -----------------------------------------------------------------------------------
    async def submitting(self) -> None:
        submission = self.submission
        assert submission is not None and self.submitted_on is not None
        cost = self.costing
        if submission.method == "email":
            context = {
                "funding": FUNDING_WORDS[self.inp.kind],
                "funding_team": self.rules.funding_team,
                "summary": self.inp.summary,
                "asked": money(cost.asked),
                "working": cost.working,
                "evidence": [{"title": i.title, "sources": i.sources} for i in self.checklist],
                "reviews": [f"{day(r.reviewed_on)}: {r.detail}" for r in self.reviews_sent],
                "attempt": self.inp.attempt,
                "declined": self.inp.declined,
                **rule_context("HNF-EVIDENCE"),
            }
            await self.email(
                "submission",
                "hnf-submission",
                [LA],
                context,
                "application-submitted",
                f"Application for {FUNDING_WORDS[self.inp.kind]} of {money(cost.asked)} sent to "
                f"{self.rules.funding_team} by email",
            )
        else:
            self.io.remark(
                "application-submitted",
                f"Application for {FUNDING_WORDS[self.inp.kind]} of {money(cost.asked)} submitted on the "
                f"LA's portal on {day(self.submitted_on)}, reference {submission.reference}",
                submission.actor,
            )
        await self.record_award()

    # --- 4. The LA's decision: HNF-DECISION --------------------------------------------------------------
    async def awaiting_decision(self) -> None:
        self.track("la-decision", TITLES["la-decision"], LA, lambda: self.decision is not None, WAIT_FOR_LA)
        self.show(FundingStep.submitted)
        panel = self.entry("panel")
        heard = f" at the panel of {day(panel.due)}" if panel else ""
        self.io.remark(
            "decision-awaited",
            f"The LA aims to decide{heard} by {day(self.due('decision-target'))} (HNF-DECISION); it is "
            "chased then, and the headteacher told if there is no decision by "
            f"{day(self.due('la-decision'))}",
        )
        chase = asyncio.ensure_future(self.chase_la())
        await workflow.wait_condition(lambda: self.decision is not None)
        await chase
        await self.record_award()
        await self.tell_decision()

    async def chase_la(self) -> None:
        """At the LA's target date (08:00), chase the LA once if it has not decided."""
        target = english_moment(self.due("decision-target"), REMIND_AT)
        if target > workflow.now():
            with suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self.decision is not None, timeout=target - workflow.now()
                )
        if self.decision is not None:
            return
        context = {
            "funding": FUNDING_WORDS[self.inp.kind],
            "funding_team": self.rules.funding_team,
            "submitted_on": iso(self.submitted_on),
            "target": self.due("decision-target").isoformat(),
            "limit": self.due("la-decision").isoformat(),
            **rule_context("HNF-DECISION"),
        }
        await self.email(
            "la-chase",
            "hnf-chase",
            [LA],
            context,
            "la-chased",
            f"No decision by the LA's target of {day(self.due('decision-target'))} (HNF-DECISION): the LA is "
            "chased",
        )

    async def tell_decision(self) -> None:
        decision = self.decision
        assert decision is not None
        context = {
            "funding": FUNDING_WORDS[self.inp.kind],
            "outcome": decision.outcome,
            "outcome_words": OUTCOME_WORDS[decision.outcome],
            "asked": money(self.costing.asked),
            "awarded": money(decision.amount or 0),
            "difference": money(self.difference or 0),
            "starts_on": iso(decision.starts_on),
            "ends_on": iso(self.award_ends),
            "reason": decision.reason,
            **rule_context("HNF-AWARD" if decision.outcome != "declined" else "HNF-DECISION"),
        }
        await self.email(
            "decision",
            "hnf-decision",
            [PARENT, HEADTEACHER],
            context,
            "decision-told",
            f"The LA's decision ({OUTCOME_WORDS[decision.outcome]}) is told to the parents and the "
            "headteacher",
        )

    # --- 5. The award: HNF-AWARD -------------------------------------------------------------------------
    async def award_running(self) -> str:
        decision = self.decision
        assert decision is not None and decision.starts_on is not None and self.award_ends is not None
        for label, due in self.award_terms():  # one row per term, each its own key, all one step
            watch = self.deadline(
                self.key(f"award-review:{label}"),
                "award-review",
                f"Review the provision the funding pays for in the {label} term",
                "HNF-AWARD",
                due,
                SENDCO,
            )
            self.watch(watch, lambda label=label: label in self.reviews)
        self.track("reapply", TITLES["reapply"], SENDCO, lambda: self.reapplied_case is not None)
        self.show(FundingStep.awarded)
        ends = english_moment(self.award_ends + timedelta(days=1), REMIND_AT)
        while workflow.now() < ends:
            try:
                await workflow.wait_condition(
                    lambda: self.reapplication is not None and self.reapplied_case is None,
                    timeout=ends - workflow.now(),
                )
            except TimeoutError:
                break
            await self.reapply_now()
        self.io.remark("award-ended", f"The award ended on {day(self.award_ends)}")
        return await self.close()

    async def reapply_now(self) -> None:
        request = self.reapplication
        assert request is not None
        inp = self.inp
        own = inp.case.case_id[:8]
        carried = {  # the reports this application holds, named as from it (a newer one replaces them)
            item: got.model_copy(update={"description": f"{got.description} (from application {own})"})
            for item, got in self.recorded.items()
        }
        ref = await self.open_linked(
            "funding_application",
            "reapplication",
            lambda ref: FundingApplicationInput(
                case=ref,
                started_by=request.actor,
                kind=inp.kind,
                year_group=inp.year_group,
                needs=inp.needs,
                summary=request.summary,
                recorded=carried,
            ),
            request.actor,
            {"kind": inp.kind, "year_group": inp.year_group, "summary": request.summary},
        )
        self.reapplied_case = ref.case_id
        self.io.remark(
            "reapplication-opened",
            f"Reapplication opened as case {ref.case_id[:8]} before the award ends on {day(self.award_ends)}",
            request.actor,
        )
        self.show()

    # --- after a decline ---------------------------------------------------------------------------------
    async def declined(self) -> str:
        self.show(FundingStep.declined)
        await workflow.wait_condition(lambda: self.after_decline is not None)
        choice = self.after_decline
        if isinstance(choice, Resubmission):
            return await self.resubmit(choice)
        assert isinstance(choice, NeedsAssessmentInstead)
        await self.request_needs_assessment_case(choice)
        return await self.close()

    async def resubmit(self, choice: Resubmission) -> str:
        assert self.decision is not None
        following = FundingApplicationInput(
            **self.inp.model_dump(include={"case", "kind", "year_group", "needs", "summary"}),
            started_by=choice.actor,
            attempt=self.inp.attempt + 1,
            opened_on=self.today,
            consent_on=self.consent_on,
            recorded=self.recorded,
            declined=[*self.inp.declined, self.decision.reason],
            flags=self.flags,
        )
        self.io.remark(
            "resubmission",
            f"Attempt {following.attempt} starts: {choice.note}",
            choice.actor,
        )
        await self.settle()
        workflow.continue_as_new(following)

    async def request_needs_assessment_case(self, choice: NeedsAssessmentInstead) -> None:
        assert self.decision is not None
        inp = self.inp
        evidence = (
            f"{FUNDING_WORDS[inp.kind].capitalize()} was declined on {day(self.decision.decided_on)}: "
            f"{self.decision.reason}. {choice.note}. Evidence: "
            + "; ".join(f"{i.title}: {', '.join(i.sources)}" for i in self.checklist if i.held)
        )[:8000]
        ref = await self.open_linked(
            "needs_assessment",
            "needs-assessment",
            lambda ref: NeedsAssessmentInput(
                case=ref,
                started_by=choice.actor,
                year_group=inp.year_group,
                evidence=evidence,
                needs=inp.needs,
                requested_on=self.today,
            ),
            choice.actor,
            {"year_group": inp.year_group, "evidence": evidence, "needs": [str(n) for n in inp.needs]},
        )
        self.needs_assessment_case = ref.case_id
        self.io.remark(
            "needs-assessment-requested",
            f"Request for an EHC needs assessment opened as case {ref.case_id[:8]}",
            choice.actor,
        )

    async def close(self) -> str:
        self.show(FundingStep.closed, closed=True)
        await self.settle()
        assert self.decision is not None
        return self.decision.outcome

    # --- what the SENDCo does: one Update each -----------------------------------------------------------
    @action(
        "Record the parents' consent", steps=[FundingStep.evidence, FundingStep.sign_off, FundingStep.ready]
    )
    async def record_consent(self, consent: ConsentGiven) -> str:
        """Record the day the parents gave their consent to the application."""
        self.consent_on = consent.given_on
        self.show()
        await self.io.log(
            "consent-recorded", f"The parents gave their consent on {day(consent.given_on)}", consent.actor
        )
        return "recorded"

    def validate_record_consent(self, consent: ConsentGiven) -> None:
        self.require_before_submission()
        if self.consent_on is not None:
            raise ApplicationError("The parents' consent is already recorded", type="Conflict")
        self.not_future(consent.given_on)

    @action("Record a report or document", steps=[FundingStep.evidence, FundingStep.ready])
    async def record_evidence(self, received: EvidenceReceived) -> str:
        """Record a specialist report or other document the LA asks for, against its checklist item."""
        self.recorded[received.item] = RecordedEvidence(
            item=received.item, received_on=received.received_on, description=received.description
        )
        self.show()
        title = next(e.title for e in self.rules.checklist(self.inp.kind) if e.id == received.item)
        await self.io.log(
            "evidence-recorded",
            f"{title}: {received.description}, received {day(received.received_on)}",
            received.actor,
        )
        return received.item

    def validate_record_evidence(self, received: EvidenceReceived) -> None:
        self.require_before_submission()
        if self.evidence is None:
            raise ApplicationError(
                "The evidence is still being gathered: try again in a moment", type="Conflict"
            )
        recordable = [e for e in self.rules.checklist(self.inp.kind) if e.kind in RECORDED_KINDS]
        if received.item not in {e.id for e in recordable}:
            words = "; ".join(f"{e.id} ({e.title})" for e in recordable) or "none"
            raise ApplicationError(
                f"That is not an item the SENDCo records for this LA: choose one of {words}", type="Invalid"
            )
        self.not_future(received.received_on)

    @action("Check the engine's records again", steps=[FundingStep.evidence, FundingStep.ready])
    async def check_evidence(self, check: CheckEvidence) -> str:
        """Look again at the support plan reviews and the provision map (after a review or a new plan)."""
        self.check_wanted = True
        note = f": {check.note}" if check.note.strip() else ""
        await self.io.log("evidence-checked", f"The evidence is checked again{note}", check.actor)
        return "checking"

    def validate_check_evidence(self, check: CheckEvidence) -> None:
        self.require_before_submission()

    @action("Ask the headteacher to sign the application off", steps=[FundingStep.evidence])
    async def request_sign_off(self, request: SignOffRequest) -> str:
        """Send the application, its evidence and the amount to the headteacher to sign off."""
        self.sign_off_wanted = request
        return "requested"

    def validate_request_sign_off(self, request: SignOffRequest) -> None:
        self.require_before_submission()
        self.require_evidence("The headteacher cannot sign it off yet")
        if self.sign_off_wanted is not None or self.step == FundingStep.sign_off:
            raise ApplicationError("The application is already with the headteacher", type="Conflict")
        if self.signed_off is not None:
            raise ApplicationError("The headteacher has already signed the application off", type="Conflict")

    @action(
        "Submit the application to the LA",
        steps=[FundingStep.evidence, FundingStep.sign_off, FundingStep.ready],
    )
    async def submit(self, submission: Submission) -> str:
        """Send the application to the LA's funding team, or record its submission on the LA's portal."""
        self.submission = submission
        self.submitted_on = self.today
        how = (
            "by email" if submission.method == "email" else f"on the portal, reference {submission.reference}"
        )
        await self.io.log("submit-requested", f"The SENDCo submitted the application {how}", submission.actor)
        return self.today.isoformat()

    def validate_submit(self, submission: Submission) -> None:
        self.require_before_submission()
        self.require_evidence("The application cannot go to the LA yet")
        if self.signed_off is None:
            raise ApplicationError(
                "The application cannot go to the LA yet: the headteacher has not signed it off. Ask for the "
                "sign-off first",
                type="Conflict",
            )

    @action("Record the LA's decision", steps=[FundingStep.submitted])
    async def record_decision(self, decision: FundingDecision) -> str:
        """Record the LA's decision: the award's amount and dates, or its reason for declining."""
        self.decision = decision
        if decision.starts_on is not None:
            self.award_ends = decision.ends_on or award_end(decision.starts_on, self.rules.award_months)
        words = OUTCOME_WORDS[decision.outcome]
        if decision.outcome == "declined":
            detail = f"Declined on {day(decision.decided_on)}. Reason: {decision.reason}"
        else:
            assert decision.starts_on is not None and self.award_ends is not None
            detail = (
                f"{words.capitalize()} on {day(decision.decided_on)}: {money(decision.amount or 0)} "
                f"awarded of {money(self.costing.asked)} asked, from {day(decision.starts_on)} to "
                f"{day(self.award_ends)}"
            )
            if decision.outcome == "partial":
                detail += f"; {money(self.difference or 0)} less than asked"
            if decision.reason.strip():
                detail += f". {decision.reason}"
        await self.io.log("decision-recorded", detail, decision.actor)
        return decision.outcome

    def validate_record_decision(self, decision: FundingDecision) -> None:
        if self.decision is not None:
            raise ApplicationError("The LA's decision is already recorded", type="Conflict")
        if self.submitted_on is None:
            raise ApplicationError("The application has not been submitted yet", type="Conflict")
        self.not_future(decision.decided_on)
        if decision.decided_on < self.submitted_on:
            raise ApplicationError(
                f"The decision cannot be before the application was submitted ({day(self.submitted_on)})",
                type="Invalid",
            )
        asked = self.costing.asked
        if decision.outcome == "approved" and decision.amount is not None and decision.amount < asked:
            raise ApplicationError(
                f"{money(decision.amount)} is less than the {money(asked)} asked for: record it as partly "
                "approved",
                type="Invalid",
            )
        if decision.outcome == "partial" and decision.amount is not None and decision.amount >= asked:
            raise ApplicationError(
                f"{money(decision.amount)} is all of the {money(asked)} asked for: record it as approved",
                type="Invalid",
            )

    @action("Record this term's review of the funded provision", steps=[FundingStep.awarded])
    async def record_award_review(self, review: AwardReview) -> str:
        """Record the term's review of the provision the award pays for (HNF-AWARD)."""
        term = school_term(self.calendar, review.reviewed_on).label
        self.reviews[term] = review
        self.show()
        await self.io.log(
            "award-reviewed",
            f"Review of the {term} term on {day(review.reviewed_on)}: {review.note}",
            review.actor,
        )
        return term

    def validate_record_award_review(self, review: AwardReview) -> None:
        self.require_award()
        self.not_future(review.reviewed_on)
        assert self.decision is not None and self.decision.starts_on is not None
        if review.reviewed_on < self.decision.starts_on:
            raise ApplicationError(
                f"The award starts on {day(self.decision.starts_on)}: review it once it runs", type="Invalid"
            )
        term = school_term(self.calendar, review.reviewed_on).label
        if term in self.reviews:
            raise ApplicationError(f"The {term} term's review is already recorded", type="Conflict")

    @action("Reapply before the award ends", steps=[FundingStep.awarded])
    async def reapply(self, request: Reapplication) -> str:
        """Open the next application for the pupil before this award ends (HNF-AWARD)."""
        self.reapplication = request
        return "opening"

    def validate_reapply(self, request: Reapplication) -> None:
        self.require_award()
        if self.reapplication is not None:
            raise ApplicationError("A reapplication is already open", type="Conflict")

    @action("Resubmit with more evidence", steps=[FundingStep.declined])
    async def resubmit_application(self, choice: Resubmission) -> str:
        """After a decline: start the next attempt, keeping the consent and the reports recorded."""
        self.after_decline = choice
        return "resubmitting"

    def validate_resubmit_application(self, choice: Resubmission) -> None:
        self.not_chosen_yet()

    @action("Request an EHC needs assessment instead", steps=[FundingStep.declined])
    async def request_needs_assessment(self, choice: NeedsAssessmentInstead) -> str:
        """After a decline: open a request for an EHC needs assessment for the pupil (a linked case)."""
        self.after_decline = choice
        return "requesting"

    def validate_request_needs_assessment(self, choice: NeedsAssessmentInstead) -> None:
        self.not_chosen_yet()


PROCESS = Process(
    name="funding_application",
    title="High needs funding or SENIF application",
    workflow=FundingApplication,
    steps=FundingStep,
    start=FundingApplicationStart,
    build_input=build_input,
    facts=FundingFacts,
    timeline=funding_timeline,
    templates=(
        "reminder",
        "escalation",
        "overdue",
        "hnf-consent",
        "hnf-submission",
        "hnf-chase",
        "hnf-decision",
    ),
)
