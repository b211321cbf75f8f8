"""A pupil with SEN moving to the next phase of education in September.

An EHC plan (the annual review's phase-transfer dates, Regs 18):
1. The review meeting is held by PT-LATEST-MEETING (the transfer date less 12 weeks), so the LA's
   decision and the final plan can still come in time.
2. The LA issues the amended plan naming the next setting by PT-15FEB (phase) or PT-31MAR (post-16); a
   late LA is escalated to the headteacher and told to the parents.
SEN support (no statutory date):
1. The SENDCo sets a transition meeting with the receiving school in the summer term before the move
   (a school day of that term on the school's calendar); the receiving school and the parents are
   invited, with a calendar file.
2. The meeting is recorded once held.
The case closes when its steps are done.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.dates import SchoolYearCalendar
    from domain.phase_transfer import (
        AmendedPlanIssued,
        MeetingHeld,
        PhaseTransferInput,
        PhaseTransferStart,
        PhaseTransferStep,
        TransitionMeeting,
    )
    from domain.schemas import Actor, CaseRef, Invite, Recipient
    from domain.timelines import (
        PhaseTransferFacts,
        SchoolTerm,
        TimelineEntry,
        phase_transfer_timeline,
        summer_term_before,
    )
    from workflows.deadlines import PARENT, SENDCO
    from workflows.kit import CaseWorkflow, day, iso
    from workflows.process import Process, action

LA = Recipient(kind="la_sen")
REVIEW = "Hold the phase-transfer review meeting"
FINAL = "The LA issues the amended EHC plan naming the next setting"


@workflow.defn(name="phase_transfer")
class PhaseTransfer(CaseWorkflow):
    la_late_template = "tr-la-late"

    @workflow.init
    def __init__(self, inp: PhaseTransferInput) -> None:
        self.open_case(inp.case)
        self.inp, self.start = inp, inp.start
        self.step = PhaseTransferStep.planning
        self.calendar = SchoolYearCalendar.from_school(inp.case.calendar.terms, inp.case.calendar.inset_days)
        self.facts: PhaseTransferFacts = inp.start.facts()
        self.summer: SchoolTerm = summer_term_before(self.calendar, inp.start.transfer_year)
        self.meeting: TransitionMeeting | None = None
        self.held: MeetingHeld | None = None
        self.final: AmendedPlanIssued | None = None

    @workflow.run
    async def run(self, inp: PhaseTransferInput) -> str:
        if self.start.plan == "ehc_plan":
            final = self.entry("final-plan")
            assert final is not None
            self.io.remark(
                "case-opened",
                f"Moving to the next phase in September {self.start.transfer_year}: the amended plan "
                f"is final by {day(final.due)} ({final.rule_id})",
                inp.started_by,
            )
            self.track("review-meeting", REVIEW, SENDCO, lambda: self.held is not None)
            self.track("final-plan", FINAL, LA, lambda: self.final is not None, on_late=self.tell_la_late)
            self.show()
            await workflow.wait_condition(lambda: all(key in self.finished for key in self.tasks))
        else:
            summer = f"{day(self.summer.start)} to {day(self.summer.end)}"
            self.io.remark(
                "case-opened",
                f"Moving to the next phase in September {self.start.transfer_year}: a transition "
                f"meeting with the receiving school in the summer term ({summer})",
                inp.started_by,
            )
            self.show()
            await workflow.wait_condition(lambda: self.meeting is not None)
            await self.invite_to_meeting()
            await workflow.wait_condition(lambda: self.held is not None)
        self.show(PhaseTransferStep.closed, closed=True)
        await self.settle()
        return "transferred"

    # --- the process's dates and words ----------------------------------------------------------------
    def timeline(self) -> list[TimelineEntry]:
        return phase_transfer_timeline(self.facts, self.calendar)

    def next_action(self) -> str:
        if self.start.plan == "ehc_plan":
            if self.held is None:
                return f"{REVIEW} by {day(self.due('review-meeting'))} (PT-LATEST-MEETING), then record it"
            if self.final is None:
                return f"Record the amended plan when the LA issues it (due {day(self.due('final-plan'))})"
            return "Nothing: the plan names the next setting"
        if self.meeting is None:
            return (
                "Set the transition meeting with the receiving school, in the summer term "
                f"({day(self.summer.start)} to {day(self.summer.end)})"
            )
        if self.held is None:
            return f"Hold the transition meeting on {day(self.meeting.meeting_at.date())}, then record it"
        return "Nothing: the transition meeting is held"

    def view(self) -> dict[str, Any]:
        return {
            "plan": self.start.plan,
            "transfer_year": self.start.transfer_year,
            "summer_term": [iso(self.summer.start), iso(self.summer.end)],
            "meeting_at": iso(self.meeting.meeting_at) if self.meeting else None,
            "held_on": iso(self.held.held_on) if self.held else None,
            "final_plan_on": iso(self.final.issued_on) if self.final else None,
        }

    # --- SEN support: the transition meeting ------------------------------------------------------------
    @property
    def invitees(self) -> list[Recipient]:
        school = self.start.receiving_school_id
        return [Recipient(kind="other", agency_id=school), PARENT] if school is not None else [PARENT]

    async def invite_to_meeting(self) -> None:
        meeting = self.meeting
        assert meeting is not None
        self.show(PhaseTransferStep.meeting_set)

        def invite(_: Recipient) -> Invite:
            return Invite(
                uid=f"{self.inp.case.workflow_id}-transition@send-case-engine",
                start=meeting.meeting_at,
                minutes=meeting.minutes,
                summary=f"Transition meeting (case {self.inp.case.case_id[:8]})",
                location=meeting.location,
            )

        await self.email(
            "transition-meeting",
            "tr-transition-meeting",
            self.invitees,
            {
                "meeting_at": meeting.meeting_at.isoformat(),
                "meeting_time": f"{meeting.meeting_at:%H:%M}",
                "location": meeting.location,
                "transfer_year": self.start.transfer_year,
            },
            "transition-meeting-invitations",
            f"Invited to the transition meeting on {day(meeting.meeting_at.date())}",
            invite,
        )

    # --- what the SENDCo records: one Update each --------------------------------------------------------
    @action("Set the transition meeting", steps=[PhaseTransferStep.planning])
    async def set_transition_meeting(self, meeting: TransitionMeeting) -> str:
        """Set the transition meeting with the receiving school (SEN support, in the summer term)."""
        self.meeting = meeting
        await self.io.log(
            "transition-meeting-set",
            f"{day(meeting.meeting_at.date())} at {meeting.meeting_at:%H:%M}",
            meeting.actor,
        )
        return meeting.meeting_at.isoformat()

    def validate_set_transition_meeting(self, meeting: TransitionMeeting) -> None:
        if self.start.plan != "sen_support":
            raise ApplicationError(
                "an EHC plan's transfer follows its phase-transfer review meeting instead", type="Conflict"
            )
        if self.meeting is not None:
            raise ApplicationError("the transition meeting is already set", type="Conflict")
        on = meeting.meeting_at.date()
        if on < self.today:
            raise ApplicationError(f"{day(on)} is in the past", type="Invalid")
        if not (self.summer.start <= on <= self.summer.end and self.calendar.is_school_day(on)):
            raise ApplicationError(
                f"choose a school day in the summer term, {day(self.summer.start)} to {day(self.summer.end)}",
                type="Invalid",
            )

    @action("Record a meeting held", steps=[PhaseTransferStep.planning, PhaseTransferStep.meeting_set])
    async def record_meeting_held(self, held: MeetingHeld) -> str:
        """Record the transition meeting, or the phase-transfer review meeting, once held."""
        self.held = held
        note = f": {held.note}" if held.note.strip() else ""
        what = "Review meeting" if self.start.plan == "ehc_plan" else "Transition meeting"
        await self.io.log("meeting-held", f"{what} held on {day(held.held_on)}{note}", held.actor)
        return "recorded"

    def validate_record_meeting_held(self, held: MeetingHeld) -> None:
        if self.held is not None:
            raise ApplicationError("the meeting is already recorded", type="Conflict")
        if self.start.plan == "sen_support" and self.meeting is None:
            raise ApplicationError("set the transition meeting first", type="Conflict")
        if self.meeting is not None and held.held_on < self.meeting.meeting_at.date():
            raise ApplicationError("the meeting cannot be held before its date", type="Invalid")
        self.not_future(held.held_on)

    @action("Record the amended plan naming the next setting", steps=[PhaseTransferStep.planning])
    async def record_amended_plan(self, final: AmendedPlanIssued) -> str:
        """Record the day the LA issued the amended EHC plan naming the next setting."""
        self.final = final
        await self.io.log(
            "final-plan",
            f"Amended plan issued on {day(final.issued_on)}, naming {final.setting}",
            final.actor,
        )
        return "recorded"

    def validate_record_amended_plan(self, final: AmendedPlanIssued) -> None:
        if self.start.plan != "ehc_plan":
            raise ApplicationError("only a pupil with an EHC plan has an amended plan", type="Conflict")
        if self.final is not None:
            raise ApplicationError("the amended plan is already recorded", type="Conflict")
        self.not_future(final.issued_on)


def build_input(case: CaseRef, start: PhaseTransferStart, actor: Actor) -> PhaseTransferInput:
    return PhaseTransferInput(case=case, started_by=actor, start=start)


PROCESS = Process(
    name="phase_transfer",
    title="Moving to the next phase of education",
    workflow=PhaseTransfer,
    steps=PhaseTransferStep,
    start=PhaseTransferStart,
    build_input=build_input,
    facts=PhaseTransferFacts,
    timeline=phase_transfer_timeline,
    templates=("reminder", "escalation", "overdue", "tr-la-late", "tr-transition-meeting"),
    one_open_per_pupil=True,
)
