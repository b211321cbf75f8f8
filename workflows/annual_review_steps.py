"""The annual review's machinery: deadlines, emails, the case view and the meeting date checks."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from datetime import date, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import words
    from domain.annual_review import (
        AdviceReceived,
        AmendmentNotice,
        AnnualReviewInput,
        DisputeWindow,
        FinalPlan,
        LADecision,
        MeetingRecord,
        ParentComments,
        ParentViews,
        ReportDraft,
        RescheduleMeeting,
        ReviewStep,
        SetMeeting,
    )
    from domain.dates import english_moment
    from domain.schemas import Invite, Recipient
    from domain.timelines import (
        AnnualReviewFacts,
        TimelineEntry,
        annual_review_timeline,
        latest_meeting_date,
        transfer_latest_meeting,
    )
    from workflows.deadlines import HEADTEACHER, REMIND_AT, SENDCO
    from workflows.kit import CaseWorkflow, day, iso, labels, rule_context

LATE = ("missed", "escalated")
ADVISER_WORDS = {
    "ep_service": "educational psychology",
    "health": "health",
    "social_care": "social care",
    "staff": "school staff",
    "other": "a specialist",
}


def latest_meeting_rule(facts: AnnualReviewFacts) -> str:
    """The rule fixing the latest meeting date: PT-LATEST-MEETING in a transfer year, else the review's."""
    transfer = transfer_latest_meeting(facts)
    if transfer is not None and transfer <= latest_meeting_date(facts):
        return "PT-LATEST-MEETING"
    return "AR-UNDER5" if facts.under5 else "AR-DUE"


def meeting_problems(facts: AnnualReviewFacts, meeting: date, today: date) -> list[tuple[str, str]]:
    """(rule id, why) for each rule a meeting date breaks: the latest meeting date, 2 weeks' notice."""
    problems = []
    latest = latest_meeting_date(facts)
    if meeting > latest:
        rule_id = latest_meeting_rule(facts)
        problems.append(
            (rule_id, f"the meeting on {day(meeting)} is after the latest date, {day(latest)} ({rule_id})")
        )
    timeline = annual_review_timeline(facts.model_copy(update={"meeting": meeting}))
    invite_by = next(e.due for e in timeline if e.step == "send-invitations")
    if invite_by < today:
        problems.append(
            ("AR-INVITE", f"less than 2 weeks' notice: invitations were due by {day(invite_by)} (AR-INVITE)")
        )
    return problems


def because(problems: list[tuple[str, str]]) -> str:
    return "; ".join(why for _, why in problems)


