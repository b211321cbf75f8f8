"""A pupil leaving the school, in time-skipping Temporal, on the school's own calendar.

Each test asserts what people see: the emails at the SMTP sink and in the outbox, the deadline rows (due
dates from the school's terms and INSET days, and their states), the chronology, and the pupil's other
cases closed with the reason. Dates are chosen relative to the test server's clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from pydantic import ValidationError
from temporalio.client import WorkflowExecutionStatus

from domain.dates import SchoolYearCalendar, english_date
from domain.leaving import (
    CME_FLAG,
    DestinationFound,
    LeavingInput,
    LeavingPlan,
    SenFileAcknowledged,
    TransferSent,
)
from domain.records_request import RecordsRequestInput
from domain.transitions import ReturnMade
from tests.workflows.case_driver import CaseDriver, StartedCases, eventually, people
from tests.workflows.school_calendars import DAY, half_term_around, nth_open_day, open_days
from workflows.leaving import Leaving
from workflows.records_request import RecordsRequest

PROCESS = "leaving"
RECORDED = {
    "test_leaver_ctf_falls_after_the_half_term_and_the_inset_day": "half_term",
    "test_receiving_sendco_who_never_acknowledges_is_chased_and_escalated": "never_acknowledged",
    "test_unknown_destination_is_escalated_at_once_as_missing_education": "unknown_destination",
}
HEAD_EMAIL = "headteacher1@example.org"
SENDCO_EMAIL = "sendco1@example.org"


def long_date(d: dt.date) -> str:
    return f"{d:%A} {d.day} {d:%B %Y}"


@dataclass
class Leaver(CaseDriver):
    receiving_email: str
    receiving_id: int

    def due(self, key: str) -> dt.date:
        row = self.deadline_at(key)
        assert row is not None, f"no {key} deadline"
        return row.due

    def status(self, key: str) -> str:
        row = self.deadline_at(key)
        assert row is not None, f"no {key} deadline"
        return row.status

    async def record(self, name: str, payload: object) -> object:
        return await self.update(name, payload)


@pytest.fixture
async def leaver(
    request,
    time_env,
    task_queue,
    case_for,
    make_pupil,
    other_school,
    engine,
    smtp,
    sendco,
    headteacher,
    teacher,
):  # type: ignore[no-untyped-def]
    """`await leaver(calendar, **start)`: a new pupil (with an open records request) leaving today."""
    cases = StartedCases(request, time_env, PROCESS, RECORDED)
    others: list[CaseDriver] = []
    smtp.clear()
    staff = people(sendco, headteacher, teacher)

    async def start(calendar: SchoolYearCalendar, **given: object) -> tuple[Leaver, CaseDriver]:
        pupil = make_pupil()
        today = english_date(await time_env.get_current_time())
        # The pupil's open case of another process, which the leaving closes.
        other_ref = case_for("records_request", pupil, calendar)
        other_handle = await time_env.client.start_workflow(
            RecordsRequest.run,
            RecordsRequestInput(case=other_ref, request_received=today, started_by=staff["sendco"]),
            id=other_ref.workflow_id,
            task_queue=task_queue,
        )
        other = CaseDriver(env=time_env, engine=engine, case=other_ref, handle=other_handle, **staff)
        others.append(other)  # stopped here, not saved: only the leaving case's history is recorded
        await other.at_step("preparing")
        await eventually(lambda: other.deadline_at("respond"))

        receiving = other_school("receiving")
        facts = {"leaving_date": today, "destination": "school", "receiving_school_id": receiving.id, **given}
        if facts["destination"] != "school":
            facts["receiving_school_id"] = None
        case = case_for(PROCESS, pupil, calendar)
        inp = LeavingInput(case=case, started_by=staff["sendco"], start=LeavingPlan.model_validate(facts))
        handle = await time_env.client.start_workflow(
            Leaving.run, inp, id=case.workflow_id, task_queue=task_queue
        )
        r = cases.add(
            Leaver(
                env=time_env,
                engine=engine,
                case=case,
                handle=handle,
                receiving_email=receiving.email,
                receiving_id=receiving.id,
                **staff,
            )
        )
        await eventually(lambda: r.deadline_at("deletion-return"))
        return r, other

    yield start
    for other in others:
        await other.stop()
    await cases.close()


def assert_closed_by_leaving(other: CaseDriver, leaving_on: dt.date, reason: str) -> None:
    """The pupil's other case: closed with the reason, its deadline cancelled, the chronology saying why."""
    case = other.case_row()
    assert (case.status, case.step) == ("closed", "closed")
    assert other.deadline_at("respond").status == "cancelled"  # type: ignore[union-attr]
    [closed] = other.chronology("case-closed")
    assert closed.detail.startswith(
        f"Case closed: the pupil left the school on {leaving_on:%d %b %Y}{reason}"
    )
    assert closed.actor == f"staff:{other.sendco.staff_id}"


