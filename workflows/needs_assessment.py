"""The school's request for an EHC needs assessment: the LA's clocks, tracked by the school.

1. The request and its evidence are recorded (directly by the SENDCo, or from a graduated-approach review).
2. From the day the LA received it: EHCNA-DECIDE (6 weeks), EHCNA-NO-PLAN (16 weeks), EHCNA-FINAL
   (20 weeks) are shown; the LA is chased a week before each, a late step is escalated to the headteacher
   and the parents are told, each with its citation.
3. A decision not to assess ends the case with the parents' right to appeal shown on it.
4. Assessing: the LA's request for the school's advice starts EHCNA-ADVICE (the SENDCo's, 6 weeks); a
   consultation on naming the school starts SCHOOL-CONSULT (the school's reply, 15 days); the draft plan
   starts EHCNA-DRAFT-COMMENTS (the parents' 15 days inclusive).
5. A notice that no plan will be issued ends the case with the right to appeal; a final plan sets the
   pupil's provision to E and starts the pupil's annual review case.
Exceptions (Regs 5(4), 10(4), 13(3)) are recorded with a reason and move the affected date, never silently.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.annual_review import AnnualReviewInput
    from domain.census import SenProvision
    from domain.deadline_states import DeadlineState
    from domain.needs_assessment import (
        EXCEPTION_STEPS,
        EXCEPTION_WORDS,
        AdviceRequested,
        AdviceSent,
        AppealRight,
        AssessDecision,
        ConsultationReply,
        DraftComments,
        DraftServed,
        FinalPlanIssued,
        LAReceived,
        NeedsAssessmentInput,
        NeedsAssessmentStart,
        NeedsStep,
        NoPlan,
        RecordException,
        SchoolConsulted,
        appeal_right,
        build_input,
        year_group_on,
    )
    from domain.schemas import Recipient
    from domain.timelines import (
        AnnualReviewFacts,
        NeedsAssessmentFacts,
        TimelineEntry,
        needs_assessment_timeline,
    )
    from workflows.deadlines import PARENT, SENDCO, Policy
    from workflows.kit import CaseWorkflow, day, iso
    from workflows.process import Process, action

LA = Recipient(kind="la_sen")
WAIT_FOR_LA = Policy(remind_days_before=(7,))  # the LA is chased a week before, escalated and chased after
PARENTS_WINDOW = Policy(
    remind_days_before=(),
    escalate_to=(SENDCO,),
    escalate_every=timedelta(days=28),
    chase_owner_after_breach=False,
)
TITLES = {
    "la-decision": "The LA's decision whether to carry out an EHC needs assessment",
    "no-plan-notice": "The LA's notice if it will not issue an EHC plan",
    "final-plan": "The final EHC plan",
    "school-advice": "Send the school's advice for the EHC needs assessment to the LA",
    "draft-comments": "The parents' comments on the draft EHC plan",
    "school-consultation": "Reply to the LA's consultation on naming the school in the EHC plan",
}
APPEAL_WORDS = {
    "not_assess": "not to carry out an EHC needs assessment",
    "no_plan": "not to issue an EHC plan",
}


@workflow.defn(name="needs_assessment")
class NeedsAssessment(CaseWorkflow):
    la_late_template = "ehcna-la-late"

    @workflow.init
    def __init__(self, inp: NeedsAssessmentInput) -> None:
        self.open_case(inp.case)
        self.inp = inp
        self.step = NeedsStep.awaiting_receipt
        self.requested_on: date = inp.requested_on or self.io.today
        self.received: date | None = inp.la_received
        self.decision: AssessDecision | None = None
        self.advice_request: AdviceRequested | None = None
        self.advice_sent: AdviceSent | None = None
        self.consulted: SchoolConsulted | None = None
        self.reply: ConsultationReply | None = None
        self.draft: DraftServed | None = None
        self.comments: DraftComments | None = None
        self.no_plan: NoPlan | None = None
        self.final: FinalPlanIssued | None = None
        self.appeal: AppealRight | None = None
        self.exceptions: list[RecordException] = []
        self.annual_review_case: str | None = None

    @workflow.run
    async def run(self, inp: NeedsAssessmentInput) -> str:
        origin = "from a graduated-approach review" if inp.from_case_id else "by the school"
        self.io.remark(
            "request-made",
            f"Request for an EHC needs assessment made {origin} on {day(self.requested_on)}. "
            f"Evidence: {inp.evidence}",
            inp.started_by,
        )
        if self.received is None:
            self.show(NeedsStep.awaiting_receipt)
            await workflow.wait_condition(lambda: self.received is not None)
        await self.deciding()  # EHCNA-DECIDE
        if self.decision is not None and self.decision.decision == "assess":
            await self.assessing()  # EHCNA-ADVICE, SCHOOL-CONSULT, EHCNA-DRAFT-COMMENTS, -NO-PLAN, -FINAL
        return await self.conclusion()

    # --- 2. EHCNA-DECIDE ------------------------------------------------------------------------------
    async def deciding(self) -> None:
        assert self.received is not None
        self.io.remark(
            "la-received",
            f"The LA received the request on {day(self.received)}: it must decide whether to assess by "
            f"{day(self.due('la-decision'))} (EHCNA-DECIDE)",
        )
        self.track("la-decision", TITLES["la-decision"], LA, self.is_decided, WAIT_FOR_LA, self.tell_la_late)
        for step in ("no-plan-notice", "final-plan"):
            self.row(step, LA, DeadlineState.pending)  # shown ahead; tracked once the LA decides to assess
        self.show(NeedsStep.awaiting_decision)
        await workflow.wait_condition(self.is_decided)
        assert self.decision is not None
        if self.decision.decision == "not_assess":
            for step in ("no-plan-notice", "final-plan"):
                note = self.io.note(
                    "deadline-cancelled", f"{TITLES[step]}: not needed, the LA decided not to assess"
                )
                self.row(step, LA, DeadlineState.cancelled, [note])
            await self.record_appeal_right("not_assess", self.decision.decided_on)

    # --- 4-5. Assessing: the school's advice and reply, the draft, the LA's final step -----------------
    async def assessing(self) -> None:
        self.track(
            "no-plan-notice",
            TITLES["no-plan-notice"],
            LA,
            lambda: self.no_plan is not None or self.draft is not None or self.final is not None,
            WAIT_FOR_LA,
            self.tell_la_late,
        )
        self.track("final-plan", TITLES["final-plan"], LA, self.is_final, WAIT_FOR_LA, self.tell_la_late)
        self.show(NeedsStep.assessing)
        tracked: set[str] = set()
        while True:
            await workflow.wait_condition(lambda: self.is_over() or bool(self.untracked(tracked)))
            for step in self.untracked(tracked):
                tracked.add(step)
                self.track_school_step(step)
            if self.is_over():
                break
        if self.no_plan is not None:
            self.deadlines[self.key("final-plan")].cancel()
            await self.record_appeal_right("no_plan", self.no_plan.decided_on)
        else:
            await self.issue_plan()

    def untracked(self, tracked: set[str]) -> list[str]:
        started = {
            "school-advice": self.advice_request is not None,
            "school-consultation": self.consulted is not None,
            "draft-comments": self.draft is not None,
        }
        return [step for step, on in started.items() if on and step not in tracked]

    def track_school_step(self, step: str) -> None:
        if step == "school-advice":
            self.track(step, TITLES[step], SENDCO, lambda: self.advice_sent is not None)
        elif step == "school-consultation":
            self.track(step, TITLES[step], SENDCO, lambda: self.reply is not None)
        else:
            self.track(
                step,
                TITLES[step],
                PARENT,
                lambda: self.comments is not None or self.final is not None,
                PARENTS_WINDOW,
            )
            self.step = NeedsStep.draft_plan
        self.show()

    async def issue_plan(self) -> None:
        """The final plan: the provision becomes E and the pupil's annual review case starts."""
        final = self.final
        assert final is not None
        needs = [str(n) for n in final.needs]
        await self.set_provision(SenProvision.E, needs)
        self.io.remark("provision-set", f"SEN provision E (EHC plan); needs {', '.join(needs)}")
        year_group = year_group_on(self.inp.year_group, self.requested_on, final.issued_on)
        facts = AnnualReviewFacts(cycle_start=final.issued_on, year_group=year_group)
        ref = await self.open_linked(
            "annual_review",
            "annual-review",
            lambda ref: AnnualReviewInput(case=ref, facts=facts, started_by=final.actor),
            final.actor,
            {"cycle_start": final.issued_on.isoformat(), "year_group": year_group},
        )
        self.annual_review_case = ref.case_id
        self.io.remark(
            "annual-review-started",
            f"Annual review case started: the first review is due within 12 months of {day(final.issued_on)}",
        )

    async def conclusion(self) -> str:
        self.show(NeedsStep.closed, closed=True)
        await self.settle()
        if self.final is not None:
            return "plan-issued"
        if self.no_plan is not None:
            return "no-plan"
        return "not-assessed"

    # --- the LA late, the parents' right to appeal ----------------------------------------------------
    async def record_appeal_right(self, decision: str, letter: date) -> None:
        self.appeal = appeal_right(decision, letter)  # type: ignore[arg-type]
        words = APPEAL_WORDS[decision]
        context = {
            "decision_words": words,
            "letter": letter.isoformat(),
            "mediation_by": self.appeal.mediation_by.isoformat(),
            "appeal_by": self.appeal.appeal_by.isoformat(),
            "citation": self.appeal.citation,
        }
        await self.email(
            f"appeal-right:{decision}",
            "ehcna-appeal-right",
            [PARENT],
            context,
            "appeal-right-recorded",
            f"The LA decided {words} ({day(letter)}): the parents may ask for mediation advice by "
            f"{day(self.appeal.mediation_by)} and appeal by {day(self.appeal.appeal_by)} "
            f"({self.appeal.citation})",
        )

    # --- dates ------------------------------------------------------------------------------------------
    @property
    def facts(self) -> NeedsAssessmentFacts:
        assert self.received is not None
        return NeedsAssessmentFacts(
            la_received=self.received,
            advice_requested=self.advice_request.requested_on if self.advice_request else None,
            draft_served=self.draft.served_on if self.draft else None,
            school_consulted=self.consulted.consulted_on if self.consulted else None,
        )

    def timeline(self) -> list[TimelineEntry]:
        return [] if self.received is None else needs_assessment_timeline(self.facts)

    def current_due(self, step: str) -> date:
        """The step's due date as it stands: moved by an exception, else from the timeline."""
        watch = self.deadlines.get(self.key(step))
        return watch.due if watch is not None else self.due(step)

    def is_decided(self) -> bool:
        return self.decision is not None

    def is_final(self) -> bool:
        return self.final is not None

    def is_over(self) -> bool:
        return self.no_plan is not None or self.final is not None

    # --- the case view ----------------------------------------------------------------------------------
    def next_action(self) -> str:
        step = self.step
        if step == NeedsStep.awaiting_receipt:
            return "Record the day the LA received the request: its deadlines count from that day"
        if step == NeedsStep.awaiting_decision:
            return (
                "Record the LA's decision whether to assess when it arrives: the LA must decide by "
                f"{day(self.current_due('la-decision'))} (EHCNA-DECIDE)"
            )
        if step in (NeedsStep.assessing, NeedsStep.draft_plan):
            todo = []
            if self.advice_request is not None and self.advice_sent is None:
                todo.append(
                    f"send the school's advice to the LA by {day(self.current_due('school-advice'))} "
                    "(EHCNA-ADVICE)"
                )
            if self.consulted is not None and self.reply is None:
                todo.append(
                    "reply to the LA's consultation on naming the school by "
                    f"{day(self.current_due('school-consultation'))} (SCHOOL-CONSULT)"
                )
            if self.draft is None:
                todo.append(
                    "record the draft plan when the LA serves it, or its notice that no plan will be issued "
                    f"(due by {day(self.current_due('no-plan-notice'))}, EHCNA-NO-PLAN)"
                )
            else:
                if self.comments is None:
                    todo.append(
                        "record the parents' comments on the draft (their 15 days end "
                        f"{day(self.current_due('draft-comments'))}, EHCNA-DRAFT-COMMENTS)"
                    )
                todo.append(
                    "record the final plan when the LA issues it (due by "
                    f"{day(self.current_due('final-plan'))}, EHCNA-FINAL)"
                )
            text = "; ".join(todo)
            return text[0].upper() + text[1:]
        if self.appeal is not None:
            return (
                f"Nothing more: the LA decided {APPEAL_WORDS[self.appeal.decision]}. The parents may ask for "
                f"mediation advice by {day(self.appeal.mediation_by)} and appeal to the tribunal by "
                f"{day(self.appeal.appeal_by)}"
            )
        if self.final is not None:
            return "Nothing more: the EHC plan is final and the pupil's annual review case has started"
        return "Nothing more on this case"

    def view(self) -> dict[str, Any]:
        """What the case shows: the request's key dates and decisions (no names)."""
        return {
            "year_group": self.inp.year_group,
            "requested_on": iso(self.requested_on),
            "la_received": iso(self.received),
            "from_case": self.inp.from_case_id,
            "la_decision": self.decision.decision if self.decision else None,
            "la_decision_date": iso(self.decision.decided_on) if self.decision else None,
            "advice_requested": iso(self.advice_request.requested_on) if self.advice_request else None,
            "advice_sent": iso(self.advice_sent.sent_on) if self.advice_sent else None,
            "school_consulted": iso(self.consulted.consulted_on) if self.consulted else None,
            "consultation_reply": iso(self.reply.replied_on) if self.reply else None,
            "draft_served": iso(self.draft.served_on) if self.draft else None,
            "parents_commented": iso(self.comments.received_on) if self.comments else None,
            "no_plan_notice": iso(self.no_plan.decided_on) if self.no_plan else None,
            "final_plan_issued": iso(self.final.issued_on) if self.final else None,
            "annual_review_case": self.annual_review_case,
            "appeal_right": self.appeal.model_dump(mode="json") if self.appeal else None,
            "exceptions": [
                {"regulation": e.regulation, "new_due": e.new_due.isoformat(), "reason": e.reason}
                for e in self.exceptions
            ],
        }

    # --- checks the actions share -------------------------------------------------------------------------
    def not_future(self, d: date) -> None:
        if d > self.today:
            raise ApplicationError("the date cannot be in the future", type="Invalid")

    def not_before_receipt(self, d: date) -> None:
        if self.received is not None and d < self.received:
            raise ApplicationError(
                f"the date cannot be before the LA received the request ({day(self.received)})",
                type="Invalid",
            )

    def require_assessing(self) -> None:
        if self.decision is None or self.decision.decision != "assess" or self.is_over():
            raise ApplicationError("the LA is not carrying out the assessment now", type="Conflict")

    # --- what the SENDCo does: one Update each ----------------------------------------------------------
    @action("Record when the LA received the request", steps=[NeedsStep.awaiting_receipt])
    async def record_la_received(self, received: LAReceived) -> str:
        """Record the day the LA received the request: the LA's deadlines count from it."""
        self.received = received.received_on
        await self.io.log(
            "la-receipt-recorded", f"Received by the LA on {day(received.received_on)}", received.actor
        )
        return received.received_on.isoformat()

    def validate_record_la_received(self, received: LAReceived) -> None:
        if self.received is not None:
            raise ApplicationError("the day the LA received the request is already recorded", type="Conflict")
        self.not_future(received.received_on)
        if received.received_on < self.requested_on:
            raise ApplicationError("the LA cannot receive the request before it was made", type="Invalid")

    @action("Record the LA's decision whether to assess", steps=[NeedsStep.awaiting_decision])
    async def record_assess_decision(self, decision: AssessDecision) -> str:
        """Record the LA's decision to carry out the assessment, or not to."""
        self.decision = decision
        words = "to carry out the assessment" if decision.decision == "assess" else "not to assess"
        await self.io.log(
            "la-decision-recorded", f"The LA decided {words} on {day(decision.decided_on)}", decision.actor
        )
        return decision.decision

    def validate_record_assess_decision(self, decision: AssessDecision) -> None:
        if self.received is None:
            raise ApplicationError("record the day the LA received the request first", type="Conflict")
        if self.decision is not None:
            raise ApplicationError("the LA's decision is already recorded", type="Conflict")
        self.not_future(decision.decided_on)
        self.not_before_receipt(decision.decided_on)

    @action("Record the LA's request for the school's advice", steps=[NeedsStep.assessing])
    async def record_advice_request(self, request: AdviceRequested) -> str:
        """The LA asked the school for its advice: it is due 6 weeks later (EHCNA-ADVICE)."""
        self.advice_request = request
        self.show()
        await self.io.log(
            "advice-request-recorded",
            f"The LA asked for the school's advice on {day(request.requested_on)}: due by "
            f"{day(self.due('school-advice'))} (EHCNA-ADVICE)",
            request.actor,
        )
        return "recorded"

    def validate_record_advice_request(self, request: AdviceRequested) -> None:
        self.require_assessing()
        if self.advice_request is not None:
            raise ApplicationError("the LA's request for advice is already recorded", type="Conflict")
        self.not_future(request.requested_on)
        self.not_before_receipt(request.requested_on)

    @action("Record the school's advice sent", steps=[NeedsStep.assessing, NeedsStep.draft_plan])
    async def record_advice_sent(self, sent: AdviceSent) -> str:
        """Record the day the school sent its advice to the LA."""
        self.advice_sent = sent
        self.show()
        await self.io.log("advice-sent", f"School's advice sent to the LA on {day(sent.sent_on)}", sent.actor)
        return "recorded"

    def validate_record_advice_sent(self, sent: AdviceSent) -> None:
        if self.advice_request is None:
            raise ApplicationError("the LA has not asked for the school's advice", type="Conflict")
        if self.advice_sent is not None:
            raise ApplicationError("the school's advice is already recorded as sent", type="Conflict")
        self.not_future(sent.sent_on)
        if sent.sent_on < self.advice_request.requested_on:
            raise ApplicationError("the advice cannot be sent before the LA asked for it", type="Invalid")

    @action(
        "Record the LA's consultation on naming the school", steps=[NeedsStep.assessing, NeedsStep.draft_plan]
    )
    async def record_consultation(self, consulted: SchoolConsulted) -> str:
        """The LA consulted the school about being named: it replies within 15 days (SCHOOL-CONSULT)."""
        self.consulted = consulted
        self.show()
        await self.io.log(
            "consultation-recorded",
            f"The LA consulted the school on {day(consulted.consulted_on)}: reply by "
            f"{day(self.due('school-consultation'))} (SCHOOL-CONSULT)",
            consulted.actor,
        )
        return "recorded"

    def validate_record_consultation(self, consulted: SchoolConsulted) -> None:
        self.require_assessing()
        if self.consulted is not None:
            raise ApplicationError("the LA's consultation is already recorded", type="Conflict")
        self.not_future(consulted.consulted_on)
        self.not_before_receipt(consulted.consulted_on)

    @action("Record the school's consultation reply", steps=[NeedsStep.assessing, NeedsStep.draft_plan])
    async def record_consultation_reply(self, reply: ConsultationReply) -> str:
        """Record the school's reply to the LA's consultation."""
        self.reply = reply
        self.show()
        await self.io.log("consultation-replied", f"Reply sent on {day(reply.replied_on)}", reply.actor)
        return "recorded"

    def validate_record_consultation_reply(self, reply: ConsultationReply) -> None:
        if self.consulted is None:
            raise ApplicationError("the LA has not consulted the school", type="Conflict")
        if self.reply is not None:
            raise ApplicationError("the school's reply is already recorded", type="Conflict")
        self.not_future(reply.replied_on)
        if reply.replied_on < self.consulted.consulted_on:
            raise ApplicationError("the reply cannot be before the consultation", type="Invalid")

    @action("Record the draft plan", steps=[NeedsStep.assessing])
    async def record_draft(self, draft: DraftServed) -> str:
        """The LA served the draft plan: the parents have 15 days to comment (EHCNA-DRAFT-COMMENTS)."""
        self.draft = draft
        await self.io.log("draft-plan-recorded", f"Draft plan served on {day(draft.served_on)}", draft.actor)
        return "recorded"

    def validate_record_draft(self, draft: DraftServed) -> None:
        self.require_assessing()
        if self.draft is not None:
            raise ApplicationError("the draft plan is already recorded", type="Conflict")
        self.not_future(draft.served_on)
        self.not_before_receipt(draft.served_on)

    @action("Record the parents' comments on the draft plan", steps=[NeedsStep.draft_plan])
    async def record_draft_comments(self, comments: DraftComments) -> str:
        """Record the day the parents commented on the draft plan."""
        self.comments = comments
        self.show()
        await self.io.log(
            "draft-comments-recorded", f"Parents' comments on {day(comments.received_on)}", comments.actor
        )
        return "recorded"

    def validate_record_draft_comments(self, comments: DraftComments) -> None:
        self.require_assessing()
        if self.draft is None:
            raise ApplicationError("the LA has not served a draft plan", type="Conflict")
        if self.comments is not None:
            raise ApplicationError("the parents' comments are already recorded", type="Conflict")
        self.not_future(comments.received_on)
        if comments.received_on < self.draft.served_on:
            raise ApplicationError("the comments cannot be before the draft was served", type="Invalid")

    @action("Record the LA's notice that no plan will be issued", steps=[NeedsStep.assessing])
    async def record_no_plan(self, notice: NoPlan) -> str:
        """The LA will not issue a plan: the case ends with the parents' right to appeal."""
        self.no_plan = notice
        await self.io.log(
            "no-plan-recorded",
            f"The LA decided not to issue a plan on {day(notice.decided_on)}",
            notice.actor,
        )
        return "recorded"

    def validate_record_no_plan(self, notice: NoPlan) -> None:
        self.require_assessing()
        if self.draft is not None:
            raise ApplicationError("the LA has served a draft plan: record the final plan", type="Conflict")
        self.not_future(notice.decided_on)
        self.not_before_receipt(notice.decided_on)

    @action("Record the issued EHC plan", steps=[NeedsStep.draft_plan])
    async def record_issued_plan(self, plan: FinalPlanIssued) -> str:
        """The LA issued the final plan: the provision becomes E and the annual review case starts."""
        self.final = plan
        await self.io.log(
            "final-plan-recorded", f"Final EHC plan issued on {day(plan.issued_on)}", plan.actor
        )
        return "recorded"

    def validate_record_issued_plan(self, plan: FinalPlanIssued) -> None:
        self.require_assessing()
        if self.draft is None:
            raise ApplicationError("record the draft plan before the final plan", type="Conflict")
        self.not_future(plan.issued_on)
        if plan.issued_on < self.draft.served_on:
            raise ApplicationError("the final plan cannot be issued before the draft", type="Invalid")

    @action(
        "Record an exception to the LA's time limit",
        steps=[NeedsStep.awaiting_decision, NeedsStep.assessing, NeedsStep.draft_plan],
    )
    async def record_exception(self, exception: RecordException) -> str:
        """Record why the LA's time limit does not apply (Regs 5(4), 10(4), 13(3)) and move its date."""
        self.exceptions.append(exception)
        reason = f"Exception under Regs {exception.regulation}: {exception.reason}"
        for step in EXCEPTION_STEPS[exception.regulation]:
            self.deadlines[self.key(step)].move(exception.new_due, exception.actor, reason)
        await self.io.log(
            "exception-recorded",
            f"{reason}. The date for {EXCEPTION_WORDS[exception.regulation]} "
            f"moves to {day(exception.new_due)}",
            exception.actor,
        )
        self.show()
        return exception.new_due.isoformat()

    def validate_record_exception(self, exception: RecordException) -> None:
        for step in EXCEPTION_STEPS[exception.regulation]:
            watch = self.deadlines.get(self.key(step))
            if watch is None or watch.is_final or not self.is_open(watch.key):
                raise ApplicationError(
                    f"{EXCEPTION_WORDS[exception.regulation].capitalize()} is not awaited now, "
                    "so its date cannot move",
                    type="Conflict",
                )
            if exception.new_due <= watch.due:
                raise ApplicationError(
                    f"an exception extends the time limit: the new date must be after {day(watch.due)}",
                    type="Invalid",
                )


PROCESS = Process(
    name="needs_assessment",
    title="Request for an EHC needs assessment",
    workflow=NeedsAssessment,
    steps=NeedsStep,
    start=NeedsAssessmentStart,
    build_input=build_input,
    facts=NeedsAssessmentFacts,
    timeline=needs_assessment_timeline,
    templates=("reminder", "escalation", "overdue", "ehcna-la-late", "ehcna-appeal-right"),
)
