"""The graduated approach: SEN support in assess, plan, do, review cycles, one per run (continue-as-new).

1. Start (first cycle): the register's provision becomes K with the ranked needs; the parents are told at
   once that special educational provision is being made, and who to contact (GA-INFORM).
2. Assess: the class teacher's and the SENDCo's assessments, the parents' and the pupil's views, each asked
   for by email and chased, due a configured number of school days into the cycle (GA-REVIEW's cycle).
3. Plan: outcomes, the provision (interventions of the provision map, recorded on it) and the agreed review
   date (GA-REVIEW: by default the end of the current term on the school's calendar). The plan goes to the
   parents, who confirm they have seen it.
4. Do: the class teacher logs notes and intervention sessions against the plan.
5. Review: the meeting with the parents (invitation with .ics), progress on each outcome and the decision:
   another cycle; a specialist (recorded on the case and flagged; an EP opens a linked EP referral case,
   whose report's recommendations come back to this case and its next plan); a request for an EHC needs
   assessment (a linked case); or the end of SEN support (provision N, the parents told).
Across cycles: GA-PARENT-MEETINGS each term, GA-ANNUAL-REPORT yearly, GA-SPECIALIST after the configured
number of cycles in a row without expected progress (workflows/graduated_approach_steps.py).
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.census import SenProvision
    from domain.ep_referral import SERVICES, EPReferralInput, Evidence, SpecialistAdvice
    from domain.graduated_approach import (
        DECISION_WORDS,
        PROGRESS_WORDS,
        SOURCE_WORDS,
        SPECIALIST_WORDS,
        AnnualReport,
        Assessment,
        GAStep,
        GraduatedApproachInput,
        GraduatedApproachStart,
        ParentMeeting,
        PlanSeen,
        ReviewMeeting,
        ReviewOutcome,
        SessionLog,
        SupportPlan,
        build_input,
        without_expected_progress,
    )
    from domain.needs_assessment import NeedsAssessmentInput
    from domain.provision import PlanProvision
    from domain.schemas import ENGINE, Role
    from domain.timelines import GraduatedApproachFacts, graduated_approach_timeline
    from workflows.case_io import RECORD_OPTIONS
    from workflows.deadlines import PARENT, SENDCO
    from workflows.graduated_approach_steps import SPECIALIST_FLAG, SupportCase
    from workflows.kit import day
    from workflows.process import STAFF_WHO_ACT, Process, action

WITH_CLASS_TEACHER = (*STAFF_WHO_ACT, Role.staff)
EP_REFERRAL_CASE = "ep-referral-case"  # a review's EP referral opens a linked case (saved histories: none)


@workflow.defn(name="graduated_approach")
class GraduatedApproach(SupportCase):
    @workflow.init
    def __init__(self, inp: GraduatedApproachInput) -> None:
        self.start_cycle(inp)

    @workflow.run
    async def run(self, inp: GraduatedApproachInput) -> str:
        if inp.cycle == 1:
            await self.starting()  # 1. provision K, GA-INFORM
        self.watch_across_cycles()  # GA-PARENT-MEETINGS, GA-ANNUAL-REPORT
        await self.assessing()  # 2. the four assessments and views
        await self.planning()  # 3. GA-REVIEW: the agreed review date
        await self.doing()  # 4. sessions and notes, until the review meeting is set
        await self.reviewing()  # 5. the meeting, progress, the decision
        return await self.conclusion()

    # --- 1. Start: provision K, GA-INFORM ---------------------------------------------------------
    async def starting(self) -> None:
        needs = [str(n) for n in self.inp.needs]
        await self.set_provision(SenProvision.K, needs)
        self.io.remark(
            "sen-support-started",
            f"SEN support (provision K) from {day(self.facts.cycle_start)}; needs {', '.join(needs)}. "
            f"Why: {self.inp.reason}",
            self.inp.started_by,
        )
        await self.tell_parents_support_begins()

    # --- 2. Assess ----------------------------------------------------------------------------------
    async def assessing(self) -> None:
        self.io.remark(
            "cycle-started",
            f"Cycle {self.inp.cycle} from {day(self.facts.cycle_start)}: assessments due by "
            f"{day(self.due('assess'))} (GA-REVIEW)",
        )
        self.show(GAStep.assess)
        await self.ask_for_assessments()
        await workflow.wait_condition(lambda: self.support_plan is not None or not self.missing())
        if self.support_plan is None:
            self.show(GAStep.plan)

    # --- 3. Plan: GA-REVIEW -------------------------------------------------------------------------
    async def planning(self) -> None:
        await workflow.wait_condition(lambda: self.support_plan is not None)
        plan = self.support_plan
        assert plan is not None
        self.facts = self.facts.model_copy(update={"review_on": plan.review_on or self.default_review})
        case = self.inp.case
        provision = PlanProvision(
            case_id=case.case_id,
            cycle=self.inp.cycle,
            pupil_id=case.pupil_id,
            school_id=case.school_id,
            interventions=plan.interventions,
        )
        try:
            await workflow.execute_activity("record_plan_provision", provision, **RECORD_OPTIONS)
        except ActivityError as err:
            reason = err.cause.message if isinstance(err.cause, ApplicationError) else "it could not be saved"
            self.flag("plan-provision-not-recorded")
            self.io.remark("plan-provision-not-recorded", f"The provision map was not updated: {reason}")
        self.track(
            "review", "Review the support plan with the parents", SENDCO, lambda: self.outcome is not None
        )
        await self.send_plan(plan)
        self.show(GAStep.do)

    # --- 4. Do --------------------------------------------------------------------------------------
    async def doing(self) -> None:
        await workflow.wait_condition(lambda: self.meeting is not None)

    # --- 5. Review ------------------------------------------------------------------------------------
    async def reviewing(self) -> None:
        sent = 0
        while self.outcome is None:
            if sent != self.meeting_version:
                sent = self.meeting_version
                await self.send_invitation()
                self.show(GAStep.review)
            await workflow.wait_condition(
                lambda sent=sent: self.outcome is not None or self.meeting_version != sent
            )

    async def conclusion(self) -> str:
        outcome = self.outcome
        assert outcome is not None and self.meeting is not None
        self.parent_meetings.append(self.meeting_day)  # the review meeting counts (GA-PARENT-MEETINGS)
        self.without_progress = (
            self.without_progress + 1 if without_expected_progress(outcome.progress) else 0
        )
        if outcome.decision == "specialist":
            await self.refer_to_specialist(outcome)
        elif outcome.decision == "needs_assessment":
            await self.request_needs_assessment(outcome)
        elif outcome.decision == "end_support":
            return await self.end_support(outcome)
        elif self.without_progress >= self.inp.specialist_after_cycles and SPECIALIST_FLAG not in self.flags:
            await self.suggest_specialist()
        return await self.next_cycle()

    async def refer_to_specialist(self, outcome: ReviewOutcome) -> None:
        """The referral is recorded on the case and flagged; for an EP, a linked EP referral case opens."""
        assert outcome.specialist is not None
        who = SPECIALIST_WORDS[outcome.specialist]
        self.referrals.append(who)
        self.flags = [f for f in self.flags if f != SPECIALIST_FLAG]
        self.flag(f"referral-{outcome.specialist}")
        self.io.remark(
            "specialist-referral",
            f"Referral to {who} recorded at the review of cycle {self.inp.cycle} (GA-SPECIALIST); "
            "make the referral with the service",
            outcome.actor,
        )
        if outcome.specialist == "ep" and workflow.patched(EP_REFERRAL_CASE):
            await self.open_ep_referral(outcome)

    async def open_ep_referral(self, outcome: ReviewOutcome) -> None:
        """The EP referral, linked: the question, and the evidence of this cycle's plan, review and views."""
        plan = self.support_plan
        assert plan is not None
        views = {s: a.summary for s, a in self.assessments.items()}
        evidence = Evidence(
            support_plans=f"Cycle {self.inp.cycle} of SEN support: "
            + "; ".join(
                f"{o} ({PROGRESS_WORDS[p]})" for o, p in zip(plan.outcomes, outcome.progress, strict=True)
            ),
            provision=f"{len(plan.interventions)} interventions from the provision map",
            parents_views=views.get("parents", ""),
            pupil_views=views.get("pupil", ""),
        )
        question = outcome.note.strip() or "What would help the pupil make the expected progress?"
        settings, inp, actor = SERVICES["ep"], self.inp, outcome.actor
        ref = await self.open_linked(
            "ep_referral",
            "ep-referral",
            lambda ref: EPReferralInput(
                case=ref,
                started_by=actor,
                settings=settings,
                question=question,
                evidence=evidence,
                year_group=inp.year_group,
                estimate=settings.default_estimate,
                support_case=inp.case.workflow_id,
            ),
            actor,
            {
                "service": "ep",
                "question": question,
                "evidence": evidence.model_dump(),
                "year_group": inp.year_group,
            },
            child=False,  # this case continues as new each cycle: the referral runs on its own
        )
        self.io.remark("ep-referral-opened", f"EP referral opened as case {ref.case_id[:8]}", actor)

    @workflow.update
    async def specialist_advice(self, advice: SpecialistAdvice) -> str:
        """A specialist's report came back (a linked referral): its recommendations are for the next plan."""
        self.recommendations = [*self.recommendations, *advice.recommendations][-20:]
        self.io.remark(
            "specialist-recommendations",
            f"{advice.specialist.capitalize()}'s report of {day(advice.received_on)} "
            f"(case {advice.from_case_id[:8]}) recommends: " + "; ".join(advice.recommendations),
        )
        self.show()
        return "added"

    async def request_needs_assessment(self, outcome: ReviewOutcome) -> None:
        assert self.support_plan is not None
        evidence = (
            f"SEN support for {self.inp.cycle} cycle{'s' if self.inp.cycle > 1 else ''}; latest outcomes: "
            + "; ".join(
                f"{o} ({PROGRESS_WORDS[p]})"
                for o, p in zip(self.support_plan.outcomes, outcome.progress, strict=True)
            )
        )
        inp, actor = self.inp, outcome.actor
        ref = await self.open_linked(
            "needs_assessment",
            "needs-assessment",
            lambda ref: NeedsAssessmentInput(
                case=ref,
                started_by=actor,
                year_group=inp.year_group,
                evidence=evidence,
                needs=inp.needs,
                requested_on=self.today,
                from_case_id=inp.case.case_id,
            ),
            actor,
            {"year_group": inp.year_group, "evidence": evidence, "needs": [str(n) for n in inp.needs]},
        )
        self.flags = [f for f in self.flags if f != SPECIALIST_FLAG]
        self.io.remark(
            "needs-assessment-requested",
            f"Request for an EHC needs assessment opened as case {ref.case_id[:8]}; SEN support goes on",
            actor,
        )

    async def end_support(self, outcome: ReviewOutcome) -> str:
        await self.set_provision(SenProvision.N, [])
        await self.email(
            "ended",
            "ga-ended",
            [PARENT],
            {"cycle": self.inp.cycle},
            "parents-told-support-ended",
            "SEN support ended (provision N): the parents are told",
        )
        self.io.remark("sen-support-ended", "SEN support ended: provision N on the register", outcome.actor)
        await self.stop_watching(closing=True)
        self.show(GAStep.closed, closed=True)
        await self.settle()
        return "ended"

    async def next_cycle(self) -> str:
        assert self.outcome is not None
        await self.stop_watching(closing=False)
        following = GraduatedApproachInput(
            **self.inp.model_dump(
                include={
                    "case",
                    "needs",
                    "reason",
                    "class_teacher_id",
                    "year_group",
                    "assess_school_days",
                    "specialist_after_cycles",
                }
            ),
            started_by=ENGINE,
            cycle=self.inp.cycle + 1,
            cycle_start=self.today,
            started_on=self.inp.started_on or self.facts.cycle_start,
            without_progress=self.without_progress,
            parent_meetings=self.parent_meetings[-9:],
            terms_settled=self.terms_settled[-6:],
            annual_report_due=self.annual_report_due,
            annual_reports=self.annual_reports,
            referrals=self.referrals,
            recommendations=self.recommendations,
            flags=self.flags,
        )
        self.io.remark(
            "next-cycle",
            f"Decision: {DECISION_WORDS[self.outcome.decision]}. Cycle {following.cycle} starts "
            f"{day(self.today)}",
        )
        self.show()
        await self.settle()
        workflow.continue_as_new(following)

    # --- what the school does: one Update each ------------------------------------------------------
    @action("Record an assessment or views", steps=[GAStep.assess, GAStep.plan], roles=WITH_CLASS_TEACHER)
    async def record_assessment(self, assessment: Assessment) -> str:
        """Record the class teacher's or the SENDCo's assessment, or the parents' or the pupil's views."""
        self.assessments[assessment.source] = assessment
        self.show()
        await self.io.log(
            "assessment-recorded",
            f"{SOURCE_WORDS[assessment.source]}, received {day(assessment.received_on)}: "
            f"{assessment.summary}",
            assessment.actor,
        )
        return assessment.source

    def validate_record_assessment(self, assessment: Assessment) -> None:
        if self.support_plan is not None:
            raise ApplicationError(
                "the support plan is recorded: this cycle's assessment is over", type="Conflict"
            )
        if assessment.source in self.assessments:
            words = SOURCE_WORDS[assessment.source].lower()
            raise ApplicationError(f"{words} is already recorded for this cycle", type="Conflict")
        if assessment.actor.role == Role.staff and assessment.source in ("sendco", "parents"):
            raise ApplicationError("Only the SENDCo or headteacher can record this.", type="Forbidden")
        self.not_future(assessment.received_on)

    @action("Record the support plan", steps=[GAStep.assess, GAStep.plan])
    async def record_plan(self, plan: SupportPlan) -> str:
        """Record the outcomes, the provision and the agreed review date: the plan goes to the parents."""
        self.support_plan = plan
        review = plan.review_on or self.default_review
        await self.io.log(
            "plan-recorded",
            f"{len(plan.outcomes)} outcomes, {len(plan.interventions)} interventions; review on "
            f"{day(review)} (GA-REVIEW{'' if plan.review_on else ', the end of term'})",
            plan.actor,
        )
        return review.isoformat()

    def validate_record_plan(self, plan: SupportPlan) -> None:
        if self.support_plan is not None:
            raise ApplicationError("this cycle's support plan is already recorded", type="Conflict")
        staff_missing = [s for s in ("class_teacher", "sendco") if s not in self.assessments]
        if staff_missing:
            words = " and ".join(SOURCE_WORDS[s].lower() for s in staff_missing)
            raise ApplicationError(f"record {words} before the plan", type="Conflict")
        if plan.review_on is not None:
            if plan.review_on <= self.today:
                raise ApplicationError("the review date must be after today", type="Invalid")
            if not self.calendar.is_school_day(plan.review_on):
                raise ApplicationError(
                    f"{day(plan.review_on)} is not a school day: choose a day in term", type="Invalid"
                )

    @action("Record that the parents have seen the plan", steps=[GAStep.do, GAStep.review])
    async def confirm_plan_seen(self, seen: PlanSeen) -> str:
        """Record the day the parents confirmed they have seen the support plan."""
        self.plan_seen_on = seen.seen_on
        self.show()
        await self.io.log(
            "plan-seen", f"The parents confirmed they have seen the plan on {day(seen.seen_on)}", seen.actor
        )
        return "recorded"

    def validate_confirm_plan_seen(self, seen: PlanSeen) -> None:
        self.require_plan()
        if self.plan_seen_on is not None:
            raise ApplicationError(
                "the parents have already confirmed they have seen the plan", type="Conflict"
            )
        self.not_future(seen.seen_on)

    @action("Log a session or a note", steps=[GAStep.do, GAStep.review], roles=WITH_CLASS_TEACHER)
    async def log_session(self, entry: SessionLog) -> str:
        """Log an intervention session or a note against the plan (the class teacher may)."""
        self.sessions += 1
        what = f"Session of intervention {entry.intervention_id}" if entry.intervention_id else "Note"
        length = f", {entry.minutes} minutes" if entry.minutes else ""
        note = f": {entry.note}" if entry.note.strip() else ""
        await self.io.log("session-logged", f"{what} on {day(entry.on)}{length}{note}", entry.actor)
        return "logged"

    def validate_log_session(self, entry: SessionLog) -> None:
        plan = self.require_plan()
        self.require_open()
        planned = {i.intervention_id for i in plan.interventions}
        if entry.intervention_id is not None and entry.intervention_id not in planned:
            raise ApplicationError("that intervention is not in this cycle's plan", type="Invalid")
        self.not_future(entry.on)

    @action("Set the review meeting", steps=[GAStep.do, GAStep.review])
    async def set_review_meeting(self, meeting: ReviewMeeting) -> str:
        """Set (or move) the review meeting: the parents get an invitation with a calendar file."""
        old = self.meeting
        self.meeting = meeting
        self.meeting_version += 1
        moved = f" (moved from {day(old.meeting_at.date())})" if old else ""
        await self.io.log(
            "review-meeting-set",
            f"{day(meeting.meeting_at.date())} at {meeting.meeting_at:%H:%M}{moved}",
            meeting.actor,
        )
        return meeting.meeting_at.isoformat()

    def validate_set_review_meeting(self, meeting: ReviewMeeting) -> None:
        self.require_plan()
        self.require_open()
        if meeting.meeting_at.date() < self.today:
            raise ApplicationError(f"{day(meeting.meeting_at.date())} is in the past", type="Invalid")
        if self.meeting is not None and meeting.meeting_at == self.meeting.meeting_at:
            raise ApplicationError("the meeting is already at that time", type="Invalid")

    @action("Record the review", steps=[GAStep.review])
    async def record_review(self, outcome: ReviewOutcome) -> str:
        """Record progress against each outcome and the decision."""
        self.outcome = outcome
        assert self.support_plan is not None
        progress = "; ".join(
            f"{o}: {PROGRESS_WORDS[p]}"
            for o, p in zip(self.support_plan.outcomes, outcome.progress, strict=True)
        )
        note = f". {outcome.note}" if outcome.note.strip() else ""
        await self.io.log(
            "review-recorded",
            f"Review of {day(self.meeting_day)}: {progress}. "
            f"Decision: {DECISION_WORDS[outcome.decision]}{note}",
            outcome.actor,
        )
        return outcome.decision

    def validate_record_review(self, outcome: ReviewOutcome) -> None:
        plan = self.require_plan()
        self.require_open()
        if self.meeting is None:
            raise ApplicationError("set the review meeting first", type="Conflict")
        if self.today < self.meeting_day:
            raise ApplicationError(
                f"the meeting is on {day(self.meeting_day)}: record the review once it is held",
                type="Conflict",
            )
        if len(outcome.progress) != len(plan.outcomes):
            raise ApplicationError(
                f"give the progress on each of the plan's {len(plan.outcomes)} outcomes, in order",
                type="Invalid",
            )

    @action("Record a meeting with the parents")
    async def record_parent_meeting(self, meeting: ParentMeeting) -> str:
        """Record a meeting with the parents other than the review (GA-PARENT-MEETINGS)."""
        self.parent_meetings.append(meeting.met_on)
        note = f": {meeting.note}" if meeting.note.strip() else ""
        await self.io.log("parent-meeting", f"Met the parents on {day(meeting.met_on)}{note}", meeting.actor)
        return "recorded"

    def validate_record_parent_meeting(self, meeting: ParentMeeting) -> None:
        self.require_open()
        self.not_future(meeting.met_on)

    @action("Record the annual report to the parents")
    async def record_annual_report(self, report: AnnualReport) -> str:
        """Record the day the yearly report on progress went to the parents (GA-ANNUAL-REPORT)."""
        self.annual_reports += 1
        await self.io.log(
            "annual-report-sent", f"Annual report sent to the parents on {day(report.sent_on)}", report.actor
        )
        return "recorded"

    def validate_record_annual_report(self, report: AnnualReport) -> None:
        self.require_open()
        self.not_future(report.sent_on)


PROCESS = Process(
    name="graduated_approach",
    title="SEN support (the graduated approach)",
    workflow=GraduatedApproach,
    steps=GAStep,
    start=GraduatedApproachStart,
    build_input=build_input,
    facts=GraduatedApproachFacts,
    timeline=graduated_approach_timeline,
    templates=(
        "reminder",
        "escalation",
        "overdue",
        "ga-inform",
        "ga-assessment-request",
        "ga-plan",
        "ga-invitation",
        "ga-specialist",
        "ga-ended",
    ),
    one_open_per_pupil=True,
)
