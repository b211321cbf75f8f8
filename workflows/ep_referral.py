"""A referral to the EP (or LIFT, a community paediatrician, speech and language therapy): local practice.

1. The referral: the SENDCo's question for the specialist and the evidence (the reviewed support plans, the
   provision, the parents' and the pupil's views), made by the SENDCo or from a graduated-approach review.
2. The EP allocation (EP-ALLOCATION), for a service that draws on it: the estimate is reserved in the
   school year's allocation; a referral that would overrun it needs the headteacher's approval, or is
   refused with the reason.
3. Consent (EP-CONSENT): the parents (or the young person at 16 or over) are asked; chased after 5 school
   days, escalated to the headteacher after 10. A refusal closes the referral and releases the reservation.
4. A visit route (the EP, a paediatrician, speech and language therapy): the referral goes to the service,
   which accepts with a proposed date or declines with a reason (the reservation released); the visit or
   consultation is due within EP-VISIT of acceptance and books what it used; the written report is due
   EP-REPORT after it (the service chased, a late report escalated to the headteacher). The report is
   shared with the parents, and its recommendations go to the pupil's SEN support case, if there is one.
5. The LIFT route: a meeting date; the papers, with the signed parental agreement, due a configured number
   of days before it (chased); the outcome (advice, outreach, a specialist teacher, an EP) recorded and
   shared, and its follow-up actions tracked until each is done.
Each service's route, recipient and offsets are configuration (domain.ep_referral.SERVICES).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.dates import SchoolYearCalendar
    from domain.ep_referral import (
        LIFT_OUTCOME_WORDS,
        AdviceForSupportCase,
        AllocationAnswer,
        AllocationBooking,
        AllocationFigures,
        AllocationRequest,
        ConsentAnswer,
        EPReferralInput,
        EPReferralStart,
        EPStep,
        FollowUpDone,
        LiftMeeting,
        LiftOutcomeRecord,
        PapersSent,
        ReportReceived,
        ServiceAnswer,
        SpecialistAdvice,
        VisitHeld,
        build_input,
    )
    from domain.schemas import Recipient
    from domain.timelines import EPReferralFacts, TimelineEntry, ep_referral_timeline
    from workflows.case_io import RECORD_OPTIONS
    from workflows.deadlines import HEADTEACHER, PARENT, SENDCO, Deadline, Policy
    from workflows.kit import CaseWorkflow, day, iso, rule_context
    from workflows.process import Process, action

ONCE = timedelta(days=3650)  # told once: the next step of the clock is another deadline
# EP-CONSENT: after 5 school days the parents are chased and the SENDCo told; after 10 the headteacher.
CONSENT_CHASE = Policy(
    remind_days_before=(), escalate_to=(SENDCO,), escalate_every=ONCE, chase_owner_after_breach=False
)
CONSENT_ESCALATE = Policy(remind_days_before=(), escalate_to=(HEADTEACHER,), chase_owner_after_breach=False)
LIFT_PAPERS = Policy(remind_days_before=(5, 1))  # the SENDCo chased before the papers are due


def amount(value: float, unit: str) -> str:
    """'6 hours', '1 session'."""
    return f"{value:g} {unit if value != 1 else unit.removesuffix('s')}"


@workflow.defn(name="ep_referral")
class EPReferral(CaseWorkflow):
    @workflow.init
    def __init__(self, inp: EPReferralInput) -> None:
        self.open_case(inp.case)
        self.inp, self.settings = inp, inp.settings
        self.step = EPStep.consent
        self.calendar = SchoolYearCalendar.from_school(inp.case.calendar.terms, inp.case.calendar.inset_days)
        s = self.settings
        self.facts = EPReferralFacts(
            consent_asked=self.today,
            consent_chase_school_days=s.consent_chase_school_days,
            consent_escalate_school_days=s.consent_escalate_school_days,
            visit_school_days=s.visit_school_days,
            report_weeks=s.report_weeks,
            papers_days_before=s.papers_days_before,
        )
        self.figures: AllocationFigures | None = None
        self.consent: ConsentAnswer | None = None
        self.answer: ServiceAnswer | None = None
        self.visit: VisitHeld | None = None
        self.report: ReportReceived | None = None
        self.meeting: LiftMeeting | None = None
        self.papers: PapersSent | None = None
        self.lift: LiftOutcomeRecord | None = None
        self.follow_ups_done: dict[int, date] = {}
        self.outcome = ""

    def timeline(self) -> list[TimelineEntry]:
        return ep_referral_timeline(self.facts, self.calendar)

    @property
    def service(self) -> Recipient:
        return Recipient(kind=self.settings.agency)

    @workflow.run
    async def run(self, inp: EPReferralInput) -> str:
        self.io.remark(
            "referral-made",
            f"Referral to {self.settings.title}. Question: {inp.question}",
            inp.started_by,
        )
        if self.settings.draws_on_allocation and not await self.drawing_on_allocation():
            return await self.close("refused")  # 2. the headteacher did not approve the overrun
        if not await self.consenting():  # 3. EP-CONSENT
            return await self.close("consent-refused")
        if self.settings.route == "lift":
            await self.to_lift()  # 5. papers, meeting, outcome, follow-ups
            return await self.close("done")
        if not await self.submitting():  # 4. the service accepts or declines
            return await self.close("declined")
        await self.visiting()  # EP-VISIT
        await self.reporting()  # EP-REPORT
        return await self.close("done")

    # --- 2. The EP allocation (EP-ALLOCATION) -------------------------------------------------------
    async def reserve(self, *, allow_overrun: bool) -> AllocationAnswer:
        request = AllocationRequest(
            case_id=self.inp.case.case_id,
            school_id=self.inp.case.school_id,
            amount=self.inp.estimate,
            allow_overrun=allow_overrun,
        )
        return await workflow.execute_activity(
            "reserve_ep_allocation", request, result_type=AllocationAnswer, **RECORD_OPTIONS
        )

    async def book(self, used: float | None) -> None:
        """What the visit used replaces the reservation; None releases it."""
        if not self.settings.draws_on_allocation:
            return
        booking = AllocationBooking(case_id=self.inp.case.case_id, used=used)
        figures = await workflow.execute_activity(
            "book_ep_allocation", booking, result_type=AllocationFigures | None, **RECORD_OPTIONS
        )
        self.figures = figures or self.figures
        if used is None:
            self.io.remark("allocation-released", f"The {self.needs} reserved for this referral are released")
        elif figures is not None:
            self.io.remark(
                "allocation-used",
                f"{amount(used, figures.unit)} used of the {figures.label} EP allocation (EP-ALLOCATION): "
                f"{self.left(figures)}",
            )

    @property
    def needs(self) -> str:
        return amount(self.inp.estimate, self.figures.unit if self.figures else "hours")

    @staticmethod
    def left(f: AllocationFigures) -> str:
        if f.remaining < 0:
            return f"{amount(-f.remaining, f.unit)} over the {amount(f.allocated, f.unit)} agreed"
        return f"{amount(f.remaining, f.unit)} of {amount(f.allocated, f.unit)} remain"

    async def drawing_on_allocation(self) -> bool:
        answer = await self.reserve(allow_overrun=False)
        self.figures = f = answer.figures
        if not answer.reserved:
            self.show(EPStep.approval)
            summary = (
                f"This referral needs {self.needs}; {self.left(f)} of the {f.label} EP allocation "
                "(EP-ALLOCATION). Approve drawing beyond it, or reject it with the reason."
            )
            decision = await self.approvals.request(
                self.key("allocation-overrun"),
                EPStep.approval,
                "Draw on the EP allocation beyond what remains",
                summary,
            )
            if not decision.approve:
                self.outcome = (
                    f"Refused: it needs {self.needs} and {self.left(f)} of the {f.label} EP allocation; "
                    f"the headteacher did not approve the overrun: {decision.comment}"
                )
                self.io.remark("referral-refused", self.outcome, decision.actor)
                return False
            answer = await self.reserve(allow_overrun=True)
            self.figures = f = answer.figures
            self.flag("allocation-overrun")
        self.io.remark(
            "allocation-reserved",
            f"{self.needs} reserved of the {f.label} EP allocation (EP-ALLOCATION): {self.left(f)}",
        )
        return True

    # --- 3. Consent (EP-CONSENT) --------------------------------------------------------------------
    @property
    def by_parents(self) -> bool:
        return self.inp.consent_from == "parent"

    async def consenting(self) -> bool:
        self.facts = self.facts.model_copy(update={"consent_asked": self.today})  # after any approval
        self.show(EPStep.consent)
        chase_on = self.due("consent")
        if self.by_parents:
            await self.email(
                "consent",
                "ep-consent-request",
                [PARENT],
                self.referral_context(due=chase_on.isoformat()),
                "consent-requested",
                f"The parents asked for their consent by {day(chase_on)} (EP-CONSENT)",
            )
        else:
            self.io.remark(
                "consent-requested",
                f"Ask the young person (16 or over) for their consent by {day(chase_on)} (EP-CONSENT)",
            )
        answered = self.answered
        asked = PARENT if self.by_parents else SENDCO
        chase = self.plan("consent", "Answer the request for consent to the referral", asked, CONSENT_CHASE)
        self.watch(chase, answered, on_late=self.chase_consent)
        escalate = self.plan(
            "consent-escalation",
            "Consent to the referral, chased and still not answered",
            SENDCO,
            CONSENT_ESCALATE,
        )
        self.watch(escalate, answered)
        await workflow.wait_condition(answered)
        assert self.consent is not None
        if self.consent.given:
            return True
        self.outcome = "The parents did not consent: the referral is closed"
        if not self.by_parents:
            self.outcome = "The young person did not consent: the referral is closed"
        self.io.remark("consent-refused", self.outcome, self.consent.actor)
        await self.book(None)
        return False

    def answered(self) -> bool:
        return self.consent is not None

    async def chase_consent(self, watch: Deadline) -> None:
        """After 5 school days the parents are chased (the SENDCo is told by the deadline itself)."""
        self.flag("consent-chased")
        if self.by_parents:
            await self.email(
                "consent-chase",
                "ep-consent-chase",
                [PARENT],
                self.referral_context(asked_on=self.facts.consent_asked.isoformat()),
                "consent-chased",
                f"No answer to the request of {day(self.facts.consent_asked)}: "
                "the parents are chased (EP-CONSENT)",
            )
        self.show()

    # --- 4. The service, the visit and the report (EP-VISIT, EP-REPORT) ------------------------------
    def referral_context(self, **extra: Any) -> dict[str, Any]:
        """What the referral says: the question and the evidence, the year group, nothing more."""
        return {
            "service": self.settings.title,
            "specialist": self.settings.specialist,
            "question": self.inp.question,
            "evidence": self.inp.evidence.model_dump(),
            "year_group": self.inp.year_group,
            "lift": self.settings.route == "lift",
            "consent_by": "the parents" if self.by_parents else "the young person",
            **rule_context("EP-CONSENT"),
            **extra,
        }

    async def send_referral(self) -> None:
        assert self.consent is not None
        context = self.referral_context(consent_on=self.consent.answered_on.isoformat())
        what = "LIFT papers, with the signed parental agreement," if context["lift"] else "Referral"
        await self.email(
            "referral",
            "ep-referral",
            [self.service],
            context,
            "referral-submitted",
            f"{what} sent to {self.settings.title}: the question, the evidence and the consent, with the "
            "year group (no date of birth or contact details)",
        )

    async def submitting(self) -> bool:
        await self.send_referral()
        self.show(EPStep.with_service)
        await workflow.wait_condition(lambda: self.answer is not None)
        answer = self.answer
        assert answer is not None
        if not answer.accepted:
            title = self.settings.title
            self.outcome = f"{title[0].upper()}{title[1:]} declined the referral: {answer.reason}"
            await self.book(None)
            return False
        self.facts = self.facts.model_copy(update={"accepted_on": answer.answered_on})
        return True

    async def visiting(self) -> None:
        answer = self.answer
        assert answer is not None and answer.proposed_on is not None
        self.show(EPStep.visit)
        watch = self.plan("visit", f"Visit or consultation by {self.settings.specialist}", self.service)
        if answer.proposed_on > watch.due:
            self.flag("visit-after-EP-VISIT")
            self.io.remark(
                "visit-late",
                f"The proposed date {day(answer.proposed_on)} is after {day(watch.due)}, "
                "the end of EP-VISIT's window",
            )
        await self.wait(watch, lambda: self.visit is not None)
        visit = self.visit
        assert visit is not None
        self.facts = self.facts.model_copy(update={"visit_held": visit.held_on})
        await self.book(visit.used if visit.used is not None else self.inp.estimate)

    async def reporting(self) -> None:
        self.show(EPStep.report)
        watch = self.plan("report", "Send the written report after the visit", self.service)
        await self.wait(watch, lambda: self.report is not None)
        report = self.report
        assert report is not None
        self.outcome = f"Report received {day(report.received_on)} and shared with the parents"
        await self.share(report.received_on, report.summary, report.recommendations, "EP-REPORT")

    async def share(self, received: date, summary: str, recommendations: list[str], rule_id: str) -> None:
        """The parents get the report (or the LIFT outcome); the SEN support case its recommendations."""
        await self.email(
            "report",
            "ep-report",
            [PARENT],
            {
                "service": self.settings.title,
                "summary": summary,
                "recommendations": recommendations,
                "lift": self.settings.route == "lift",
                **rule_context(rule_id),
            },
            "report-shared",
            f"The {'LIFT outcome' if self.settings.route == 'lift' else 'report'} is shared with the parents",
        )
        if self.inp.support_case is None or not recommendations:
            return
        advice = SpecialistAdvice(
            from_case_id=self.inp.case.case_id,
            specialist=self.settings.specialist,
            received_on=received,
            recommendations=recommendations,
        )
        sent = AdviceForSupportCase(workflow_id=self.inp.support_case, advice=advice)
        if not await workflow.execute_activity(
            "send_specialist_advice", sent, result_type=bool, **RECORD_OPTIONS
        ):
            self.io.remark(
                "recommendations-not-added", "The SEN support case is closed: add them to its record"
            )
            return
        self.io.remark(
            "recommendations-added",
            f"{len(recommendations)} recommendations added to the pupil's SEN support case for its next plan",
        )

    # --- 5. LIFT -------------------------------------------------------------------------------------
    async def to_lift(self) -> None:
        self.show(EPStep.lift_meeting)
        await workflow.wait_condition(lambda: self.meeting is not None)
        papers = self.plan(
            "lift-papers", "Send the LIFT papers with the signed parental agreement", SENDCO, LIFT_PAPERS
        )
        self.show()
        await self.wait(papers, lambda: self.papers is not None)
        await self.send_referral()
        self.show()
        await workflow.wait_condition(lambda: self.lift is not None)
        lift = self.lift
        assert lift is not None and self.meeting is not None
        summary = f"The LIFT meeting decided on {LIFT_OUTCOME_WORDS[lift.outcome]}"
        await self.share(self.meeting.meeting_on, summary, lift.advice, "EP-VISIT")
        self.show(EPStep.follow_up)
        await workflow.wait_condition(lambda: len(self.follow_ups_done) == len(lift.follow_ups))
        self.outcome = f"LIFT outcome: {LIFT_OUTCOME_WORDS[lift.outcome]}; every follow-up action done"

    def facts_with_meeting(self, meeting_on: date) -> EPReferralFacts:
        return self.facts.model_copy(update={"lift_meeting": meeting_on})

    async def close(self, outcome: str) -> str:
        self.show(EPStep.closed, closed=True)
        await self.settle()
        return outcome

    # --- what the school does: one Update each -----------------------------------------------------
    @action("Record the answer to the request for consent", steps=[EPStep.consent], responders=["parent"])
    async def record_consent(self, answer: ConsentAnswer) -> str:
        """Record whether the parents (or the young person) consent to the referral."""
        self.consent = answer
        who = "The parents" if self.by_parents else "The young person"
        verdict = "consented" if answer.given else "did not consent"
        note = f". {answer.note}" if answer.note.strip() else ""
        await self.io.log(
            "consent-recorded", f"{who} {verdict} on {day(answer.answered_on)}{note}", answer.actor
        )
        return "given" if answer.given else "refused"

    def validate_record_consent(self, answer: ConsentAnswer) -> None:
        if self.step != EPStep.consent or self.consent is not None:
            raise ApplicationError(self.out_of_turn(), type="Conflict")
        self.within(answer.answered_on, self.facts.consent_asked, "consent was asked")

    @action("Record the service's answer", steps=[EPStep.with_service])
    async def record_service_answer(self, answer: ServiceAnswer) -> str:
        """The service accepted the referral with a proposed date, or declined it with a reason."""
        self.answer = answer
        if answer.accepted:
            assert answer.proposed_on is not None
            detail = f"Accepted on {day(answer.answered_on)}; proposed date {day(answer.proposed_on)}"
        else:
            detail = f"Declined on {day(answer.answered_on)}: {answer.reason}"
        await self.io.log("service-answered", detail, answer.actor)
        return "accepted" if answer.accepted else "declined"

    def validate_record_service_answer(self, answer: ServiceAnswer) -> None:
        if self.step != EPStep.with_service or self.answer is not None:
            raise ApplicationError(self.out_of_turn(), type="Conflict")
        self.within(answer.answered_on, self.facts.consent_asked, "the referral was made")
        if answer.proposed_on is not None and answer.proposed_on < answer.answered_on:
            raise ApplicationError("the proposed date is before the service answered", type="Invalid")

    @action("Record the visit or consultation", steps=[EPStep.visit])
    async def record_visit(self, visit: VisitHeld) -> str:
        """The visit or consultation was held (and what it used of the EP allocation)."""
        self.visit = visit
        used = (
            f"; {amount(visit.used, self.figures.unit if self.figures else 'hours')} used"
            if visit.used
            else ""
        )
        await self.io.log("visit-held", f"Held on {day(visit.held_on)}{used}", visit.actor)
        return visit.held_on.isoformat()

    def validate_record_visit(self, visit: VisitHeld) -> None:
        if self.step != EPStep.visit or self.visit is not None:
            raise ApplicationError(self.out_of_turn(), type="Conflict")
        assert self.answer is not None
        self.within(visit.held_on, self.answer.answered_on, "the service accepted")

    @action("Record the report", steps=[EPStep.report])
    async def record_report(self, report: ReportReceived) -> str:
        """The written report arrived: it goes to the parents, its recommendations to the support case."""
        self.report = report
        await self.io.log(
            "report-received",
            f"Received {day(report.received_on)}: {report.summary} ({len(report.recommendations)} "
            "recommendations)",
            report.actor,
        )
        return "received"

    def validate_record_report(self, report: ReportReceived) -> None:
        if self.step != EPStep.report or self.report is not None:
            raise ApplicationError(self.out_of_turn(), type="Conflict")
        assert self.visit is not None
        self.within(report.received_on, self.visit.held_on, "the visit")

    @action("Set the LIFT meeting", steps=[EPStep.lift_meeting])
    async def set_lift_meeting(self, meeting: LiftMeeting) -> str:
        """The LIFT meeting the referral goes to: its papers are due a set number of days before."""
        self.meeting = meeting
        self.facts = self.facts_with_meeting(meeting.meeting_on)
        await self.io.log(
            "lift-meeting-set",
            f"LIFT meeting on {day(meeting.meeting_on)}: papers due by {day(self.due('lift-papers'))}",
            meeting.actor,
        )
        return meeting.meeting_on.isoformat()

    def validate_set_lift_meeting(self, meeting: LiftMeeting) -> None:
        if self.step != EPStep.lift_meeting or self.meeting is not None:
            raise ApplicationError(self.out_of_turn(), type="Conflict")
        if meeting.meeting_on <= self.today:
            raise ApplicationError("the LIFT meeting must be after today", type="Invalid")

    @action("Send the LIFT papers", steps=[EPStep.lift_meeting])
    async def send_lift_papers(self, papers: PapersSent) -> str:
        """Send the papers, with the signed parental agreement, to the LIFT meeting."""
        self.papers = papers
        await self.io.log("lift-papers-ready", f"Papers ready on {day(papers.sent_on)}", papers.actor)
        return "sent"

    def validate_send_lift_papers(self, papers: PapersSent) -> None:
        if self.step != EPStep.lift_meeting or self.meeting is None or self.papers is not None:
            raise ApplicationError(self.out_of_turn(), type="Conflict")
        self.within(papers.sent_on, self.facts.consent_asked, "the referral was made")

    @action("Record the LIFT outcome", steps=[EPStep.lift_meeting])
    async def record_lift_outcome(self, outcome: LiftOutcomeRecord) -> str:
        """What the LIFT meeting decided, its advice and the follow-up actions to track."""
        self.lift = outcome
        actions = "; ".join(f"{n}. {f.action}" for n, f in enumerate(outcome.follow_ups, 1)) or "none"
        await self.io.log(
            "lift-outcome",
            f"LIFT decided on {LIFT_OUTCOME_WORDS[outcome.outcome]}; follow-up actions: {actions}",
            outcome.actor,
        )
        return outcome.outcome

    def validate_record_lift_outcome(self, outcome: LiftOutcomeRecord) -> None:
        if self.step != EPStep.lift_meeting or self.papers is None or self.lift is not None:
            raise ApplicationError(self.out_of_turn(), type="Conflict")
        assert self.meeting is not None
        if self.today < self.meeting.meeting_on:
            raise ApplicationError(
                f"the LIFT meeting is on {day(self.meeting.meeting_on)}: record its outcome once it is held",
                type="Conflict",
            )

    @action("Record a follow-up action done", steps=[EPStep.follow_up])
    async def complete_follow_up(self, done: FollowUpDone) -> str:
        """One of the LIFT outcome's follow-up actions is done."""
        assert self.lift is not None
        self.follow_ups_done[done.number] = done.done_on
        follow = self.lift.follow_ups[done.number - 1]
        await self.io.log(
            "follow-up-done", f"{done.number}. {follow.action}: done {day(done.done_on)}", done.actor
        )
        self.show()
        return "done"

    def validate_complete_follow_up(self, done: FollowUpDone) -> None:
        if self.step != EPStep.follow_up or self.lift is None:
            raise ApplicationError(self.out_of_turn(), type="Conflict")
        if done.number > len(self.lift.follow_ups):
            raise ApplicationError(f"there are {len(self.lift.follow_ups)} follow-up actions", type="Invalid")
        if done.number in self.follow_ups_done:
            raise ApplicationError(f"follow-up action {done.number} is already done", type="Conflict")
        self.within(done.done_on, self.facts.consent_asked, "the referral was made")

    # --- checks the actions share -------------------------------------------------------------------
    def within(self, when: date, earliest: date, what: str) -> None:
        if when > self.today:
            raise ApplicationError(f"{day(when)} is in the future: enter the day it happened", type="Invalid")
        if when < earliest:
            raise ApplicationError(f"{day(when)} is before {what} ({day(earliest)})", type="Invalid")

    def out_of_turn(self) -> str:
        """Why an action cannot be taken now: what the case is waiting for instead."""
        now = self.next_action()
        return f"Not now: {now[0].lower()}{now[1:]}"

    # --- the case view -------------------------------------------------------------------------------
    def next_action(self) -> str:
        step, title = self.step, self.settings.title
        if step == EPStep.approval:
            return f"The headteacher approves drawing {self.needs} beyond the EP allocation, or refuses it"
        if step == EPStep.consent:
            who = "the parents'" if self.by_parents else "the young person's"
            chased = "; they have been chased" if "consent-chased" in self.flags else ""
            return (
                f"Record {who} answer to the request for consent (due by {day(self.due('consent'))}, "
                f"EP-CONSENT{chased})"
            )
        if step == EPStep.with_service:
            return f"Record {title}'s answer: accepted with a proposed date, or declined with the reason"
        if step == EPStep.visit:
            assert self.answer is not None and self.answer.proposed_on is not None
            return (
                f"Record the visit or consultation once held (proposed {day(self.answer.proposed_on)}, "
                f"due by {day(self.due('visit'))}, EP-VISIT)"
            )
        if step == EPStep.report:
            return f"Record the written report when it arrives (due by {day(self.due('report'))}, EP-REPORT)"
        if step == EPStep.lift_meeting:
            if self.meeting is None:
                return "Set the date of the LIFT meeting the referral goes to"
            if self.papers is None:
                return (
                    "Send the LIFT papers with the signed parental agreement by "
                    f"{day(self.due('lift-papers'))} (the meeting is on {day(self.meeting.meeting_on)})"
                )
            return f"Record the LIFT outcome after the meeting on {day(self.meeting.meeting_on)}"
        if step == EPStep.follow_up:
            assert self.lift is not None
            left = [
                f"{n}. {f.action}"
                for n, f in enumerate(self.lift.follow_ups, 1)
                if n not in self.follow_ups_done
            ]
            return f"Record each follow-up action when done: {'; '.join(left)}"
        return self.outcome or "Nothing more on this referral"

    def view(self) -> dict[str, Any]:
        """The referral in words and dates (flat, as the case page lists it)."""
        f, lift = self.figures, self.lift
        return {
            "service": self.settings.title,
            "route": "a LIFT meeting"
            if self.settings.route == "lift"
            else "a visit or consultation, then a report",
            "estimate": self.needs if self.settings.draws_on_allocation else None,
            "allocation": f"{self.left(f)} ({f.label}, EP-ALLOCATION)" if f else None,
            "consent": None if self.consent is None else ("given" if self.consent.given else "refused"),
            "consent_on": iso(self.consent.answered_on) if self.consent else None,
            "service_answer": None
            if self.answer is None
            else ("accepted" if self.answer.accepted else "declined"),
            "proposed_on": iso(self.answer.proposed_on) if self.answer else None,
            "visit_held": iso(self.visit.held_on) if self.visit else None,
            "report_received": iso(self.report.received_on) if self.report else None,
            "recommendations": self.report.recommendations if self.report else (lift.advice if lift else []),
            "lift_meeting": iso(self.meeting.meeting_on) if self.meeting else None,
            "lift_outcome": LIFT_OUTCOME_WORDS[lift.outcome] if lift else None,
            "follow_ups": [
                f"{n}. {u.action}"
                + (f" (done {day(self.follow_ups_done[n])})" if n in self.follow_ups_done else "")
                for n, u in enumerate(lift.follow_ups, 1)
            ]
            if lift
            else [],
        }


PROCESS = Process(
    name="ep_referral",
    title="Referral to the EP or another specialist service",
    workflow=EPReferral,
    steps=EPStep,
    start=EPReferralStart,
    build_input=build_input,
    facts=EPReferralFacts,
    timeline=ep_referral_timeline,
    templates=(
        "approval-request",
        "approval-decided",
        "reminder",
        "escalation",
        "overdue",
        "ep-consent-request",
        "ep-consent-chase",
        "ep-referral",
        "ep-report",
    ),
)
