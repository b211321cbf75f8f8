"""A parent's request to see the educational record (TR-RECORDS-ACCESS) in time-skipping Temporal.

15 school days from the request; the SENDCo submits the record for the headteacher's approval, the
headteacher approves (or rejects with a comment and the SENDCo resubmits), the SENDCo records the day the
parent was given access: the deadline is met and the case closes. Each test asserts what people see: the
emails (outbox rows: template, recipients, subject), the deadline row, the chronology. Dates are chosen
relative to the test server's clock, which moves on from test to test.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlmodel import Session, select

from domain.dates import SchoolYearCalendar, english_date
from domain.records_request import RecordDisclosure, RecordsRequestInput
from domain.schemas import ApprovalDecision, DueDateChange, StaffAction
from domain.timelines import RecordsRequestFacts, records_request_timeline
from store import case_service
from store.casework import Approval, ChronologyEntry, Deadline, OutboxMessage
from tests.workflows.case_driver import CaseDriver, StartedCases, eventually, people
from workflows.records_request import RecordsRequest

DAY = dt.timedelta(days=1)
PROCESS = "records_request"
RECORDED = {  # the scenarios whose first run tests/workflows/test_replay.py replays
    "test_on_time_request_is_met_and_closed": "on_time",
    "test_rejected_then_resubmitted_and_approved": "rejected_then_approved",
    "test_late_request_is_reminded_escalated_and_shows_done_late": "late_one_escalation_email",
}
RELEASE = "Release the educational record to the parent"
RESPOND = "Let the parent see the educational record"
SENDCO_EMAIL = "sendco1@example.org"
HEAD_EMAIL = "headteacher1@example.org"


def long_date(d: dt.date) -> str:
    return f"{d:%A} {d.day} {d:%B %Y}"


def on_or_before_tuesday(d: dt.date) -> dt.date:
    """The test school's SENDCo works Tuesdays only: the Tuesday on or before d."""
    return d - dt.timedelta(days=(d.weekday() - 1) % 7)


@dataclass
class Request(CaseDriver):
    """One records request under test: the case driver, and the day the request was received."""

    received: dt.date

    @property
    def due(self) -> dt.date:
        """TR-RECORDS-ACCESS for this request, as the timeline preview shows it (default school terms)."""
        [entry] = records_request_timeline(RecordsRequestFacts(request_received=self.received))
        return entry.due

    # --- what the case wrote ---------------------------------------------------------------------
    def deadline_row(self) -> Deadline | None:
        """The case's one deadline row (TR-RECORDS-ACCESS), once written."""
        with Session(self.engine) as s:
            found = s.exec(select(Deadline).where(Deadline.case_id == self.case_id)).all()
            assert len(found) <= 1, [d.key for d in found]
            return found[0] if found else None

    def deadline(self) -> Deadline:
        row = self.deadline_row()
        assert row is not None, "the deadline row has not been written"
        return row

    def outstanding(self) -> Deadline | None:
        """The deadline the SENDCo's case page shows as still to do, if any."""
        with Session(self.engine) as s:
            return case_service.next_deadline(s, case_id=self.case_id)

    # --- the people's actions --------------------------------------------------------------------
    async def submit(self, note: str = "Record gathered from the pupil file") -> None:
        await self.update("submit_for_approval", StaffAction(actor=self.sendco, note=note))
        await self.at_step("awaiting-approval")

    async def decide(self, approve: bool, comment: str = "") -> Approval:
        approval = await eventually(self.pending_approval)
        decision = ApprovalDecision(key=approval.key, approve=approve, comment=comment, actor=self.head)
        await self.update("decide_approval", decision)
        return approval

    async def disclose(self, on: dt.date | None = None) -> None:
        on = on or await self.today()
        await self.update("record_disclosure", RecordDisclosure(actor=self.sendco, disclosed_on=on))


def at_dates(entries: list[ChronologyEntry]) -> list[dt.date]:
    return [english_date(e.at) for e in entries]


def recipients(messages: list[OutboxMessage]) -> list[list[str]]:
    return [m.recipients for m in messages]