class ReviewCase(CaseWorkflow):
    """State and side effects of one annual review cycle; AnnualReview runs the steps."""

    la_late_template = "ar-la-late"

    inp: AnnualReviewInput
    facts: AnnualReviewFacts
    meeting: SetMeeting | None
    meeting_version: int
    rescheduled: RescheduleMeeting | None
    held: MeetingRecord | None
    advice: dict[str, AdviceReceived]
    parent_views: ParentViews | None
    circulated: bool
    report: ReportDraft | None
    report_sent: bool
    decision: LADecision | None
    notice: AmendmentNotice | None
    comments: ParentComments | None
    final_plan: FinalPlan | None
    dispute: DisputeWindow | None
    breaches: list[tuple[str, str]]
    late_advice: list[str]

    def start_cycle(self, inp: AnnualReviewInput) -> None:
        """Fresh state for one cycle."""
        self.open_case(inp.case, cycle=inp.cycle, flags=inp.flags)
        self.inp, self.facts = inp, inp.facts
        self.step = ReviewStep.planning
        self.meeting, self.meeting_version, self.rescheduled, self.held = None, 0, None, None
        self.advice, self.parent_views, self.circulated = {}, None, False
        self.report, self.report_sent = None, False
        self.decision, self.notice, self.comments, self.final_plan = None, None, None, None
        self.dispute = inp.dispute
        self.breaches, self.late_advice = [], []

    # --- who ------------------------------------------------------------------------------------------
    @property
    def la(self) -> Recipient:
        return next(r for r in self.inp.invitees if r.kind == "la_sen")

    @property
    def everyone(self) -> list[Recipient]:
        return self.inp.everyone()

    # --- dates: every one from the timeline ---------------------------------------------------------
    def timeline(self) -> list[TimelineEntry]:
        return annual_review_timeline(self.facts)

    def rule_of(self, step: str) -> str:
        found = self.entry(step)
        assert found is not None
        return found.rule_id

    @property
    def meeting_day(self) -> date:
        assert self.meeting is not None
        return self.meeting.meeting_at.date()

    def meeting_context(self) -> dict[str, Any]:
        assert self.meeting is not None
        return {
            "meeting_at": self.meeting.meeting_at.isoformat(),
            "meeting_time": f"{self.meeting.meeting_at:%H:%M}",
            "location": self.meeting.location,
            "cycle": self.inp.cycle,
        }

    def invite(self, version: int) -> Callable[[Recipient], Invite]:
        assert self.meeting is not None
        meeting = self.meeting

        def make(_: Recipient) -> Invite:
            return Invite(
                uid=f"{self.inp.case.workflow_id}-c{self.inp.cycle}-meeting@send-case-engine",
                start=meeting.meeting_at,
                minutes=meeting.minutes,
                summary=f"EHCP annual review meeting (case {self.inp.case.case_id[:8]})",
                location=meeting.location,
                sequence=version - 1,
            )

        return make

    # --- the case view ------------------------------------------------------------------------------
    def next_action(self) -> str:
        """What the SENDCo must do next, in plain words."""
        step = self.step
        if step == "planning":
            latest = latest_meeting_date(self.facts)
            return (
                f"Set the date of the annual review meeting by {day(self.due('set-meeting-date'))}: "
                f"the meeting must be held by {day(latest)} ({latest_meeting_rule(self.facts)})"
            )
        if step == "meeting-set":
            missing = dict.fromkeys(
                words.in_text(a.kind) for a in self.inp.advisers if a.label not in self.advice
            )
            if not self.circulated:
                return (
                    f"Record the advice as it arrives (still waiting for: {', '.join(missing) or 'nobody'})"
                    f" and the parents' views; the advice goes to every invitee by "
                    f"{day(self.due('circulate-advice'))} (AR-ADVICE-CIRCULATE). "
                    f"Meeting on {day(self.meeting_day)}"
                )
            return (
                f"Hold the meeting on {day(self.meeting_day)}, then record who attended, the pupil's and "
                "parents' views, progress on outcomes and the recommendation"
            )
        if step == "report":
            return (
                "Draft the review report and submit it for the headteacher's approval: it must reach the LA "
                f"and every invitee by {day(self.due('send-report'))} (AR-REPORT)"
            )
        if step == "report-approval":
            return "The headteacher approves the review report (or sends it back with a comment)"
        if step == "awaiting-la-decision":
            return (
                "Record the LA's decision (maintain, amend or cease) when it arrives: the LA must decide by "
                f"{day(self.due('la-decision'))} (AR-LA-DECISION)"
            )
        if step == "amending" and self.notice is None:
            return (
                "Record the LA's proposed amendments when they are served: due by "
                f"{day(self.due('amend-proposal'))} (AR-AMEND-PROPOSAL)"
            )
        if step == "amending":
            return (
                f"Record the parents' comments (their window ends {day(self.due('amend-comments'))}, "
                "AR-AMEND-COMMENTS) and the final amended plan when the LA issues it (due by "
                f"{day(self.due('final-amended-plan'))}, AR-FINAL-AMENDED)"
            )
        if step == "closed" and self.dispute is not None:
            return (
                "Nothing more: the LA decided to cease the plan. The parents may ask for mediation by "
                f"{day(self.dispute.mediation_by)} and appeal by {day(self.dispute.appeal_by)}"
            )
        return "Nothing more on this case"

    def view(self) -> dict[str, Any]:
        """What the case shows: the cycle's key dates and decisions (no names)."""
        f = self.facts
        return {
            "cycle": self.inp.cycle,
            "cycle_start": iso(f.cycle_start),
            "year_group": f.year_group,
            "under5": f.under5,
            "transfer": f.transfer,
            "transfer_year": f.transfer_year,
            "transfer_date": iso(f.transfer_date),
            "review_due": iso(self.due("review-due")),
            "review_rule": self.rule_of("review-due"),
            "latest_meeting": iso(latest_meeting_date(f)),
            "meeting": iso(self.meeting.meeting_at) if self.meeting else None,
            "meeting_location": self.meeting.location if self.meeting else None,
            "invitees": [r.label for r in self.everyone],
            "advisers": [r.label for r in self.inp.advisers],
            "advice_received": sorted(self.advice),
            "recommendation": self.held.recommendation if self.held else None,
            "la_decision": self.decision.decision if self.decision else None,
            "la_decision_date": iso(self.decision.decided_on) if self.decision else None,
            "amendment_notice": iso(self.notice.served_on) if self.notice else None,
            "final_plan_issued": iso(self.final_plan.issued_on) if self.final_plan else None,
            "dispute_window": self.dispute.model_dump(mode="json") if self.dispute else None,
        }

    # --- the details of the steps (workflows/annual_review.py runs the process) ---------------------
    async def replan(self) -> None:
        """The meeting moved: every pending date follows it (who and why in the chronology)."""
        change = self.rescheduled
        assert change is not None
        key = self.key("circulate-advice")
        if self.is_open(key):
            self.deadlines[key].move(self.due("circulate-advice"), change.actor, change.reason)
        else:
            self.done_now("circulate-advice", "Circulate the advice to every invitee", SENDCO)
        for adviser in self.inp.advisers:
            key = self.key(f"advice:{adviser.label}")
            if self.is_open(key):
                self.deadlines[key].move(self.due("circulate-advice"), change.actor, change.reason)

    async def tell_head_of_breach(self) -> None:
        assert self.meeting is not None
        context = {
            **self.meeting_context(),
            "problems": [{"text": why, **rule_context(rule_id)} for rule_id, why in self.breaches],
            "reason": self.meeting.breach_reason,
        }
        await self.email(
            f"meeting-breach-{self.meeting_version}",
            "ar-meeting-breach",
            [HEADTEACHER],
            context,
            "meeting-breach-notified",
            f"Meeting date accepted with a reason although {because(self.breaches)}",
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
        self.done_now("send-invitations", "Send the meeting invitations", SENDCO)

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
        self.done_now("request-advice", "Ask every adviser for written advice", SENDCO)

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
        return english_moment(self.due("circulate-advice"), REMIND_AT)

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
        self.show()

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
        self.show()

    def accept_meeting(self, meeting: SetMeeting) -> None:
        self.breaches = meeting_problems(self.facts, meeting.meeting_at.date(), self.today)
        if self.breaches:
            self.flag("meeting-breach")
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
                because(problems) + ". Choose another date, or record a breach_reason to accept it",
                type="Invalid",
            )

    def meeting_note(self, meeting: SetMeeting) -> str:
        note = f"{day(meeting.meeting_at.date())} at {meeting.meeting_at:%H:%M}"
        if self.breaches:
            note += f"; accepted although {because(self.breaches)}. Reason: {meeting.breach_reason}"
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

    def time_to_circulate(self) -> bool:
        return not self.circulated and (self.advice_complete() or workflow.now() >= self.circulate_at())

    async def until_something_to_do(self, version: int) -> None:
        """Wait for the meeting to be held or moved, advice to arrive, or the day the pack must go."""
        timeout = None if self.circulated else max(self.circulate_at() - workflow.now(), timedelta(seconds=1))
        with suppress(TimeoutError):
            await workflow.wait_condition(lambda: self.something_to_do(version), timeout=timeout)

    def stop_chasing_advice(self) -> None:
        """The meeting is held: advice still missing is no longer chased."""
        for adviser in self.inp.advisers:
            key = self.key(f"advice:{adviser.label}")
            if self.is_open(key):
                self.deadlines[key].cancel()

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

    async def send_the_report(self) -> None:
        """AR-REPORT: the approved report goes to the LA and everyone invited."""
        assert self.held is not None
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
