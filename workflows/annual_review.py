"""The EHCP annual review: one durable case per plan, one review cycle per run (continue-as-new).

1. Planning: AR-DUE (AR-UNDER5 for an under-5) and, in a transfer year, PT-15FEB / PT-31MAR / PT-POST16
   with PT-LATEST-MEETING. The SENDCo sets the meeting date (set-meeting-date: reminded, escalated).
2. Meeting set: a date after the latest meeting date, or with under 2 weeks' notice, needs a reason, is
   flagged and the headteacher told. Invitations with .ics (AR-INVITE); advice requests to each adviser
   (AR-ADVICE-REQUEST), each chased. A meeting moved before it is held re-plans every date.
3. Advice pack: by AR-ADVICE-CIRCULATE every invitee has the advice; missing advisers are named.
4. Meeting held: attendance, views, progress, recommendation (preparing for adulthood from Year 9).
5. Report: approved by the headteacher, sent to the LA and every invitee by AR-REPORT.
6. LA decision by AR-LA-DECISION (the LA chased a week before; the parent told when it is late).
   Amend: AR-AMEND-PROPOSAL, AR-AMEND-COMMENTS, AR-FINAL-AMENDED, the final plan against the PT date.
7. Conclusion: the decision date starts the next cycle (continue-as-new); cease ends the case.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.annual_review import (
        AdviceReceived,
        AmendmentNotice,
        AnnualReviewInput,
        AnnualReviewStart,
        AttendanceReply,
        FinalPlan,
        LADecision,
        MeetingRecord,
        ParentComments,
        ParentViews,
        ReportDraft,
        RescheduleMeeting,
        ReviewStep,
        SetMeeting,
        dispute_window,
        needs_preparing_for_adulthood,
        next_cycle_facts,
    )
    from domain.census import SenProvision
    from domain.deadline_states import DeadlineState
    from domain.schemas import ENGINE
    from domain.timelines import AnnualReviewFacts, annual_review_timeline
    from workflows.annual_review_steps import ReviewCase
    from workflows.deadlines import HEADTEACHER, PARENT, SENDCO, Policy
    from workflows.kit import day, labels
    from workflows.process import Process, action

# The step shows "meeting set" in the write of the SENDCo's action, not only once the emails have gone.
MEETING_SET_SHOWN_AT_ONCE = "meeting-set-shown-with-the-action"
QUIET = Policy(remind_days_before=())  # rows that need no reminder: the engine itself acts on the day
WAIT_FOR_LA = Policy(remind_days_before=(7,))  # the LA is chased a week before, escalated and chased after
REVIEW_DUE = Policy(remind_days_before=(), chase_owner_after_breach=False)
PARENTS_WINDOW = Policy(
    remind_days_before=(),
    escalate_to=(SENDCO,),
    escalate_every=timedelta(days=28),
    chase_owner_after_breach=False,
)


@workflow.defn(name="annual_review")
class AnnualReview(ReviewCase):
    @workflow.init
    def __init__(self, inp: AnnualReviewInput) -> None:
        self.start_cycle(inp)
        self.replies: dict[str, AttendanceReply] = {}  # the invitees' answers, by who answered

    @workflow.run
    async def run(self, inp: AnnualReviewInput) -> str:
        await self.planning()  # 1. AR-DUE (AR-UNDER5), PT-*, PT-LATEST-MEETING
        await self.preparing_the_meeting()  # 2-4. AR-INVITE, AR-ADVICE-REQUEST, AR-ADVICE-CIRCULATE
        await self.writing_the_report()  # 5. AR-REPORT
        await self.waiting_for_the_la()  # 6. AR-LA-DECISION
        if self.decided("amend"):
            await self.amending_the_plan()  # AR-AMEND-PROPOSAL, AR-AMEND-COMMENTS, AR-FINAL-AMENDED
        return await self.conclusion()  # 7. the next cycle, or the end

    # --- 1. Planning: AR-DUE / AR-UNDER5, PT-*, the meeting date ------------------------------------
    async def planning(self) -> None:
        review = self.track("review-due", "Conclude the annual review", self.la, self.is_decided, REVIEW_DUE)
        if self.entry("phase-transfer") is not None:
            transfer = Policy(remind_days_before=(), escalate_to=(HEADTEACHER, self.la))
            self.track(
                "phase-transfer",
                "Final amended plan naming the next setting",
                self.la,
                self.has_final,
                transfer,
            )
            self.track(
                "latest-meeting", "Hold the phase-transfer review meeting", SENDCO, self.is_held, QUIET
            )
        self.io.remark(
            "cycle-started",
            f"Annual review cycle {self.inp.cycle} from {day(self.facts.cycle_start)}: "
            f"review due by {day(review.due)} ({review.rule_id})",
            self.inp.started_by,
        )
        set_date = self.plan("set-meeting-date", "Set the date of the annual review meeting", SENDCO)
        self.show(ReviewStep.planning)
        await set_date.until(lambda: self.meeting is not None)

    # --- 2. Meeting set, 3. advice pack, 4. meeting held -----------------------------------------------
    async def preparing_the_meeting(self) -> None:
        """Until the meeting is held: announce it (again if it moves), circulate and forward the advice."""
        announced = 0
        while self.held is None:
            if announced != self.meeting_version:
                announced = self.meeting_version
                await self.announce(announced)
            if self.time_to_circulate():
                await self.circulate()
            await self.forward_late_advice()
            await self.until_something_to_do(announced)
        self.stop_chasing_advice()

    async def announce(self, version: int) -> None:
        """AR-INVITE and AR-ADVICE-REQUEST at once; the first time, the advice's deadlines."""
        if version > 1:
            await self.replan()
        if workflow.patched(MEETING_SET_SHOWN_AT_ONCE):
            self.show(ReviewStep.meeting_set)  # the SENDCo's answer shows it; the emails follow
        if self.breaches:
            await self.tell_head_of_breach()
        await self.at_once(self.send_invitations(version), self.request_advice(version))
        if version == 1:
            self.track(
                "circulate-advice", "Circulate the advice to every invitee", SENDCO, self.is_circulated, QUIET
            )
            for adviser in self.inp.advisers:
                self.track_adviser(adviser)
        for step, owner in (("send-report", SENDCO), ("la-decision", self.la), ("amend-proposal", self.la)):
            self.row(step, owner, DeadlineState.pending)  # shown ahead; each is tracked from its own step
        self.show(ReviewStep.meeting_set)

    # --- 5. Report: headteacher's approval, AR-REPORT ------------------------------------------------
    async def writing_the_report(self) -> None:
        assert self.held is not None
        self.track("send-report", "Send the review report to the LA and every invitee", SENDCO, self.is_sent)
        attempt = 0
        while True:
            attempt += 1
            self.show(ReviewStep.report)
            await workflow.wait_condition(lambda: self.report is not None)
            self.show(ReviewStep.report_approval)
            decision = await self.approvals.request(
                self.key(f"report-{attempt}"),
                ReviewStep.report_approval,
                "Annual review report",
                f"Annual review report, cycle {self.inp.cycle}: meeting of {day(self.meeting_day)}, "
                f"recommendation to {self.held.recommendation}",
            )
            if decision.approve:
                break
            self.report = None  # sent back: the SENDCo submits a new draft
        await self.send_the_report()

    # --- 6. LA decision: AR-LA-DECISION ------------------------------------------------------------
    async def waiting_for_the_la(self) -> None:
        self.track(
            "la-decision",
            "The LA's decision after the annual review (maintain, amend or cease)",
            self.la,
            self.is_decided,
            WAIT_FOR_LA,
            self.tell_la_late,
        )
        self.show(ReviewStep.awaiting_la_decision)
        await workflow.wait_condition(self.is_decided)
        assert self.decision is not None
        decided = self.decision
        if decided.decision != "amend":
            note = self.io.note(
                "deadline-cancelled",
                f"No amendments: the LA decided to {decided.decision} (AR-AMEND-PROPOSAL)",
            )
            self.row("amend-proposal", self.la, DeadlineState.cancelled, [note])
            transfer = self.key("phase-transfer")
            if self.is_open(transfer):
                self.deadlines[transfer].cancel()
            self.dispute = dispute_window(decided.decided_on)
        self.io.remark(
            "review-concluded",
            f"Concluded by the LA's decision of {day(decided.decided_on)} to {decided.decision}",
        )
        self.show()

    async def amending_the_plan(self) -> None:
        """AR-AMEND-PROPOSAL, then the parents' 15 days (AR-AMEND-COMMENTS) and the final plan."""
        proposal = self.plan("amend-proposal", "The LA's proposed amendments", self.la, QUIET)
        self.show(ReviewStep.amending)
        await self.wait(proposal, lambda: self.notice is not None, self.tell_la_late)
        self.track(
            "amend-comments",
            "The parents' comments on the proposed amendments",
            PARENT,
            lambda: self.comments is not None or self.final_plan is not None,
            PARENTS_WINDOW,
        )
        final = self.plan("final-amended-plan", "The final amended plan", self.la, WAIT_FOR_LA)
        self.show()
        await self.wait(final, self.has_final, self.tell_la_late)
        await self.check_phase_transfer()

    # --- 7. Conclusion: the next cycle from the LA's decision, or the end ------------------------------
    async def conclusion(self) -> str:
        await self.settle()
        assert self.decision is not None
        if self.decided("cease"):
            self.io.remark("case-closed", "The LA decided to cease the plan: the annual review case ends")
            self.show(ReviewStep.closed, closed=True)
            await self.settle()
            return "ceased"
        following = AnnualReviewInput(
            case=self.inp.case,
            facts=next_cycle_facts(self.facts, self.decision.decided_on),
            started_by=ENGINE,
            cycle=self.inp.cycle + 1,
            invitees=self.inp.invitees,
            optional_invitees=self.inp.optional_invitees,
            advisers=self.inp.advisers,
            dispute=self.dispute,
            flags=[f"c{self.inp.cycle}:{flag}" for flag in self.flags if flag not in self.inp.flags],
        )
        self.io.remark(
            "next-cycle",
            f"Cycle {following.cycle} counts from the LA's decision of {day(following.facts.cycle_start)}",
        )
        await self.settle()
        workflow.continue_as_new(following)

    # --- what the SENDCo does: one Update each ------------------------------------------------------
    @action("Set the review meeting", steps=[ReviewStep.planning])
    async def set_meeting(self, meeting: SetMeeting) -> str:
        """Set the meeting date: invitations and advice requests go at once."""
        self.accept_meeting(meeting)
        await self.io.log("meeting-set", self.meeting_note(meeting), meeting.actor)
        return meeting.meeting_at.isoformat()

    def validate_set_meeting(self, meeting: SetMeeting) -> None:
        if self.meeting is not None:
            raise ApplicationError(
                "the meeting date is already set: reschedule the meeting instead", type="Conflict"
            )
        self.check_meeting(meeting)

    @action("Move the review meeting", steps=[ReviewStep.meeting_set])
    async def reschedule_meeting(self, meeting: RescheduleMeeting) -> str:
        """Move a meeting not yet held: every date is re-planned and the invitations re-sent."""
        old = self.meeting_day
        self.rescheduled = meeting
        self.accept_meeting(meeting)
        await self.io.log(
            "meeting-rescheduled",
            f"From {day(old)} to {self.meeting_note(meeting)}. Reason: {meeting.reason}",
            meeting.actor,
        )
        return meeting.meeting_at.isoformat()

    def validate_reschedule_meeting(self, meeting: RescheduleMeeting) -> None:
        if self.meeting is None:
            raise ApplicationError("no meeting date is set yet: set it first", type="Conflict")
        if self.held is not None:
            raise ApplicationError("the meeting has been held: it cannot be rescheduled", type="Conflict")
        if meeting.meeting_at == self.meeting.meeting_at:
            raise ApplicationError("the meeting is already at that time", type="Invalid")
        self.check_meeting(meeting)

    @action("Record advice received", steps=[ReviewStep.meeting_set], responders=["agency"])
    async def record_advice(self, advice: AdviceReceived) -> str:
        """Record one adviser's written advice."""
        self.advice[advice.adviser.label] = advice
        if self.circulated:
            self.late_advice.append(advice.adviser.label)
        self.show()  # the SENDCo's next action names who is still to answer
        await self.io.log(
            "advice-recorded",
            f"Written advice from {advice.adviser.label} received {day(advice.received_on)}",
            advice.actor,
        )
        return "recorded"

    def validate_record_advice(self, advice: AdviceReceived) -> None:
        self.require_meeting_ahead()
        if advice.adviser not in self.inp.advisers:
            raise ApplicationError(f"{advice.adviser.label} was not asked for advice", type="Invalid")
        if advice.adviser.label in self.advice:
            raise ApplicationError(f"advice from {advice.adviser.label} is already recorded", type="Conflict")
        self.not_future(advice.received_on)

    @action("Record the parents' views", steps=[ReviewStep.meeting_set], responders=["parent"])
    async def record_parent_views(self, views: ParentViews) -> str:
        """Record the parents' (or young person's) views for the advice pack and the meeting."""
        self.parent_views = views
        await self.io.log("parent-views-recorded", f"Received {day(views.received_on)}", views.actor)
        return "recorded"

    def validate_record_parent_views(self, views: ParentViews) -> None:
        self.require_meeting_ahead()
        self.not_future(views.received_on)

    @action(
        "Record a reply to the invitation", steps=[ReviewStep.meeting_set], responders=["parent", "agency"]
    )
    async def record_attendance_reply(self, reply: AttendanceReply) -> str:
        """Record whether an invitee is coming to the meeting (their own answer through the emailed link)."""
        self.replies[reply.actor.responder or reply.invitee.label] = reply
        coming = "will come to" if reply.attending else "cannot come to"
        note = f". Note: {reply.note}" if reply.note else ""
        await self.io.log(
            "attendance-reply",
            f"{reply.invitee.label} {coming} the meeting on {day(self.meeting_day)}{note}",
            reply.actor,
        )
        return "recorded"

    def validate_record_attendance_reply(self, reply: AttendanceReply) -> None:
        self.require_meeting_ahead()
        if reply.invitee not in self.everyone:
            raise ApplicationError(f"{reply.invitee.label} was not invited to the meeting", type="Invalid")

    @action("Record the meeting", steps=[ReviewStep.meeting_set])
    async def record_meeting(self, record: MeetingRecord) -> str:
        """Record the meeting: who attended, the views, progress and the recommendation."""
        self.held = record
        adulthood = "; preparing for adulthood considered" if record.preparing_for_adulthood.strip() else ""
        await self.io.log(
            "meeting-held",
            f"Meeting of {day(self.meeting_day)}: attended by {labels(record.attended)}; "
            f"recommendation to {record.recommendation}{adulthood}",
            record.actor,
        )
        return record.recommendation

    def validate_record_meeting(self, record: MeetingRecord) -> None:
        self.require_meeting_ahead()
        if self.today < self.meeting_day:
            raise ApplicationError(
                f"the meeting is on {day(self.meeting_day)}: record it once it is held", type="Conflict"
            )
        strangers = [r.label for r in record.attended if r not in self.everyone and r.kind != "sendco"]
        if strangers:
            raise ApplicationError(f"not invited to the meeting: {', '.join(strangers)}", type="Invalid")
        if (
            needs_preparing_for_adulthood(self.facts, self.meeting_day)
            and not record.preparing_for_adulthood.strip()
        ):
            raise ApplicationError(
                "from Year 9 the review must cover preparing for adulthood", type="Invalid"
            )

    @action("Submit the report for the headteacher's approval", steps=[ReviewStep.report])
    async def submit_report(self, draft: ReportDraft) -> str:
        """Submit the drafted report for the headteacher's approval."""
        self.report = draft
        await self.io.log(
            "report-submitted", "Review report submitted for the headteacher's approval", draft.actor
        )
        return "submitted"

    def validate_submit_report(self, draft: ReportDraft) -> None:
        if self.held is None:
            raise ApplicationError("record the meeting before the report", type="Conflict")
        if self.report is not None or self.report_sent:
            raise ApplicationError("the report is already with the headteacher or sent", type="Conflict")

    @action("Record the LA's decision", steps=[ReviewStep.awaiting_la_decision])
    async def record_la_decision(self, decision: LADecision) -> str:
        """Record the LA's decision: maintain, amend (with its proposed amendments) or cease."""
        self.decision = decision
        served = decision.amendment_notice_served
        if served is not None:
            self.accept_notice(
                AmendmentNotice(actor=decision.actor, served_on=served, note="with the decision")
            )
        with_notice = f"; amendments served {day(served)}" if served else ""
        await self.io.log(
            "la-decision-recorded",
            f"The LA decided to {decision.decision} on {day(decision.decided_on)}{with_notice}",
            decision.actor,
        )
        return decision.decision

    def validate_record_la_decision(self, decision: LADecision) -> None:
        if self.decision is not None:
            raise ApplicationError("the LA's decision is already recorded for this review", type="Conflict")
        if not self.report_sent:
            raise ApplicationError("the review report has not been sent to the LA yet", type="Conflict")
        self.not_future(decision.decided_on)
        if decision.decided_on < self.meeting_day:
            raise ApplicationError("the decision cannot be before the review meeting", type="Invalid")
        if decision.amendment_notice_served is not None:
            self.not_future(decision.amendment_notice_served)

    @action("Record the LA's proposed amendments", steps=[ReviewStep.amending])
    async def record_amendment_notice(self, notice: AmendmentNotice) -> str:
        """Record when the LA served its proposed amendments: the parents' 15 days begin."""
        self.accept_notice(notice)
        await self.io.log(
            "amendment-notice-recorded", f"Amendments served {day(notice.served_on)}", notice.actor
        )
        return "recorded"

    def validate_record_amendment_notice(self, notice: AmendmentNotice) -> None:
        if not self.decided("amend"):
            raise ApplicationError("the LA has not decided to amend the plan", type="Conflict")
        if self.notice is not None:
            raise ApplicationError("the amendment notice is already recorded", type="Conflict")
        self.not_future(notice.served_on)
        assert self.decision is not None
        if notice.served_on < self.decision.decided_on:
            raise ApplicationError("the amendments cannot be served before the decision", type="Invalid")

    @action("Record the parents' comments", steps=[ReviewStep.amending])
    async def record_parent_comments(self, comments: ParentComments) -> str:
        """Record the parents' comments on the proposed amendments."""
        self.comments = comments
        await self.io.log(
            "parent-comments-recorded", f"Comments received {day(comments.received_on)}", comments.actor
        )
        return "recorded"

    def validate_record_parent_comments(self, comments: ParentComments) -> None:
        self.require_notice()
        if self.comments is not None or self.final_plan is not None:
            raise ApplicationError("the parents' comments can no longer be recorded", type="Conflict")
        self.not_future(comments.received_on)

    @action("Record the final plan", steps=[ReviewStep.amending])
    async def record_final_plan(self, plan: FinalPlan) -> str:
        """Record the final amended plan the LA issued."""
        self.final_plan = plan
        await self.io.log(
            "final-plan-recorded", f"Final amended plan issued {day(plan.issued_on)}", plan.actor
        )
        return "recorded"

    def validate_record_final_plan(self, plan: FinalPlan) -> None:
        notice = self.require_notice()
        if self.final_plan is not None:
            raise ApplicationError("the final amended plan is already recorded", type="Conflict")
        self.not_future(plan.issued_on)
        if plan.issued_on < notice.served_on:
            raise ApplicationError("the final plan cannot be issued before the amendments", type="Invalid")

    # --- state the handlers share ------------------------------------------------------------------


PROCESS = Process(
    name="annual_review",
    title="EHCP annual review",
    workflow=AnnualReview,
    steps=ReviewStep,
    start=AnnualReviewStart,
    build_input=lambda case, facts, actor: facts.build_input(case, actor),
    facts=AnnualReviewFacts,
    timeline=annual_review_timeline,
    templates=(
        "ar-invitation",
        "ar-advice-request",
        "ar-advice-pack",
        "ar-advice-missing",
        "ar-advice-late",
        "ar-meeting-breach",
        "ar-report",
        "ar-la-late",
        "ar-final-plan-breach",
    ),
    requires_provision=SenProvision.E,
    one_open_per_pupil=True,
)
