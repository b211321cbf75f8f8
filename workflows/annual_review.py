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

from contextlib import suppress
from datetime import UTC, date, datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.annual_review import (
        AdviceReceived,
        AmendmentNotice,
        AnnualReviewInput,
        FinalPlan,
        LADecision,
        MeetingRecord,
        ParentComments,
        ParentViews,
        ReportDraft,
        RescheduleMeeting,
        SetMeeting,
        dispute_window,
        needs_preparing_for_adulthood,
        next_cycle_facts,
    )
    from domain.schemas import ENGINE, Recipient
    from workflows.annual_review_steps import (
        ADVISER_WORDS,
        PARENT,
        ReviewCase,
        day,
        labels,
        meeting_problems,
        rule_context,
    )
    from workflows.case import STAFF_WHO_ACT, require_role
    from workflows.deadlines import HEADTEACHER, REMIND_AT, SENDCO, Policy

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

    @workflow.run
    async def run(self, inp: AnnualReviewInput) -> str:
        await self.planning()
        await self.preparing_the_meeting()
        await self.writing_the_report()
        await self.waiting_for_the_la()
        if self.decided("amend"):
            await self.amending_the_plan()
        return await self.conclusion()

    # --- 1. Planning: AR-DUE / AR-UNDER5, PT-*, the meeting date ------------------------------------
    async def planning(self) -> None:
        self.track("review-due", "Conclude the annual review", self.la, self.is_decided, REVIEW_DUE)
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
        review = self.entry("review-due")
        assert review is not None
        await self.io.log(
            "cycle-started",
            f"Annual review cycle {self.inp.cycle} from {day(self.facts.cycle_start)}: "
            f"review due by {day(review.due)} ({review.rule_id})",
            self.inp.started_by,
        )
        set_date = self.plan("set-meeting-date", "Set the date of the annual review meeting", SENDCO)
        await self.show("planning")
        await set_date.until(lambda: self.meeting is not None)

    # --- 2. Meeting set, 3. advice pack, 4. meeting held -----------------------------------------------
    async def preparing_the_meeting(self) -> None:
        announced = 0
        while True:
            if announced != self.meeting_version:
                announced = self.meeting_version
                await self.announce(announced)
            if not self.circulated and (self.advice_complete() or workflow.now() >= self.circulate_at()):
                await self.circulate()
            if self.late_advice:
                await self.forward_late_advice()
            if self.held is not None:
                break
            version = self.meeting_version
            timeout = (
                None if self.circulated else max(self.circulate_at() - workflow.now(), timedelta(seconds=1))
            )
            with suppress(TimeoutError):
                await workflow.wait_condition(lambda v=version: self.something_to_do(v), timeout=timeout)
        for adviser in self.inp.advisers:  # advice is no use after the meeting
            key = self.key(f"advice:{adviser.label}")
            if self.is_open(key):
                self.deadlines[key].cancel()

    async def announce(self, version: int) -> None:
        """AR-INVITE and AR-ADVICE-REQUEST at once; the first time, every meeting date's deadline."""
        if version > 1:
            await self.replan()
        if self.breaches:
            await self.tell_head_of_breach()
        await self.send_invitations(version)
        await self.request_advice(version)
        if version == 1:
            self.track(
                "circulate-advice", "Circulate the advice to every invitee", SENDCO, self.is_circulated, QUIET
            )
            for adviser in self.inp.advisers:
                self.track_adviser(adviser)
            self.track(
                "send-report", "Send the review report to the LA and every invitee", SENDCO, self.is_sent
            )
            self.track(
                "la-decision",
                "The LA's decision after the annual review (maintain, amend or cease)",
                self.la,
                self.is_decided,
                WAIT_FOR_LA,
                self.tell_la_late,
            )
        await self.row("amend-proposal", self.la, "pending")
        await self.show("meeting-set")

    async def replan(self) -> None:
        """The meeting moved: every pending date follows it (who and why in the chronology)."""
        change = self.rescheduled
        assert change is not None
        for step in ("circulate-advice", "send-report", "la-decision"):
            key = self.key(step)
            if self.is_open(key):
                self.deadlines[key].move(self.due(step), change.actor, change.reason)
            elif step == "circulate-advice":
                await self.done_now(step, "Circulate the advice to every invitee", SENDCO)
        for adviser in self.inp.advisers:
            key = self.key(f"advice:{adviser.label}")
            if self.is_open(key):
                self.deadlines[key].move(self.due("circulate-advice"), change.actor, change.reason)

    async def tell_head_of_breach(self) -> None:
        assert self.meeting is not None
        self.flag("meeting-breach")
        context = {
            **self.meeting_context(),
            "problems": list(self.breaches),
            "reason": self.meeting.breach_reason,
            **rule_context("AR-INVITE"),
        }
        await self.email(
            f"meeting-breach-{self.meeting_version}",
            "ar-meeting-breach",
            [HEADTEACHER],
            context,
            "meeting-breach-notified",
            f"Meeting date accepted with a reason although {'; '.join(self.breaches)}",
        )

    async def send_invitations(self, version: int) -> None:
        """AR-INVITE: every invitee, with the meeting as an .ics invitation."""
        context = {
            **self.meeting_context(),
            **rule_context("AR-INVITE"),
            "rescheduled": version > 1,
            "reason": self.rescheduled.reason if self.rescheduled and version > 1 else "",
            "invitees": [r.kind for r in self.everyone],
        }
        await self.email(
            f"invite-{version}",
            "ar-invitation",
            self.everyone,
            context,
            "invitations-sent",
            f"AR-INVITE: meeting on {day(self.meeting_day)} at {context['meeting_time']}"
            + (f" (rescheduled, invitation {version})" if version > 1 else ""),
            invite=self.invite(version),
        )
        await self.done_now("send-invitations", "Send the meeting invitations", SENDCO)

    async def request_advice(self, version: int) -> None:
        """AR-ADVICE-REQUEST: each adviser still to answer is asked, with the date the advice is due."""
        waiting = [a for a in self.inp.advisers if a.label not in self.advice]
        advice_due = self.due("circulate-advice")
        if waiting:
            context = {
                **self.meeting_context(),
                **rule_context("AR-ADVICE-REQUEST"),
                "advice_due": advice_due.isoformat(),
                "circulate_citation": rule_context("AR-ADVICE-CIRCULATE")["citation"],
                "rescheduled": version > 1,
            }
            await self.email(
                f"advice-request-{version}",
                "ar-advice-request",
                waiting,
                context,
                "advice-requested",
                f"AR-ADVICE-REQUEST: written advice due by {day(advice_due)}",
            )
        await self.done_now("request-advice", "Ask every adviser for written advice", SENDCO)

    def track_adviser(self, adviser: Recipient) -> None:
        title = f"Written advice from {ADVISER_WORDS.get(adviser.kind, adviser.kind)} for the annual review"
        watch = self.deadline(
            self.key(f"advice:{adviser.label}"),
            "receive-advice",
            title,
            "AR-ADVICE-REQUEST",
            self.due("circulate-advice"),
            adviser,
        )
        self.watch(watch, lambda: adviser.label in self.advice)

    def circulate_at(self) -> datetime:
        return datetime.combine(self.due("circulate-advice"), REMIND_AT, UTC)

    def advice_complete(self) -> bool:
        return all(a.label in self.advice for a in self.inp.advisers)

    async def circulate(self) -> None:
        """AR-ADVICE-CIRCULATE: the advice gathered goes to every invitee; any gap is named."""
        missing = [a for a in self.inp.advisers if a.label not in self.advice]
        context = {
            **self.meeting_context(),
            **rule_context("AR-ADVICE-CIRCULATE"),
            "advice": [
                {"adviser": a.adviser.kind, "received_on": a.received_on.isoformat(), "summary": a.summary}
                for a in self.advice.values()
            ],
            "missing": [a.kind for a in missing],
            "parent_views": self.parent_views.views if self.parent_views else "",
            "circulate_by": self.due("circulate-advice").isoformat(),
        }
        gap = f"; missing: {labels(missing)}" if missing else ""
        await self.email(
            "advice-pack",
            "ar-advice-pack",
            self.everyone,
            context,
            "advice-pack-sent",
            f"AR-ADVICE-CIRCULATE: advice from {len(self.advice)} of {len(self.inp.advisers)} advisers{gap}",
        )
        self.circulated = True
        if missing:
            self.flag("advice-missing")
            await self.email(
                "advice-missing",
                "ar-advice-missing",
                [SENDCO, HEADTEACHER],
                context,
                "advice-missing-notified",
                f"Advice still missing at circulation from {labels(missing)}",
            )
        await self.show()

    async def forward_late_advice(self) -> None:
        """Advice that came after the pack goes to every invitee as it arrives."""
        while self.late_advice:
            advice = self.advice[self.late_advice.pop(0)]
            context = {
                **self.meeting_context(),
                "adviser": advice.adviser.kind,
                "received_on": advice.received_on.isoformat(),
                "summary": advice.summary,
            }
            await self.email(
                f"advice-late:{advice.adviser.label}",
                "ar-advice-late",
                self.everyone,
                context,
                "late-advice-circulated",
                f"Advice from {advice.adviser.label}, received {day(advice.received_on)}, after the pack",
            )

    # --- 5. Report: headteacher's approval, AR-REPORT ------------------------------------------------
    async def writing_the_report(self) -> None:
        assert self.held is not None
        attempt = 0
        while True:
            attempt += 1
            await self.show("report")
            await workflow.wait_condition(lambda: self.report is not None)
            await self.show("report-approval")
            decision = await self.approvals.request(
                self.key(f"report-{attempt}"),
                "report-approval",
                "Annual review report",
                f"Annual review report, cycle {self.inp.cycle}: meeting of {day(self.meeting_day)}, "
                f"recommendation to {self.held.recommendation}",
            )
            if decision.approve:
                break
            self.report = None  # sent back: the SENDCo submits a new draft
        assert self.report is not None
        context = {
            **self.meeting_context(),
            **rule_context("AR-REPORT"),
            "recommendation": self.held.recommendation,
            "report": self.report.report,
            "disagreements": self.report.disagreements,
            "proposed_changes": self.held.proposed_changes,
            "preparing_for_adulthood": self.held.preparing_for_adulthood,
            "la_decision_due": self.due("la-decision").isoformat(),
            "la_citation": rule_context("AR-LA-DECISION")["citation"],
        }
        await self.email(
            "report",
            "ar-report",
            self.everyone,
            context,
            "report-sent",
            f"AR-REPORT: review report (recommendation to {self.held.recommendation}) sent",
        )
        self.report_sent = True

    # --- 6. LA decision: AR-LA-DECISION ------------------------------------------------------------
    async def waiting_for_the_la(self) -> None:
        await self.show("awaiting-la-decision")
        await workflow.wait_condition(self.is_decided)
        assert self.decision is not None
        decided = self.decision
        if decided.decision != "amend":
            note = self.io.note(
                "deadline-cancelled",
                f"No amendments: the LA decided to {decided.decision} (AR-AMEND-PROPOSAL)",
            )
            await self.row("amend-proposal", self.la, "cancelled", [note])
            transfer = self.key("phase-transfer")
            if self.is_open(transfer):
                self.deadlines[transfer].cancel()
            self.dispute = dispute_window(decided.decided_on)
        await self.io.log(
            "review-concluded",
            f"Concluded by the LA's decision of {day(decided.decided_on)} to {decided.decision}",
        )
        await self.show()

    async def amending_the_plan(self) -> None:
        """AR-AMEND-PROPOSAL, then the parents' 15 days (AR-AMEND-COMMENTS) and the final plan."""
        proposal = self.plan("amend-proposal", "The LA's proposed amendments", self.la, QUIET)
        await self.show("amending")
        await self.wait(proposal, lambda: self.notice is not None, self.tell_la_late)
        self.track(
            "amend-comments",
            "The parents' comments on the proposed amendments",
            PARENT,
            lambda: self.comments is not None or self.final_plan is not None,
            PARENTS_WINDOW,
        )
        final = self.plan("final-amended-plan", "The final amended plan", self.la, WAIT_FOR_LA)
        await self.show()
        await self.wait(final, self.has_final, self.tell_la_late)
        await self.check_phase_transfer()

    async def check_phase_transfer(self) -> None:
        """In a transfer year, a final plan after the PT date is a breach: the head and the LA are told."""
        transfer = self.entry("phase-transfer")
        assert self.final_plan is not None
        issued = self.final_plan.issued_on
        if transfer is None or issued <= transfer.due:
            return
        self.flag(f"final-plan-after-{transfer.rule_id}")
        days_late = (issued - transfer.due).days
        context = {
            "issued_on": issued.isoformat(),
            "due": transfer.due.isoformat(),
            "days_late": days_late,
            **rule_context(transfer.rule_id),
        }
        await self.email(
            "final-plan-breach",
            "ar-final-plan-breach",
            [HEADTEACHER, self.la],
            context,
            "final-plan-breach-notified",
            f"{transfer.rule_id} breached: the final plan was issued {day(issued)}, {days_late} days after "
            f"{day(transfer.due)}",
        )
        await self.show()

    # --- 7. Conclusion: the next cycle from the LA's decision, or the end ------------------------------
    async def conclusion(self) -> str:
        await self.settle_watches()
        assert self.decision is not None
        if self.decided("cease"):
            await self.io.log("case-closed", "The LA decided to cease the plan: the annual review case ends")
            await self.show("closed", closed=True)
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
        await self.io.log(
            "next-cycle",
            f"Cycle {following.cycle} counts from the LA's decision of {day(following.facts.cycle_start)}",
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(following)

    # --- what the SENDCo does: one Update each ------------------------------------------------------
    @workflow.update
    async def set_meeting(self, meeting: SetMeeting) -> str:
        """Set the meeting date: invitations and advice requests go at once."""
        self.accept_meeting(meeting)
        await self.io.log("meeting-set", self.meeting_note(meeting), meeting.actor)
        return meeting.meeting_at.isoformat()

    @set_meeting.validator
    def validate_set_meeting(self, meeting: SetMeeting) -> None:
        require_role(meeting.actor.role, STAFF_WHO_ACT)
        if self.meeting is not None:
            raise ApplicationError(
                "the meeting date is already set: reschedule the meeting instead", type="Conflict"
            )
        self.check_meeting(meeting)

    @workflow.update
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

    @reschedule_meeting.validator
    def validate_reschedule_meeting(self, meeting: RescheduleMeeting) -> None:
        require_role(meeting.actor.role, STAFF_WHO_ACT)
        if self.meeting is None:
            raise ApplicationError("no meeting date is set yet: set it first", type="Conflict")
        if self.held is not None:
            raise ApplicationError("the meeting has been held: it cannot be rescheduled", type="Conflict")
        if meeting.meeting_at == self.meeting.meeting_at:
            raise ApplicationError("the meeting is already at that time", type="Invalid")
        self.check_meeting(meeting)

    @workflow.update
    async def record_advice(self, advice: AdviceReceived) -> str:
        """Record one adviser's written advice."""
        self.advice[advice.adviser.label] = advice
        if self.circulated:
            self.late_advice.append(advice.adviser.label)
        await self.io.log(
            "advice-recorded",
            f"Written advice from {advice.adviser.label} received {day(advice.received_on)}",
            advice.actor,
        )
        return "recorded"

    @record_advice.validator
    def validate_record_advice(self, advice: AdviceReceived) -> None:
        require_role(advice.actor.role, STAFF_WHO_ACT)
        self.require_meeting_ahead()
        if advice.adviser not in self.inp.advisers:
            raise ApplicationError(f"{advice.adviser.label} was not asked for advice", type="Invalid")
        if advice.adviser.label in self.advice:
            raise ApplicationError(f"advice from {advice.adviser.label} is already recorded", type="Conflict")
        self.not_future(advice.received_on)

    @workflow.update
    async def record_parent_views(self, views: ParentViews) -> str:
        """Record the parents' (or young person's) views for the advice pack and the meeting."""
        self.parent_views = views
        await self.io.log("parent-views-recorded", f"Received {day(views.received_on)}", views.actor)
        return "recorded"

    @record_parent_views.validator
    def validate_record_parent_views(self, views: ParentViews) -> None:
        require_role(views.actor.role, STAFF_WHO_ACT)
        self.require_meeting_ahead()
        self.not_future(views.received_on)

    @workflow.update
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

    @record_meeting.validator
    def validate_record_meeting(self, record: MeetingRecord) -> None:
        require_role(record.actor.role, STAFF_WHO_ACT)
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

    @workflow.update
    async def submit_report(self, draft: ReportDraft) -> str:
        """Submit the drafted report for the headteacher's approval."""
        self.report = draft
        await self.io.log(
            "report-submitted", "Review report submitted for the headteacher's approval", draft.actor
        )
        return "submitted"

    @submit_report.validator
    def validate_submit_report(self, draft: ReportDraft) -> None:
        require_role(draft.actor.role, STAFF_WHO_ACT)
        if self.held is None:
            raise ApplicationError("record the meeting before the report", type="Conflict")
        if self.report is not None or self.report_sent:
            raise ApplicationError("the report is already with the headteacher or sent", type="Conflict")

    @workflow.update
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

    @record_la_decision.validator
    def validate_record_la_decision(self, decision: LADecision) -> None:
        require_role(decision.actor.role, STAFF_WHO_ACT)
        if self.decision is not None:
            raise ApplicationError("the LA's decision is already recorded for this review", type="Conflict")
        if not self.report_sent:
            raise ApplicationError("the review report has not been sent to the LA yet", type="Conflict")
        self.not_future(decision.decided_on)
        if decision.decided_on < self.meeting_day:
            raise ApplicationError("the decision cannot be before the review meeting", type="Invalid")
        if decision.amendment_notice_served is not None:
            self.not_future(decision.amendment_notice_served)

    @workflow.update
    async def record_amendment_notice(self, notice: AmendmentNotice) -> str:
        """Record when the LA served its proposed amendments: the parents' 15 days begin."""
        self.accept_notice(notice)
        await self.io.log(
            "amendment-notice-recorded", f"Amendments served {day(notice.served_on)}", notice.actor
        )
        return "recorded"

    @record_amendment_notice.validator
    def validate_record_amendment_notice(self, notice: AmendmentNotice) -> None:
        require_role(notice.actor.role, STAFF_WHO_ACT)
        if not self.decided("amend"):
            raise ApplicationError("the LA has not decided to amend the plan", type="Conflict")
        if self.notice is not None:
            raise ApplicationError("the amendment notice is already recorded", type="Conflict")
        self.not_future(notice.served_on)
        assert self.decision is not None
        if notice.served_on < self.decision.decided_on:
            raise ApplicationError("the amendments cannot be served before the decision", type="Invalid")

    @workflow.update
    async def record_parent_comments(self, comments: ParentComments) -> str:
        """Record the parents' comments on the proposed amendments."""
        self.comments = comments
        await self.io.log(
            "parent-comments-recorded", f"Comments received {day(comments.received_on)}", comments.actor
        )
        return "recorded"

    @record_parent_comments.validator
    def validate_record_parent_comments(self, comments: ParentComments) -> None:
        require_role(comments.actor.role, STAFF_WHO_ACT)
        self.require_notice()
        if self.comments is not None or self.final_plan is not None:
            raise ApplicationError("the parents' comments can no longer be recorded", type="Conflict")
        self.not_future(comments.received_on)

    @workflow.update
    async def record_final_plan(self, plan: FinalPlan) -> str:
        """Record the final amended plan the LA issued."""
        self.final_plan = plan
        await self.io.log(
            "final-plan-recorded", f"Final amended plan issued {day(plan.issued_on)}", plan.actor
        )
        return "recorded"

    @record_final_plan.validator
    def validate_record_final_plan(self, plan: FinalPlan) -> None:
        require_role(plan.actor.role, STAFF_WHO_ACT)
        notice = self.require_notice()
        if self.final_plan is not None:
            raise ApplicationError("the final amended plan is already recorded", type="Conflict")
        self.not_future(plan.issued_on)
        if plan.issued_on < notice.served_on:
            raise ApplicationError("the final plan cannot be issued before the amendments", type="Invalid")

    # --- state the handlers share ------------------------------------------------------------------
    def accept_meeting(self, meeting: SetMeeting) -> None:
        self.breaches = meeting_problems(self.facts, meeting.meeting_at.date(), self.today)
        self.meeting = meeting
        self.facts = self.facts.model_copy(update={"meeting": meeting.meeting_at.date()})
        self.meeting_version += 1

    def accept_notice(self, notice: AmendmentNotice) -> None:
        self.notice = notice
        self.facts = self.facts.model_copy(update={"amendment_notice": notice.served_on})

    def check_meeting(self, meeting: SetMeeting) -> None:
        """A past date is refused; a late or short-notice one needs a breach reason."""
        when = meeting.meeting_at.date()
        if when < self.today:
            raise ApplicationError(f"{day(when)} is in the past", type="Invalid")
        problems = meeting_problems(self.facts, when, self.today)
        if problems and not meeting.breach_reason.strip():
            raise ApplicationError(
                "; ".join(problems) + ". Choose another date, or record a breach_reason to accept it",
                type="Invalid",
            )

    def meeting_note(self, meeting: SetMeeting) -> str:
        note = f"{day(meeting.meeting_at.date())} at {meeting.meeting_at:%H:%M}"
        if self.breaches:
            note += f"; accepted although {'; '.join(self.breaches)}. Reason: {meeting.breach_reason}"
        return note

    def require_meeting_ahead(self) -> None:
        if self.meeting is None:
            raise ApplicationError("set the meeting date first", type="Conflict")
        if self.held is not None:
            raise ApplicationError("the meeting has already been held", type="Conflict")

    def require_notice(self) -> AmendmentNotice:
        if self.notice is None:
            raise ApplicationError("the LA has not served proposed amendments", type="Conflict")
        return self.notice

    def not_future(self, when: date) -> None:
        if when > self.today:
            raise ApplicationError(f"{when} is in the future", type="Invalid")

    def something_to_do(self, version: int) -> bool:
        return (
            self.held is not None
            or self.meeting_version != version
            or bool(self.late_advice)
            or (not self.circulated and self.advice_complete())
        )

    def decided(self, what: str) -> bool:
        return self.decision is not None and self.decision.decision == what

    def is_decided(self) -> bool:
        return self.decision is not None

    def is_held(self) -> bool:
        return self.held is not None

    def is_sent(self) -> bool:
        return self.report_sent

    def is_circulated(self) -> bool:
        return self.circulated

    def has_final(self) -> bool:
        return self.final_plan is not None
