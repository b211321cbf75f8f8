"""A pupil joining the school: the SENDCo's part in a smooth transition in.

1. Admission: the date is recorded, and the LA is told of the new pupil (TR-NEW-PUPIL-RETURN, by the end
   of the 5th day after entry in the admission register).
2. The previous school is asked for the common transfer file and the educational record (TR-CTF, which
   it sends within 15 school days of the pupil leaving its roll) and, for a pupil with SEN, the SEN file
   (TR-SEN-FILE): each chased until it arrives, and escalated to the headteacher when late.
3. For a pupil with SEN, the SENDCo meets the parents within the configured number of school days.
4. A pupil with an EHC plan gets an annual review case from the plan's dates (a linked case). When the
   family moved from another LA, the plan's transfer clocks are tracked: TR-LA-TRANSFER (working days)
   and then TR-NEW-LA-CONTACT (6 weeks after the transfer); a late LA is told to the parents.
5. A pupil on SEN support can start a graduated-approach case from the plan the previous school sent.
The case closes once every step is done.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.annual_review import AnnualReviewInput
    from domain.dates import SchoolYearCalendar
    from domain.graduated_approach import GraduatedApproachInput
    from domain.joining import (
        RECEIVED_WORDS,
        SEN_WORDS,
        JoiningInput,
        JoiningStart,
        JoiningStep,
        NewLAContact,
        ParentsMet,
        PlanTransferred,
        RecordsReceived,
        StartSenSupport,
    )
    from domain.schemas import Actor, CaseRef, Recipient
    from domain.timelines import AnnualReviewFacts, JoiningFacts, TimelineEntry, joining_timeline
    from domain.transitions import ReturnMade
    from workflows.deadlines import SENDCO
    from workflows.kit import CaseWorkflow, day, iso, rule_context
    from workflows.process import Process, action

LA = Recipient(kind="la_sen")
TITLES = {
    "new-pupil-return": "Tell the LA of the new pupil (the new-pupil return)",
    "records": "Receive the common transfer file and the educational record from the previous school",
    "sen-file": "Receive the SEN file from the previous school",
    "parents-meeting": "Meet the new pupil's parents",
    "la-transfer": "The old LA transfers the EHC plan to the new LA",
    "new-la-contact": "The new LA tells the family whether it will reassess and when it will review",
}


@workflow.defn(name="joining")
class Joining(CaseWorkflow):
    la_late_template = "tr-la-late"

    @workflow.init
    def __init__(self, inp: JoiningInput) -> None:
        self.open_case(inp.case)
        self.inp, self.start = inp, inp.start
        self.step = JoiningStep.joining
        self.calendar = SchoolYearCalendar.from_school(inp.case.calendar.terms, inp.case.calendar.inset_days)
        self.facts: JoiningFacts = inp.start.facts()
        self.done_on: dict[str, date] = {}  # each step done, and when
        self.annual_review_case: str | None = None
        self.sen_support_case: str | None = None

    @workflow.run
    async def run(self, inp: JoiningInput) -> str:
        start = self.start
        self.io.remark(
            "case-opened",
            f"Joined on {day(start.admission_date)} with {SEN_WORDS[start.sen]}"
            + ("" if start.previous_school_id else "; no previous school"),
            inp.started_by,
        )
        self.track("new-pupil-return", TITLES["new-pupil-return"], SENDCO, self.did("new-pupil-return"))  # 1.
        if self.previous_school is not None:
            await self.ask_previous_school(self.previous_school)  # 2.
        if self.facts.has_sen:
            self.track(
                "parents-meeting", TITLES["parents-meeting"], SENDCO, self.did("parents-meeting")
            )  # 3.
        if start.sen == "ehc_plan":
            await self.start_annual_review()  # 4.
            if start.moved_on is not None:
                self.track(
                    "la-transfer",
                    TITLES["la-transfer"],
                    LA,
                    self.did("la-transfer"),
                    on_late=self.tell_la_late,
                )
        self.show()
        await workflow.wait_condition(lambda: all(key in self.finished for key in self.tasks))
        self.io.remark("joined", "Every step of the pupil's joining is done")
        self.show(JoiningStep.closed, closed=True)
        await self.settle()
        return "joined"

    # --- the process's dates and words ----------------------------------------------------------------
    def timeline(self) -> list[TimelineEntry]:
        return joining_timeline(self.facts, self.calendar)

    @property
    def previous_school(self) -> Recipient | None:
        school = self.start.previous_school_id
        return None if school is None else Recipient(kind="other", agency_id=school)

    def did(self, step: str) -> Callable[[], bool]:
        return lambda: step in self.done_on

    def next_action(self) -> str:
        waiting = sorted((d for k, d in self.deadlines.items() if self.is_open(k)), key=lambda d: d.due)
        if not waiting:
            return "Nothing: the pupil has joined"
        first = waiting[0]
        return f"{first.title}: due {day(first.due)} ({first.rule_id}), then record it on the case"

    def view(self) -> dict[str, Any]:
        return {
            "admission_date": iso(self.start.admission_date),
            "sen": self.start.sen,
            **{f"{step.replace('-', '_')}_done_on": iso(on) for step, on in self.done_on.items()},
            "annual_review_case": self.annual_review_case,
            "sen_support_case": self.sen_support_case,
        }

    # --- 2. the previous school's records and SEN file ------------------------------------------------
    async def ask_previous_school(self, school: Recipient) -> None:
        steps = ["records", "sen-file"] if self.facts.has_sen else ["records"]
        for step in steps:
            self.track(step, TITLES[step], school, self.did(step))
        due = self.due("records")
        await self.email(
            "records-request",
            "tr-records-request",
            [school],
            {
                "admission_date": iso(self.start.admission_date),
                "due": iso(due),
                "sen_file": self.facts.has_sen,
                **rule_context("TR-CTF"),
            },
            "records-requested",
            f"The previous school is asked for the records{' and SEN file' if self.facts.has_sen else ''} "
            f"by {day(due)} (TR-CTF)",
        )

    # --- 4. an EHC plan: the annual review case ------------------------------------------------------------
    async def start_annual_review(self) -> None:
        start, actor = self.start, self.inp.started_by
        assert start.plan_cycle_start is not None and start.year_group is not None
        facts = AnnualReviewFacts(cycle_start=start.plan_cycle_start, year_group=start.year_group)
        ref = await self.open_linked(
            "annual_review",
            "annual-review",
            lambda ref: AnnualReviewInput(case=ref, facts=facts, started_by=actor),
            actor,
            {"cycle_start": start.plan_cycle_start.isoformat(), "year_group": start.year_group},
        )
        self.annual_review_case = ref.case_id
        self.io.remark(
            "annual-review-started",
            f"Annual review case {ref.case_id[:8]} started from the plan's date, "
            f"{day(start.plan_cycle_start)}",
        )

    # --- what the SENDCo records: one Update each --------------------------------------------------------
    def require_open(self, step: str, what: str) -> None:
        if not self.is_open(step):
            raise ApplicationError(f"{what} is not waited for on this case", type="Conflict")

    @action("Record the new-pupil return to the LA")
    async def record_new_pupil_return(self, made: ReturnMade) -> str:
        """Record the day the LA was told of the new pupil (TR-NEW-PUPIL-RETURN)."""
        self.done_on["new-pupil-return"] = made.made_on
        await self.io.log(
            "new-pupil-return", f"The LA was told of the new pupil on {day(made.made_on)}", made.actor
        )
        return "recorded"

    def validate_record_new_pupil_return(self, made: ReturnMade) -> None:
        self.require_open("new-pupil-return", "The new-pupil return")
        self.not_future(made.made_on)

    @action("Record the previous school's records or SEN file arriving")
    async def record_received(self, received: RecordsReceived) -> str:
        """Record the day the CTF and record, or the SEN file, arrived from the previous school."""
        step = "records" if received.item == "records" else "sen-file"
        self.done_on[step] = received.received_on
        await self.io.log(
            "records-received",
            f"{RECEIVED_WORDS[received.item]} arrived on {day(received.received_on)}",
            received.actor,
        )
        return step

    def validate_record_received(self, received: RecordsReceived) -> None:
        step = "records" if received.item == "records" else "sen-file"
        self.require_open(step, RECEIVED_WORDS[received.item])
        self.not_future(received.received_on)

    @action("Record meeting the parents")
    async def record_parents_meeting(self, met: ParentsMet) -> str:
        """Record the day the SENDCo met the new pupil's parents."""
        self.done_on["parents-meeting"] = met.met_on
        note = f": {met.note}" if met.note.strip() else ""
        await self.io.log("parents-met", f"The SENDCo met the parents on {day(met.met_on)}{note}", met.actor)
        return "recorded"

    def validate_record_parents_meeting(self, met: ParentsMet) -> None:
        self.require_open("parents-meeting", "A meeting with the parents")
        self.not_future(met.met_on)

    @action("Record the EHC plan's transfer to the new LA")
    async def record_plan_transferred(self, transfer: PlanTransferred) -> str:
        """Record the day the plan reached the new LA: the new LA's 6 weeks to contact the family start."""
        self.done_on["la-transfer"] = transfer.transferred_on
        self.facts = self.facts.model_copy(update={"plan_transferred_on": transfer.transferred_on})
        contact = self.track(
            "new-la-contact",
            TITLES["new-la-contact"],
            LA,
            self.did("new-la-contact"),
            on_late=self.tell_la_late,
        )
        self.show()
        await self.io.log(
            "plan-transferred",
            f"The EHC plan reached the new LA on {day(transfer.transferred_on)}; the new LA should contact "
            f"the family by {day(contact.due)} (TR-NEW-LA-CONTACT)",
            transfer.actor,
        )
        return contact.due.isoformat()

    def validate_record_plan_transferred(self, transfer: PlanTransferred) -> None:
        self.require_open("la-transfer", "An EHC plan transfer between LAs")
        self.not_future(transfer.transferred_on)
        assert self.start.moved_on is not None
        if transfer.transferred_on < min(
            self.start.moved_on, self.start.old_la_aware_on or self.start.moved_on
        ):
            raise ApplicationError(
                "the plan cannot have moved before the old LA knew of the move", type="Invalid"
            )

    @action("Record the new LA's contact with the family")
    async def record_la_contact(self, contact: NewLAContact) -> str:
        """Record the day the new LA told the family whether it will reassess and when it will review."""
        self.done_on["new-la-contact"] = contact.contacted_on
        note = f": {contact.note}" if contact.note.strip() else ""
        await self.io.log(
            "new-la-contact",
            f"The new LA contacted the family on {day(contact.contacted_on)}{note}",
            contact.actor,
        )
        return "recorded"

    def validate_record_la_contact(self, contact: NewLAContact) -> None:
        self.require_open("new-la-contact", "The new LA's contact with the family")
        self.not_future(contact.contacted_on)

    @action("Start SEN support from the transferred plan")
    async def start_sen_support(self, support: StartSenSupport) -> str:
        """Open the pupil's graduated-approach case (SEN support) from the plan the previous school sent."""
        self.sen_support_case = "starting"
        ref = await self.open_linked(
            "graduated_approach",
            "graduated-approach",
            lambda ref: GraduatedApproachInput(
                case=ref,
                started_by=support.actor,
                needs=support.needs,
                reason=support.reason,
                class_teacher_id=support.class_teacher_id,
                year_group=support.year_group,
            ),
            support.actor,
            {
                "needs": [str(n) for n in support.needs],
                "reason": support.reason,
                "class_teacher_id": support.class_teacher_id,
                "year_group": support.year_group,
            },
        )
        self.sen_support_case = ref.case_id
        self.show()
        await self.io.log(
            "sen-support-started",
            f"SEN support case {ref.case_id[:8]} started from the transferred plan",
            support.actor,
        )
        return ref.case_id

    def validate_start_sen_support(self, support: StartSenSupport) -> None:
        if self.start.sen != "sen_support":
            raise ApplicationError(
                "SEN support is started here only for a pupil joining on SEN support", type="Conflict"
            )
        if self.sen_support_case is not None:
            raise ApplicationError("the SEN support case has already been started", type="Conflict")


def build_input(case: CaseRef, start: JoiningStart, actor: Actor) -> JoiningInput:
    return JoiningInput(case=case, started_by=actor, start=start)


PROCESS = Process(
    name="joining",
    title="A pupil joining the school",
    workflow=Joining,
    steps=JoiningStep,
    start=JoiningStart,
    build_input=build_input,
    facts=JoiningFacts,
    timeline=joining_timeline,
    templates=("reminder", "escalation", "overdue", "tr-records-request", "tr-la-late"),
    one_open_per_pupil=True,
)