async def test_leaver_ctf_falls_after_the_half_term_and_the_inset_day(leaver, time_env, smtp):  # type: ignore[no-untyped-def]
    today = english_date(await time_env.get_current_time())
    school = half_term_around(today)
    r, other = await leaver(
        school.calendar, has_sen_file=True, reason="Moved house", dual_registration_learned_on=today
    )

    # The pupil's other open case is closed at once, with the reason; its workflow is cancelled.
    await eventually(lambda: other.case_row().status == "closed")
    assert_closed_by_leaving(other, today, " (Moved house)")
    assert (await other.handle.describe()).status == WorkflowExecutionStatus.CANCELED
    [closed] = await eventually(lambda: r.chronology("cases-closed"))
    assert "other open cases (1) are closed" in closed.detail

    # TR-CTF: 15 school days from leaving the roll, counted on the school's calendar: the days left before
    # the half-term, then none in the holiday week nor on the INSET day, the rest after it.
    before = open_days(today, school.last_day)
    ctf_due = nth_open_day(school.inset, 15 - len(before))
    assert ctf_due > school.inset and ctf_due == school.calendar.add_school_days(today, 15)
    await eventually(lambda: r.deadline_at("sen-file"))
    assert (r.due("ctf"), r.deadline_at("ctf").rule_id) == (ctf_due, "TR-CTF")  # type: ignore[union-attr]
    assert (r.due("sen-file"), r.deadline_at("sen-file").rule_id) == (ctf_due, "TR-SEN-FILE")  # type: ignore[union-attr]
    assert (r.due("deletion-return"), r.status("deletion-return")) == (today, "pending")
    dual = await eventually(lambda: r.deadline_at("dual-registration"))
    assert (dual.rule_id, dual.due) == ("TR-DUALREG", ctf_due)  # the headteacher learned of it today
    [opened] = r.chronology("case-opened")
    assert opened.actor == f"staff:{r.sendco.staff_id}"
    assert opened.detail == f"Left the roll on {today:%d %b %Y} for another school. Reason: Moved house"

    # The deletion return today; a class teacher cannot record it.
    assert (
        await r.refused("record_deletion_return", ReturnMade(actor=r.teacher, made_on=today)) == "Forbidden"
    )
    await r.record("record_deletion_return", ReturnMade(actor=r.sendco, made_on=today))
    await eventually(lambda: r.status("deletion-return") == "met")

    # After the break, on the first school day after the INSET day: the CTF, then the SEN file, securely.
    sent_on = nth_open_day(school.inset, 1)
    await r.skip_to(sent_on)
    assert r.status("ctf") == "pending" and not r.outbox("escalation")
    await r.record("record_sent", TransferSent(actor=r.sendco, item="ctf", sent_on=sent_on))
    await r.record("record_sent", TransferSent(actor=r.sendco, item="dual_registration", sent_on=sent_on))
    with pytest.raises(ValidationError, match="say how the SEN file was sent securely"):
        TransferSent(actor=r.sendco, item="sen_file", sent_on=sent_on)
    method = "Secure file transfer (S2S)"
    await r.record(
        "record_sent", TransferSent(actor=r.sendco, item="sen_file", sent_on=sent_on, method=method)
    )
    ack_due = school.calendar.add_school_days(sent_on, 5)
    assert ack_due == nth_open_day(sent_on, 5, {school.inset})
    [asked] = await eventually(lambda: smtp.to(r.receiving_email))
    assert asked["Subject"].startswith(
        f"Please confirm you have received the SEN file by {long_date(ack_due)} ("
    )
    body = asked.get_body(preferencelist=("plain",)).get_content()
    assert f"on {long_date(sent_on)} by {method}" in body and SENDCO_EMAIL in body
    assert r.due("sen-file-acknowledged") == ack_due

    # The receiving SENDCo confirms: every step is done and the case closes.
    await r.record("acknowledge_sen_file", SenFileAcknowledged(actor=r.sendco, acknowledged_on=sent_on))
    assert await r.outcome() == "left"
    assert [r.status(k) for k in ("deletion-return", "ctf", "sen-file", "sen-file-acknowledged")] == [
        "met"
    ] * 4
    assert r.case_row().status == "closed"
    staff_steps = [c.action for c in r.chronology() if c.actor != "engine"]
    assert staff_steps == ["case-opened", "deletion-return", "sent", "sent", "sent", "sen-file-acknowledged"]
    assert not r.outbox("escalation") and not r.outbox("overdue")


