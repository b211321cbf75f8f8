"""A pupil leaving the school: the SENDCo's part in a smooth transition out.

1. The leaving date (the day the pupil left the roll) and the destination are recorded. An unknown
   destination is a child missing education: flagged and escalated to the headteacher at once, and the
   case waits for the destination to be found.
2. The pupil's other open cases are closed, with the reason.
3. The LA is told the pupil's name is deleted, no later than the deletion (TR-DELETION-RETURN).
4. For a new school: the common transfer file and the educational record go to it within 15 school days
   of leaving the roll (TR-CTF, on the school's calendar); the SEN file goes with them, separately and
   securely, to the receiving SENDCo (TR-SEN-FILE), who is asked to acknowledge it. An acknowledgement
   that does not come is chased with the receiving school and escalated to the headteacher.
5. A dual registration: the same to the other school within 15 school days of the headteacher learning
   of it (TR-DUALREG).
The case closes once every step is done.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.dates import SchoolYearCalendar
    from domain.leaving import (
        CME_FLAG,
        DESTINATION_WORDS,
        SENT_WORDS,
        DestinationFound,
        LeavingInput,
        LeavingStart,
        LeavingStep,
        SenFileAcknowledged,
        TransferSent,
    )
    from domain.schemas import Actor, CaseRef, Recipient
    from domain.timelines import LeavingFacts, TimelineEntry, leaving_timeline
    from domain.transitions import ReturnMade
    from workflows.deadlines import HEADTEACHER, SENDCO, Deadline
    from workflows.kit import CaseWorkflow, day, iso, rule_context
    from workflows.process import Process, action

TITLES = {
    "deletion-return": "Tell the LA the pupil's name is deleted (the deletion return)",
    "ctf": "Send the common transfer file and the educational record to the new school",
    "sen-file": "Send the SEN file separately and securely to the receiving SENDCo",
    "sen-file-acknowledged": "Confirm that the SEN file has arrived",
    "dual-registration": "Send the common transfer file to the other school (dual registration)",
}
STEP_OF: dict[str, str] = {"ctf": "ctf", "sen_file": "sen-file", "dual_registration": "dual-registration"}


@workflow.defn(name="leaving")
class Leaving(CaseWorkflow):
    @workflow.init
    def __init__(self, inp: LeavingInput) -> None:
        self.open_case(inp.case)
        self.inp, self.start = inp, inp.start
        self.step = LeavingStep.leaving
        self.calendar = SchoolYearCalendar.from_school(inp.case.calendar.terms, inp.case.calendar.inset_days)
        self.destination: str = inp.start.destination
        self.receiving_school_id = inp.start.receiving_school_id
        self.facts: LeavingFacts = inp.start.facts()
        self.done_on: dict[str, date] = {}
        self.cases_closed = 0

    @workflow.run
    async def run(self, inp: LeavingInput) -> str:
        start = self.start
        self.io.remark(
            "case-opened",
            f"Left the roll on {day(start.leaving_date)} for {DESTINATION_WORDS[start.destination]}"
            + (f". Reason: {start.reason}" if start.reason.strip() else ""),
            inp.started_by,
        )
        if self.destination == "unknown":
            await self.missing_education()  # 1.
        self.cases_closed = await self.close_pupil_cases(self.reason, inp.started_by)  # 2.
        if self.cases_closed:
            self.io.remark(
                "cases-closed",
                f"The pupil's other open cases ({self.cases_closed}) are closed: {self.reason}",
            )
        self.track("deletion-return", TITLES["deletion-return"], SENDCO, self.did("deletion-return"))  # 3.
        self.show()
        await workflow.wait_condition(lambda: self.destination != "unknown")
        if self.destination == "school":
            self.send_to_school()  # 4.
            if start.dual_registration_learned_on is not None:  # 5.
                self.track(
                    "dual-registration", TITLES["dual-registration"], SENDCO, self.did("dual-registration")
                )
        self.show(LeavingStep.leaving)
        await workflow.wait_condition(lambda: all(key in self.finished for key in self.tasks))
        self.io.remark("left", "Every step of the pupil's leaving is done")
        self.show(LeavingStep.closed, closed=True)
        await self.settle()
        return "left"

    # --- the process's dates and words ----------------------------------------------------------------
    def timeline(self) -> list[TimelineEntry]:
        return leaving_timeline(self.facts, self.calendar)

    @property
    def reason(self) -> str:
        why = f" ({self.start.reason.strip()})" if self.start.reason.strip() else ""
        return f"the pupil left the school on {day(self.start.leaving_date)}{why}"

    @property
    def receiving_school(self) -> Recipient:
        assert self.receiving_school_id is not None
        return Recipient(kind="other", agency_id=self.receiving_school_id)

    def did(self, step: str) -> Callable[[], bool]:
        return lambda: step in self.done_on

    def next_action(self) -> str:
        if self.destination == "unknown":
            return (
                "Find out where the pupil has gone, with the LA's children missing education officer, "
                "then record it"
            )
        waiting = sorted((d for k, d in self.deadlines.items() if self.is_open(k)), key=lambda d: d.due)
        if not waiting:
            return "Nothing: the pupil has left"
        first = waiting[0]
        return f"{first.title}: due {day(first.due)} ({first.rule_id}), then record it on the case"

    def view(self) -> dict[str, Any]:
        return {
            "leaving_date": iso(self.start.leaving_date),
            "destination": self.destination,
            "receiving_school_id": self.receiving_school_id,
            **{f"{step.replace('-', '_')}_done_on": iso(on) for step, on in self.done_on.items()},
            "cases_closed": self.cases_closed,
        }

    # --- 1. children missing education ------------------------------------------------------------------
    async def missing_education(self) -> None:
        self.flag(CME_FLAG)
        self.show(LeavingStep.missing)
        await self.email(
            "missing",
            "tr-missing",
            [HEADTEACHER],
            {"leaving_date": iso(self.start.leaving_date), **rule_context("TR-DELETION-RETURN")},
            "missing-education-escalated",
            "Destination unknown: a child missing education; escalated to the headteacher at once",
        )

    # --- 4. the new school ------------------------------------------------------------------------------
    def send_to_school(self) -> None:
        self.track("ctf", TITLES["ctf"], SENDCO, self.did("ctf"))
        if self.start.has_sen_file:
            self.track("sen-file", TITLES["sen-file"], SENDCO, self.did("sen-file"))

    def expect_acknowledgement(self, sent: TransferSent) -> Deadline:
        """The receiving SENDCo's acknowledgement, due a configured number of school days after sending."""
        self.facts = self.facts.model_copy(update={"sen_file_sent_on": sent.sent_on})
        return self.track(
            "sen-file-acknowledged",
            TITLES["sen-file-acknowledged"],
            self.receiving_school,
            self.did("sen-file-acknowledged"),
        )

    async def ask_for_acknowledgement(self, sent: TransferSent, watch: Deadline) -> None:
        await self.email(
            "sen-file-sent",
            "tr-sen-file",
            [self.receiving_school],
            {
                "sent_on": iso(sent.sent_on),
                "method": sent.method,
                "leaving_date": iso(self.start.leaving_date),
                "due": iso(watch.due),
                **rule_context("TR-SEN-FILE"),
            },
            "acknowledgement-requested",
            f"The receiving SENDCo is asked to confirm receipt by {day(watch.due)} (TR-SEN-FILE)",
        )

    # --- what the SENDCo records: one Update each --------------------------------------------------------
    def require_open(self, step: str, what: str) -> None:
        if not self.is_open(step):
            raise ApplicationError(f"{what} is not waited for on this case now", type="Conflict")

    @action("Record the deletion return to the LA")
    async def record_deletion_return(self, made: ReturnMade) -> str:
        """Record the day the LA was told the pupil's name is deleted (TR-DELETION-RETURN)."""
        self.done_on["deletion-return"] = made.made_on
        await self.io.log(
            "deletion-return",
            f"The LA was told the pupil's name is deleted on {day(made.made_on)}",
            made.actor,
        )
        return "recorded"

    def validate_record_deletion_return(self, made: ReturnMade) -> None:
        self.require_open("deletion-return", "The deletion return")
        self.not_future(made.made_on)

    @action("Record what was sent to the new school", steps=[LeavingStep.leaving])
    async def record_sent(self, sent: TransferSent) -> str:
        """Record the day the CTF and record, or the SEN file (and how, securely), went to the new school."""
        step = STEP_OF[sent.item]
        self.done_on[step] = sent.sent_on
        acknowledgement = self.expect_acknowledgement(sent) if sent.item == "sen_file" else None
        how = f" by {sent.method.strip()}" if sent.method.strip() else ""
        await self.io.log("sent", f"{SENT_WORDS[sent.item]} sent on {day(sent.sent_on)}{how}", sent.actor)
        if acknowledgement is not None:
            await self.ask_for_acknowledgement(sent, acknowledgement)
        self.show()
        return step

    def validate_record_sent(self, sent: TransferSent) -> None:
        self.require_open(STEP_OF[sent.item], SENT_WORDS[sent.item])
        self.not_future(sent.sent_on)

    @action(
        "Record the receiving SENDCo's acknowledgement", steps=[LeavingStep.leaving], responders=["agency"]
    )
    async def acknowledge_sen_file(self, ack: SenFileAcknowledged) -> str:
        """Record the day the receiving SENDCo confirmed the SEN file arrived."""
        self.done_on["sen-file-acknowledged"] = ack.acknowledged_on
        note = f": {ack.note}" if ack.note.strip() else ""
        await self.io.log(
            "sen-file-acknowledged",
            f"The receiving SENDCo confirmed the SEN file arrived on {day(ack.acknowledged_on)}{note}",
            ack.actor,
        )
        return "recorded"

    def validate_acknowledge_sen_file(self, ack: SenFileAcknowledged) -> None:
        self.require_open("sen-file-acknowledged", "An acknowledgement of the SEN file")
        self.not_future(ack.acknowledged_on)
        sent = self.done_on.get("sen-file")
        if sent is not None and ack.acknowledged_on < sent:
            raise ApplicationError(
                f"the SEN file was sent on {day(sent)}: it cannot have arrived before", type="Invalid"
            )

    @action("Record where the pupil has gone", steps=[LeavingStep.missing])
    async def record_destination(self, found: DestinationFound) -> str:
        """Record the destination of a child missing education, once it is known."""
        self.destination, self.receiving_school_id = found.destination, found.receiving_school_id
        self.facts = self.facts.model_copy(update={"to_school": found.destination == "school"})
        self.flags = [f for f in self.flags if f != CME_FLAG]
        await self.io.log(
            "destination-found",
            f"Destination found on {day(found.found_on)}: {DESTINATION_WORDS[found.destination]}",
            found.actor,
        )
        return found.destination

    def validate_record_destination(self, found: DestinationFound) -> None:
        if self.destination != "unknown":
            raise ApplicationError("the pupil's destination is already known", type="Conflict")
        self.not_future(found.found_on)


def build_input(case: CaseRef, start: LeavingStart, actor: Actor) -> LeavingInput:
    return LeavingInput(case=case, started_by=actor, start=start)


PROCESS = Process(
    name="leaving",
    title="A pupil leaving the school",
    workflow=Leaving,
    steps=LeavingStep,
    start=LeavingStart,
    build_input=build_input,
    facts=LeavingFacts,
    timeline=leaving_timeline,
    templates=("reminder", "escalation", "overdue", "tr-missing", "tr-sen-file"),
    one_open_per_pupil=True,
)