@pytest.fixture
async def request_for(request, time_env, task_queue, new_case, engine, smtp, sendco, headteacher, teacher):  # type: ignore[no-untyped-def]
    """Start records requests with `await request_for(received)`; each is stopped (RECORDED ones saved)."""
    cases = StartedCases(request, time_env, PROCESS, RECORDED)
    smtp.clear()

    async def start(received: dt.date | None = None, calendar: SchoolYearCalendar | None = None) -> Request:
        case = new_case(PROCESS)
        if calendar is not None:  # the school's own terms and INSET days
            terms, inset = list(calendar.terms), sorted(calendar.inset_days)
            case = case.model_copy(
                update={"calendar": case.calendar.model_copy(update={"terms": terms, "inset_days": inset})}
            )
        received = received or english_date(await time_env.get_current_time())
        staff = people(sendco, headteacher, teacher)
        inp = RecordsRequestInput(case=case, request_received=received, started_by=staff["sendco"])
        handle = await time_env.client.start_workflow(
            RecordsRequest.run, inp, id=case.workflow_id, task_queue=task_queue
        )
        r = cases.add(
            Request(env=time_env, engine=engine, case=case, handle=handle, received=received, **staff)
        )
        await r.at_step("preparing")
        await eventually(lambda: r.chronology("case-opened"))
        await eventually(r.deadline_row)
        return r

    yield start
    await cases.close()


# --- the scenarios ---------------------------------------------------------------------------------
async def test_on_time_request_is_met_and_closed(request_for, smtp):  # type: ignore[no-untyped-def]
    r = await request_for()
    today = await r.today()
    row = await eventually(r.deadline_row)
    assert (row.step, row.rule_id, row.due, row.status) == ("respond", "TR-RECORDS-ACCESS", r.due, "pending")
    # School days, not calendar days: three weekends at least (19 days from a Sunday, 21 from a weekday).
    assert r.due == SchoolYearCalendar().add_school_days(today, 15) and r.due - today >= 19 * DAY
    preparing = r.case_row()
    assert preparing.next_action.startswith("Gather the educational record and submit it")
    [opened] = r.chronology("case-opened")
    assert opened.actor == f"staff:{r.sendco.staff_id}" and f"{today:%d %b %Y}" in opened.detail

    # The SENDCo submits: the headteacher is asked, and only the headteacher.
    await r.submit("Record gathered; one third-party name redacted")
    [ask] = await eventually(lambda: r.outbox("approval-request"))
    assert ask.recipients == [HEAD_EMAIL] and ask.subject.startswith(f"Approval needed: {RELEASE} (")
    delivered = await eventually(lambda: [m for m in smtp.messages if "Approval needed" in m["Subject"]])
    assert [m["X-RcptTo"] for m in delivered] == [HEAD_EMAIL]
    [submitted] = r.chronology("submitted-for-approval")
    assert submitted.actor == f"staff:{r.sendco.staff_id}" and "third-party name redacted" in submitted.detail
    assert "headteacher approves" in r.case_row().next_action

    # The headteacher approves: the SENDCo is told, and gives the parent access on the same day.
    await r.decide(approve=True)
    await r.at_step("disclosing")
    [decided] = await eventually(lambda: r.outbox("approval-decided"))
    assert decided.recipients == [SENDCO_EMAIL] and decided.subject.startswith(f"Approved: {RELEASE} (")
    [approved] = r.chronology("approval-approved")
    assert approved.actor == f"staff:{r.head.staff_id}"
    assert r.case_row().next_action.startswith("Give the parent access to the record")
    await r.disclose(today)
    assert await r.outcome() == "met"

    case = r.case_row()
    assert (case.status, case.step) == ("closed", "closed")
    row = r.deadline()
    assert row.status == "met" and english_date(row.completed_at) == today  # type: ignore[arg-type]
    assert r.outstanding() is None
    [disclosed] = r.chronology("record-disclosed")
    assert disclosed.actor == f"staff:{r.sendco.staff_id}"
    assert disclosed.detail == f"Parent given access on {today:%d %b %Y}"
    people = {c.actor for c in r.chronology() if c.actor != "engine"}
    assert people == {f"staff:{r.sendco.staff_id}", f"staff:{r.head.staff_id}"}
    assert not r.outbox("reminder") and not r.outbox("escalation") and not r.outbox("overdue")
    assert {m["X-RcptTo"] for m in smtp.messages} == {HEAD_EMAIL, SENDCO_EMAIL}  # never the parent's address