async def test_receiving_sendco_who_never_acknowledges_is_chased_and_escalated(leaver, time_env, smtp):  # type: ignore[no-untyped-def]
    today = english_date(await time_env.get_current_time())
    school = half_term_around(today)
    r, _ = await leaver(school.calendar, has_sen_file=True)
    await eventually(lambda: r.deadline_at("sen-file"))
    await r.record("record_deletion_return", ReturnMade(actor=r.sendco, made_on=today))
    await r.record("record_sent", TransferSent(actor=r.sendco, item="ctf", sent_on=today))
    method = "Encrypted email"
    await r.record("record_sent", TransferSent(actor=r.sendco, item="sen_file", sent_on=today, method=method))
    # Acknowledgement due 5 school days on: over the half-term and the INSET day when they come first.
    due = nth_open_day(today, 5, {*school.holiday, school.inset})
    assert r.due("sen-file-acknowledged") == due
    title = "Confirm that the SEN file has arrived"

    # Nothing comes back: the receiving school is reminded the day before.
    await r.skip_to(due)
    reminders = await eventually(lambda: r.outbox("reminder"))
    assert reminders and all(m.recipients == [r.receiving_email] for m in reminders)
    assert reminders[-1].subject.startswith(f"Reminder: {title} due {long_date(due)} (")
    assert r.status("sen-file-acknowledged") == "pending"

    # The day after: the headteacher is told, and the receiving school chased.
    await r.skip_to(due + DAY)
    [escalation] = await eventually(lambda: r.outbox("escalation"))
    assert escalation.recipients == [HEAD_EMAIL]
    assert escalation.subject.startswith(f"Overdue: {title}, 1 day late (")
    body = smtp.to(HEAD_EMAIL)[-1].get_body(preferencelist=("plain",)).get_content()
    assert "Waiting on: another agency" in body
    [chase] = r.outbox("overdue")
    assert chase.recipients == [r.receiving_email]
    assert r.status("sen-file-acknowledged") == "escalated"

    # Still nothing a week later: escalated and chased again; the case stays open.
    await r.skip_to(due + 8 * DAY)
    await eventually(lambda: len(r.outbox("escalation")) == 2)
    assert [m.recipients for m in r.outbox("overdue")] == [[r.receiving_email]] * 2
    escalated = [english_date(e.at) for e in r.chronology("deadline-escalated")]
    assert escalated == [due + DAY, due + 8 * DAY]
    received = [m["Subject"].split(" (")[0] for m in smtp.to(r.receiving_email)]
    assert received[0] == f"Please confirm you have received the SEN file by {long_date(due)}"
    assert received.count(f"Overdue: {title}, was due {long_date(due)}") == 2
    case = r.case_row()
    assert case.status == "open" and case.next_action.startswith(title)


async def test_unknown_destination_is_escalated_at_once_as_missing_education(leaver, time_env, smtp):  # type: ignore[no-untyped-def]
    today = english_date(await time_env.get_current_time())
    school = half_term_around(today)
    r, other = await leaver(school.calendar, destination="unknown", has_sen_file=True)

    # At once: the headteacher is told, the case flagged, the chronology says so.
    [alert] = await eventually(lambda: smtp.to(HEAD_EMAIL))
    assert alert["Subject"].startswith(
        f"Act today: a pupil who left on {long_date(today)} may be missing education"
    )
    assert "children missing education officer" in alert.get_body(preferencelist=("plain",)).get_content()
    [sent] = r.outbox("tr-missing")
    assert sent.recipients == [HEAD_EMAIL]
    [escalated] = r.chronology("missing-education-escalated")
    assert english_date(escalated.at) == today and "headteacher" in escalated.detail
    case = await r.at_step("missing")
    assert CME_FLAG in case.flags and case.next_action.startswith("Find out where the pupil has gone")

    # The other case is closed all the same; the deletion return is due today; no CTF while unknown.
    await eventually(lambda: other.case_row().status == "closed")
    assert_closed_by_leaving(other, today, "")
    assert r.due("deletion-return") == today and r.deadline_at("ctf") is None
    too_soon = TransferSent(actor=r.sendco, item="ctf", sent_on=today)
    assert await r.refused("record_sent", too_soon) == "Conflict"

    # The destination is found: the CTF's 15 school days run from the day the pupil left the roll.
    found = DestinationFound(
        actor=r.sendco, destination="school", receiving_school_id=r.receiving_id, found_on=today
    )
    assert await r.refused("record_destination", found.model_copy(update={"actor": r.teacher})) == "Forbidden"
    await r.record("record_destination", found)
    case = await r.at_step("leaving")
    assert CME_FLAG not in case.flags
    [noted] = r.chronology("destination-found")
    assert noted.detail == f"Destination found on {today:%d %b %Y}: another school"
    assert noted.actor == f"staff:{r.sendco.staff_id}"
    ctf = await eventually(lambda: r.deadline_at("ctf"))
    assert ctf.due == school.calendar.add_school_days(today, 15) and r.due("sen-file") == ctf.due
    assert await r.refused("record_destination", found) == "Conflict"  # known now
    assert len(smtp.to(HEAD_EMAIL)) == 1  # told once, at once
