"""The graduated approach's machinery: one cycle's state, the watches that span cycles, emails, the case view.

Across cycles (carried by continue-as-new): GA-PARENT-MEETINGS, one deadline per term due on the term's
last school day (the SENDCo reminded, the headteacher told once the term ends without a parent meeting);
GA-ANNUAL-REPORT, the yearly report to the parents; GA-SPECIALIST, the cycles in a row without expected
progress.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from datetime import date, time, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.dates import SchoolYearCalendar, add_months, english_moment
    from domain.deadline_states import DeadlineState
    from domain.graduated_approach import (
        DECISION_WORDS,
        NEED_WORDS,
        SOURCE_WORDS,
        SOURCES,
        Assessment,
        GAStep,
        GraduatedApproachInput,
        ReviewMeeting,
        ReviewOutcome,
        SupportPlan,
    )
    from domain.rules import rule
    from domain.schemas import Invite, Recipient
    from domain.timelines import (
        GraduatedApproachFacts,
        SchoolTerm,
        TimelineEntry,
        default_review_date,
        graduated_approach_timeline,
        school_term,
    )
    from workflows.deadlines import HEADTEACHER, PARENT, SENDCO, Policy
    from workflows.kit import CaseWorkflow, day, iso, rule_context

SPECIALIST_FLAG = "specialist-suggested"
# The term's meeting: the SENDCo reminded two weeks and three days before the term ends, the headteacher
# told once when it ends without one (a later meeting cannot make up a past term).
TERMLY = Policy(remind_days_before=(14, 3), escalate_to=(HEADTEACHER,), escalate_every=timedelta(days=3650))
PARENTS_VIEWS = Policy(remind_days_before=(3,), escalate_to=(SENDCO,), chase_owner_after_breach=False)


class SupportCase(CaseWorkflow):
    """State and side effects of one support cycle; GraduatedApproach runs the steps."""

    inp: GraduatedApproachInput
    calendar: SchoolYearCalendar
    facts: GraduatedApproachFacts
    assessments: dict[str, Assessment]
    support_plan: SupportPlan | None
    plan_seen_on: date | None
    sessions: int
    meeting: ReviewMeeting | None
    meeting_version: int
    outcome: ReviewOutcome | None
    parent_meetings: list[date]
    terms_settled: list[str]
    annual_report_due: date
    annual_reports: int
    without_progress: int
    referrals: list[str]
    recommendations: list[str]
    watchers: list[asyncio.Task[None]]
    term: SchoolTerm | None

    def start_cycle(self, inp: GraduatedApproachInput) -> None:
        self.open_case(inp.case, cycle=inp.cycle, flags=inp.flags)
        self.inp = inp
        self.step = GAStep.assess
        self.calendar = SchoolYearCalendar.from_school(inp.case.calendar.terms, inp.case.calendar.inset_days)
        start = inp.cycle_start or self.today
        self.annual_report_due = inp.annual_report_due or add_months(
            inp.started_on or start, rule("GA-ANNUAL-REPORT").offset or 12
        )
        self.facts = GraduatedApproachFacts(
            cycle_start=start,
            assess_school_days=inp.assess_school_days,
            annual_report_due=self.annual_report_due,
        )
        self.assessments, self.support_plan, self.plan_seen_on, self.sessions = {}, None, None, 0
        self.meeting, self.meeting_version, self.outcome = None, 0, None
        self.parent_meetings = list(inp.parent_meetings)
        self.terms_settled = list(inp.terms_settled)
        self.annual_reports, self.without_progress = inp.annual_reports, inp.without_progress
        self.referrals, self.watchers, self.term = list(inp.referrals), [], None
        self.recommendations = list(inp.recommendations)

    # --- who and when -----------------------------------------------------------------------------
    @property
    def teacher(self) -> Recipient:
        return Recipient(kind="staff", staff_id=self.inp.class_teacher_id)

    def asked(self, source: str) -> Recipient:
        """Who is asked for each assessment: the pupil's views are gathered by the class teacher."""
        return {"sendco": SENDCO, "parents": PARENT}.get(source, self.teacher)

    def timeline(self) -> list[TimelineEntry]:
        return graduated_approach_timeline(self.facts, self.calendar)

    @property
    def default_review(self) -> date:
        return default_review_date(self.facts, self.calendar)

    @property
    def meeting_day(self) -> date:
        assert self.meeting is not None
        return self.meeting.meeting_at.date()

    def missing(self) -> list[str]:
        return [s for s in SOURCES if s not in self.assessments]

    # --- GA-PARENT-MEETINGS and GA-ANNUAL-REPORT: watched across cycles ----------------------------
    def watch_across_cycles(self) -> None:
        self.watchers = [
            asyncio.ensure_future(self.watch_parent_meetings()),
            asyncio.ensure_future(self.watch_annual_report()),
        ]

    def met_in(self, term: SchoolTerm) -> bool:
        """A meeting in the term, or in the holiday before it, counts for the term."""
        return any(school_term(self.calendar, d).label == term.label for d in self.parent_meetings)

    async def watch_parent_meetings(self) -> None:
        """Each term: a deadline on its last school day, met by any meeting with the parents in the term."""
        while True:
            term = self.term = school_term(self.calendar, self.today)
            if term.label not in self.terms_settled:
                watch = self.deadline(
                    f"parent-meeting:{term.label}",
                    "parent-meeting",
                    f"Meet the parents at least once in the {term.label} term",
                    "GA-PARENT-MEETINGS",
                    term.end,
                    SENDCO,
                    TERMLY,
                )
                waiting = asyncio.ensure_future(watch.until(lambda term=term: self.met_in(term)))
                await workflow.wait_condition(
                    lambda waiting=waiting, watch=watch: (
                        waiting.done() or watch.status == DeadlineState.escalated
                    )
                )
                if waiting.done() and watch.status == DeadlineState.cancelled:
                    return  # the case is closing
                if not waiting.done():  # told once: the row stays escalated, the next term begins
                    waiting.cancel()
                    with suppress(asyncio.CancelledError):
                        await waiting
                    self.flag(f"no-parent-meeting-{term.label.replace(' ', '-')}")
                    self.show()
                self.terms_settled.append(term.label)
            after = english_moment(term.end + timedelta(days=1), time(0, 0))
            if after > workflow.now():
                await workflow.sleep(after - workflow.now())

    async def watch_annual_report(self) -> None:
        while True:
            n = self.annual_reports + 1
            watch = self.deadline(
                f"annual-report:{n}",
                "annual-report",
                "Send the annual report on progress to the parents",
                "GA-ANNUAL-REPORT",
                self.annual_report_due,
                SENDCO,
            )
            if await watch.until(lambda n=n: self.annual_reports >= n) == DeadlineState.cancelled:
                return  # the case is closing
            self.annual_report_due = add_months(self.annual_report_due, rule("GA-ANNUAL-REPORT").offset or 12)

    async def stop_watching(self, *, closing: bool) -> None:
        """The cycle ends: the watches stop (the next cycle resumes them), or end with the case."""
        if closing:
            still = [
                watch
                for key, watch in self.deadlines.items()
                if key.startswith(("parent-meeting:", "annual-report:")) and not watch.is_final
            ]
            for watch in still:
                watch.cancel()
            await workflow.wait_condition(lambda: all(w.is_final for w in still))
        for task in self.watchers:
            if not task.done():
                task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    # --- the steps' emails ------------------------------------------------------------------------
    async def tell_parents_support_begins(self) -> None:
        """GA-INFORM: the parents told at once, in plain words, and who to contact."""
        context = {
            "needs": [NEED_WORDS[str(n)] for n in self.inp.needs],
            "reason": self.inp.reason,
            **rule_context("GA-INFORM"),
        }
        await self.email(
            "inform",
            "ga-inform",
            [PARENT],
            context,
            "parents-informed",
            "GA-INFORM: the parents are told the school is making special educational provision",
        )
        watch = self.deadline(
            "inform", "inform", "Tell the parents SEN support has begun", "GA-INFORM", self.today, SENDCO
        )
        watch.status = DeadlineState.met
        self.io.stage(deadlines=[watch._row()])
        self.finished.add(watch.key)

    async def ask_for_assessments(self) -> None:
        """Each assessment and the views asked for by email, each chased by its own deadline."""
        due = self.due("assess")
        for source in SOURCES:
            to = self.asked(source)
            await self.email(
                f"assess:{source}",
                "ga-assessment-request",
                [to],
                {
                    "source": source,
                    "due": due.isoformat(),
                    "cycle": self.inp.cycle,
                    **rule_context("GA-REVIEW"),
                },
                "assessment-requested",
                f"{SOURCE_WORDS[source]} asked for by {day(due)}",
            )
            watch = self.deadline(
                self.key(f"assess:{source}"),
                "assess",
                f"{SOURCE_WORDS[source]} for the support plan",
                "GA-REVIEW",
                due,
                to,
                PARENTS_VIEWS if source == "parents" else None,
            )
            self.watch(
                watch, lambda source=source: source in self.assessments or self.support_plan is not None
            )

    async def send_plan(self, plan: SupportPlan) -> None:
        review = self.due("review")
        context = {
            "outcomes": plan.outcomes,
            "interventions": len(plan.interventions),
            "review_on": review.isoformat(),
            "cycle": self.inp.cycle,
            "recommendations": self.recommendations,
            **rule_context("GA-REVIEW"),
        }
        await self.email(
            "plan",
            "ga-plan",
            [PARENT],
            context,
            "plan-sent",
            f"Support plan with {len(plan.outcomes)} outcomes sent; review on {day(review)} (GA-REVIEW)",
        )

    def invite(self) -> Invite:
        assert self.meeting is not None
        return Invite(
            uid=f"{self.inp.case.workflow_id}-c{self.inp.cycle}-review@send-case-engine",
            start=self.meeting.meeting_at,
            minutes=self.meeting.minutes,
            summary=f"SEN support review meeting (case {self.inp.case.case_id[:8]})",
            location=self.meeting.location,
            sequence=self.meeting_version - 1,
        )

    async def send_invitation(self) -> None:
        assert self.meeting is not None
        context = {
            "meeting_at": self.meeting.meeting_at.isoformat(),
            "meeting_time": f"{self.meeting.meeting_at:%H:%M}",
            "location": self.meeting.location,
            "rescheduled": self.meeting_version > 1,
            **rule_context("GA-REVIEW"),
        }
        await self.email(
            f"review-invitation-{self.meeting_version}",
            "ga-invitation",
            [PARENT],
            context,
            "invitation-sent",
            f"Review meeting on {day(self.meeting_day)} at {context['meeting_time']}",
            invite=lambda _: self.invite(),
        )

    async def suggest_specialist(self) -> None:
        """GA-SPECIALIST: the SENDCo prompted, on the case (flag, next action) and by email."""
        self.flag(SPECIALIST_FLAG)
        context = {"cycles": self.without_progress, **rule_context("GA-SPECIALIST")}
        await self.email(
            "specialist",
            "ga-specialist",
            [SENDCO],
            context,
            "specialist-suggested",
            f"GA-SPECIALIST: {self.without_progress} cycles in a row without expected progress; "
            "involve a specialist",
        )

    # --- the case view ----------------------------------------------------------------------------
    def next_action(self) -> str:
        text = self._next_action()
        if SPECIALIST_FLAG in self.flags and self.step != GAStep.closed:
            text = (
                f"Consider involving a specialist: {self.without_progress} cycles in a row without expected "
                f"progress (GA-SPECIALIST). {text}"
            )
        return text

    def _next_action(self) -> str:
        step = self.step
        if step == GAStep.assess:
            waiting = ", ".join(SOURCE_WORDS[s].lower().removeprefix("the ") for s in self.missing())
            return (
                f"Record the assessments and views as they arrive (due by {day(self.due('assess'))}, "
                f"GA-REVIEW; still waiting for: {waiting}), then the support plan"
            )
        if step == GAStep.plan:
            advice = (
                f"; build in the specialist's {len(self.recommendations)} recommendations on the case"
                if self.recommendations
                else ""
            )
            return (
                "Record the support plan: the outcomes, the provision and the review date (by default "
                f"{day(self.default_review)}, the end of term, GA-REVIEW){advice}"
            )
        if step == GAStep.do:
            seen = "" if self.plan_seen_on else "; record when the parents confirm they have seen the plan"
            return (
                f"Set the review meeting with the parents: the review is due by {day(self.due('review'))} "
                f"(GA-REVIEW){seen}"
            )
        if step == GAStep.review:
            return (
                f"Hold the review meeting on {day(self.meeting_day)}, then record progress on each outcome "
                "and the decision"
            )
        if self.outcome is not None and self.outcome.decision == "end_support":
            return "Nothing more: SEN support has ended and the parents have been told"
        return "Nothing more on this case"

    def view(self) -> dict[str, Any]:
        return {
            "cycle": self.inp.cycle,
            "cycle_start": iso(self.facts.cycle_start),
            "needs": [str(n) for n in self.inp.needs],
            "assessments_received": sorted(self.assessments),
            "outcomes": len(self.support_plan.outcomes) if self.support_plan else None,
            "interventions": [i.intervention_id for i in self.support_plan.interventions]
            if self.support_plan
            else [],
            "review_on": iso(self.due("review")),
            "plan_seen_on": iso(self.plan_seen_on),
            "sessions_logged": self.sessions,
            "meeting": iso(self.meeting.meeting_at) if self.meeting else None,
            "parent_meetings": [d.isoformat() for d in self.parent_meetings[-6:]],
            "cycles_without_expected_progress": self.without_progress,
            "annual_report_due": iso(self.annual_report_due),
            "referrals": self.referrals,
            "recommendations": self.recommendations,
            "decision": DECISION_WORDS[self.outcome.decision] if self.outcome else None,
        }

    # --- checks the actions share -----------------------------------------------------------------
    def require_open(self) -> None:
        if self.outcome is not None:
            raise ApplicationError("this cycle has been reviewed: the next one is starting", type="Conflict")

    def require_plan(self) -> SupportPlan:
        if self.support_plan is None:
            raise ApplicationError("record the support plan first", type="Conflict")
        return self.support_plan