async def test_rejected_then_resubmitted_and_approved(request_for):  # type: ignore[no-untyped-def]
    r = await request_for()
    await r.submit("First draft")
    approval = await eventually(r.pending_approval)
    bare = ApprovalDecision(key=approval.key, approve=False, actor=r.head)
    assert await r.refused("decide_approval", bare) == "Invalid"  # a rejection says what to change
    by_sendco = ApprovalDecision(key=approval.key, approve=True, actor=r.sendco)
    assert await r.refused("decide_approval", by_sendco) == "Forbidden"

    # Rejected with a comment: back to the SENDCo, who is told why.
    await r.decide(approve=False, comment="Redact the sibling's name on page 3")
    await r.at_step("preparing")
    [back] = await eventually(lambda: r.outbox("approval-decided"))
    assert back.recipients == [SENDCO_EMAIL] and back.subject.startswith(f"Not approved: {RELEASE} (")
    [rejected] = r.chronology("approval-rejected")
    assert rejected.actor == f"staff:{r.head.staff_id}" and "Redact the sibling's name" in rejected.detail
    early = RecordDisclosure(actor=r.sendco, disclosed_on=await r.today())
    assert await r.refused("record_disclosure", early) == "Conflict"

    # Resubmitted: asked again, approved, disclosed.
    await r.submit("Sibling's name redacted")
    asks = await eventually(lambda: len(r.outbox("approval-request")) == 2 and r.outbox("approval-request"))
    assert recipients(asks) == [[HEAD_EMAIL], [HEAD_EMAIL]]
    second = await r.decide(approve=True)
    assert second.key != approval.key
    await r.at_step("disclosing")
    decided = await eventually(
        lambda: len(r.outbox("approval-decided")) == 2 and r.outbox("approval-decided")
    )
    assert decided[1].recipients == [SENDCO_EMAIL] and decided[1].subject.startswith(f"Approved: {RELEASE}")
    await r.disclose()
    assert await r.outcome() == "met"

    assert r.deadline().status == "met" and r.case_row().status == "closed"
    actions = [c.action for c in r.chronology() if c.actor != "engine"]
    assert actions == [
        "case-opened",
        "submitted-for-approval",
        "approval-rejected",
        "submitted-for-approval",
        "approval-approved",
        "record-disclosed",
    ]


async def test_late_request_is_reminded_escalated_and_shows_done_late(request_for):  # type: ignore[no-untyped-def]
    r = await request_for()
    due = r.due
    reminders_on = sorted({on_or_before_tuesday(due - 7 * DAY), on_or_before_tuesday(due - DAY)})

    # Nothing is submitted: the SENDCo is reminded on a working day a week and a day before.
    await r.skip_to(due)
    reminders = r.outbox("reminder")
    assert recipients(reminders) == [[SENDCO_EMAIL]] * len(reminders_on)
    assert all(m.subject.startswith(f"Reminder: {RESPOND} due {long_date(due)} (") for m in reminders)
    assert at_dates(r.chronology("reminder-sent")) == reminders_on
    assert all(english_date(e.at).weekday() == 1 for e in r.chronology("reminder-sent"))
    assert r.deadline().status == "pending" and not r.outbox("escalation")

    # The day after the due date: the headteacher is told, the SENDCo chased.
    await r.skip_to(due + 3 * DAY)
    [escalation] = r.outbox("escalation")
    assert escalation.recipients == [HEAD_EMAIL]
    assert escalation.subject.startswith(f"Overdue: {RESPOND}, 1 day late (")
    [chase] = r.outbox("overdue")
    assert chase.recipients == [SENDCO_EMAIL] and chase.subject.startswith(f"Overdue: {RESPOND}, was due")
    assert at_dates(r.chronology("deadline-escalated")) == [due + DAY]
    assert r.deadline().status == "escalated" and r.outstanding() is not None

    # Done three days late: the deadline shows done late, and nothing is outstanding any more.
    await r.submit()
    await r.decide(approve=True)
    await r.at_step("disclosing")
    await r.disclose(due + 3 * DAY)
    await r.outcome()
    assert r.case_row().status == "closed"
    row = r.deadline()
    assert english_date(row.completed_at) == due + 3 * DAY  # type: ignore[arg-type]
    assert r.outstanding() is None
    assert row.status == "met_late"  # waits on the deadline state machine (issue 6): today "escalated"
    assert len(r.outbox("escalation")) == 1


async def test_refusals_write_nothing(request_for, time_env):  # type: ignore[no-untyped-def]
    r = await request_for()
    today = await r.today()
    note = StaffAction(actor=r.teacher, note="Here it is")
    assert await r.refused("submit_for_approval", note) == "Forbidden"  # a class teacher cannot act
    assert await r.refused("record_disclosure", RecordDisclosure(actor=r.sendco, disclosed_on=today)) == (
        "Conflict"  # not approved yet
    )
    move = DueDateChange(key="respond", due=r.due + DAY, reason="Parent asked", actor=r.teacher)
    assert await r.refused("change_due_date", move) == "Forbidden"
    assert not r.chronology("submitted-for-approval") and not r.outbox("approval-request")
    assert r.case_row().step == "preparing" and r.deadline().due == r.due

    await r.submit()
    again = StaffAction(actor=r.sendco, note="Again")
    assert await r.refused("submit_for_approval", again) == "Conflict"  # already with the headteacher
    await r.decide(approve=True)
    await r.at_step("disclosing")
    by_teacher = RecordDisclosure(actor=r.teacher, disclosed_on=today)
    assert await r.refused("record_disclosure", by_teacher) == "Forbidden"
    tomorrow = RecordDisclosure(actor=r.sendco, disclosed_on=today + DAY)
    assert await r.refused("record_disclosure", tomorrow) == "Invalid"  # a date in the future
    assert len(r.chronology("submitted-for-approval")) == 1 and not r.chronology("record-disclosed")
    assert r.case_row().status == "open" and r.deadline().status == "pending"


async def test_change_due_date_replans_reminders_and_escalation(request_for):  # type: ignore[no-untyped-def]
    r = await request_for()
    old = r.due
    new = old + 14 * DAY
    same = DueDateChange(key="respond", due=old, reason="No change", actor=r.sendco)
    assert await r.refused("change_due_date", same) == "Invalid"
    unknown = DueDateChange(key="no-such-step", due=new, reason="Typo", actor=r.sendco)
    assert await r.refused("change_due_date", unknown) == "Conflict"

    move = DueDateChange(
        key="respond", due=new, reason="The parent agreed to wait for the EP report", actor=r.sendco
    )
    await r.update("change_due_date", move)
    row = await eventually(lambda: (d := r.deadline_row()) and d.due == new and d)
    assert (row.status, row.rule_id) == ("pending", "TR-RECORDS-ACCESS")
    [told] = await eventually(lambda: r.outbox("due-date-changed"))
    assert told.recipients == [SENDCO_EMAIL]
    assert told.subject.startswith(f"Date changed: {RESPOND} now due {long_date(new)} (")
    [changed] = r.chronology("due-date-changed")
    assert changed.actor == f"staff:{r.sendco.staff_id}"
    assert f"from {old:%d %b %Y} to {new:%d %b %Y}" in changed.detail and "EP report" in changed.detail

    # The old dates pass quietly; the reminders and the breach follow the new date.
    await r.skip_to(old + 3 * DAY)
    assert not r.outbox("escalation") and r.deadline().status == "pending"
    expected = sorted({on_or_before_tuesday(new - 7 * DAY), on_or_before_tuesday(new - DAY)})
    await r.skip_to(new + 2 * DAY)
    assert at_dates(r.chronology("reminder-sent")) == expected
    assert all(f"due {long_date(new)}" in m.subject for m in r.outbox("reminder"))
    assert at_dates(r.chronology("deadline-escalated")) == [new + DAY]
    [escalation] = r.outbox("escalation")
    assert escalation.recipients == [HEAD_EMAIL] and ", 1 day late (" in escalation.subject


async def test_request_over_christmas_counts_only_the_school_days_of_the_schools_calendar(
    request_for, time_env
):  # type: ignore[no-untyped-def]
    # The school breaks up on the last Friday before 20 December and comes back on the first Monday from
    # 4 January with an INSET day; the request arrives a week before the end of term.
    now = english_date(await time_env.get_current_time())
    year = now.year if dt.date(now.year, 12, 6) >= now else now.year + 1
    last_day = dt.date(year, 12, 20)
    while last_day.weekday() != 4:
        last_day -= DAY
    received = last_day - 7 * DAY
    back = dt.date(year + 1, 1, 4)
    while back.weekday() != 0:
        back += DAY
    school = SchoolYearCalendar(
        terms=((dt.date(year, 9, 2), last_day), (back, dt.date(year + 1, 3, 26))),
        inset_days=frozenset({back}),
    )
    await time_env.sleep(
        dt.datetime.combine(received, dt.time(12), dt.UTC) - await time_env.get_current_time()
    )
    r = await request_for(received, school)

    # 5 school days before Christmas, none in the holiday nor on the INSET day, 10 after: the second
    # Monday after the INSET day.
    due = back + 14 * DAY
    row = await eventually(r.deadline_row)
    assert (row.due, row.rule_id, row.status) == (due, "TR-RECORDS-ACCESS", "pending")
    assert school.add_school_days(received, 15) == due

    # Nothing is due over Christmas: no reminder, no escalation until the reminders a week before.
    await r.skip_to(back)
    assert not r.outbox("reminder") and not r.outbox("escalation") and r.deadline().status == "pending"
    await r.submit()
    await r.decide(approve=True)
    await r.at_step("disclosing")
    await r.skip_to(due)
    reminded = [english_date(e.at) for e in r.chronology("reminder-sent")]
    assert reminded == sorted({on_or_before_tuesday(due - 7 * DAY), on_or_before_tuesday(due - DAY)})
    await r.disclose(due)
    assert await r.outcome() == "met"
    assert r.deadline().status == "met" and not r.outbox("escalation")
