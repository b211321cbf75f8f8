"""A pupil joining the school, in time-skipping Temporal, on the school's own calendar.

Each test asserts what people see: the emails at the SMTP sink and in the outbox, the deadline rows (school
days from the school's terms and INSET days, working days from England's bank holidays) and their states,
the chronology, and the linked cases a joiner starts. Dates are chosen relative to the test server's clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlmodel import Session, select
from temporalio.client import WorkflowExecutionStatus

from domain.dates import SchoolYearCalendar, add_weeks, bank_holidays, english_date
from domain.joining import (
    JoiningInput,
    JoiningPlan,
    NewLAContact,
    ParentsMet,
    PlanTransferred,
    RecordsReceived,
    StartSenSupport,
)
from domain.schemas import CaseRef
from domain.transitions import ReturnMade
from store.casework import Case
from tests.workflows.case_driver import CaseDriver, StartedCases, eventually, people
from tests.workflows.school_calendars import DAY, half_term_around, nth_open_day
from workflows.joining import Joining

PROCESS = "joining"
RECORDED = {
    "test_ehc_plan_pupil_from_another_la_over_a_bank_holiday_starts_an_annual_review": "la_transfer",
    "test_joiner_whose_previous_school_is_slow_is_chased_and_escalated": "slow_school_escalations",
}
HEAD_EMAIL = "headteacher1@example.org"
SENDCO_EMAIL = "sendco1@example.org"
LA_EMAIL = "la_sen@example.org"
RECORDS = "Receive the common transfer file and the educational record from the previous school"


def long_date(d: dt.date) -> str:
    return f"{d:%A} {d.day} {d:%B %Y}"


@dataclass
class Joiner(CaseDriver):
    parent_email: str

    def due(self, key: str) -> dt.date:
        row = self.deadline_at(key)
        assert row is not None, f"no {key} deadline"
        return row.due

    def status(self, key: str) -> str:
        row = self.deadline_at(key)
        assert row is not None, f"no {key} deadline"
        return row.status

    def linked(self, process: str) -> Case:
        with Session(self.engine) as s:
            query = select(Case).where(Case.pupil_id == self.case.pupil_id, Case.process == process)
            found = s.exec(query).all()
            assert len(found) == 1, found
            return found[0]

    async def linked_driver(self, process: str) -> CaseDriver:
        """The linked case's workflow, to read and stop (not saved: only the joining history is)."""
        row = self.linked(process)
        ref = CaseRef(
            case_id=row.id,
            workflow_id=row.workflow_id,
            process=process,
            pupil_id=row.pupil_id,
            school_id=row.school_id,
        )
        handle = self.env.client.get_workflow_handle(row.workflow_id)
        return CaseDriver(
            env=self.env,
            engine=self.engine,
            case=ref,
            handle=handle,
            sendco=self.sendco,
            head=self.head,
            teacher=self.teacher,
        )


@pytest.fixture
async def joiner(
    request, time_env, task_queue, case_for, make_pupil, engine, smtp, sendco, headteacher, teacher, pupil
):  # type: ignore[no-untyped-def]
    """`await joiner(calendar, provision, **start)`: a new pupil joins today (`pupil`: the LA's agencies)."""
    cases = StartedCases(request, time_env, PROCESS, RECORDED)
    smtp.clear()
    staff = people(sendco, headteacher, teacher)

    async def start(calendar: SchoolYearCalendar, provision: str, **given: object) -> Joiner:
        needs = ("ASD",) if provision == "E" else ("SPLD",)
        pupil = make_pupil(provision=provision, needs=needs)
        today = english_date(await time_env.get_current_time())
        case = case_for(PROCESS, pupil, calendar)
        plan = JoiningPlan.model_validate({"admission_date": today, **given})
        inp = JoiningInput(case=case, started_by=staff["sendco"], start=plan)
        handle = await time_env.client.start_workflow(
            Joining.run, inp, id=case.workflow_id, task_queue=task_queue
        )
        with Session(engine) as s:
            from store.register import Parent, PupilParent

            parent = s.exec(select(Parent).join(PupilParent).where(PupilParent.pupil_id == pupil.id)).one()
        r = cases.add(
            Joiner(env=time_env, engine=engine, case=case, handle=handle, parent_email=parent.email, **staff)
        )
        await eventually(lambda: r.deadline_at("new-pupil-return"))
        await eventually(lambda: r.chronology("case-opened"))
        return r

    yield start
    await cases.close()


def first_bank_holiday_after(day: dt.date) -> dt.date:
    """The first bank holiday on a weekday after day (a Christmas on a Saturday has its Monday)."""
    return min(
        d for year in (day.year, day.year + 1) for d in bank_holidays(year) if d > day and d.weekday() < 5
    )


async def test_ehc_plan_pupil_from_another_la_over_a_bank_holiday_starts_an_annual_review(
    joiner, time_env, smtp
):  # type: ignore[no-untyped-def]
    # The family moves a week before a bank holiday: the 15 working days run over it.
    now = english_date(await time_env.get_current_time())
    holiday = first_bank_holiday_after(now + 10 * DAY)
    moved = holiday - 7 * DAY
    await time_env.sleep(dt.datetime.combine(moved, dt.time(12), dt.UTC) - await time_env.get_current_time())
    school = half_term_around(moved)
    plan_issued = moved - 200 * DAY
    r = await joiner(
        school.calendar,
        "E",
        sen="ehc_plan",
        plan_cycle_start=plan_issued,
        year_group=4,
        moved_on=moved,
    )

    # TR-LA-TRANSFER: no notice, so 15 working days after the move, the bank holiday not counted.
    weekdays = [moved + n * DAY for n in range(1, 40) if (moved + n * DAY).weekday() < 5]
    transfer_due = nth_open_day(moved, 15)
    assert holiday in weekdays[:15] and transfer_due > weekdays[14]
    la_transfer = await eventually(lambda: r.deadline_at("la-transfer"))
    assert (la_transfer.due, la_transfer.rule_id, la_transfer.owner) == (
        transfer_due,
        "TR-LA-TRANSFER",
        "la_sen",
    )
    assert r.deadline_at("new-la-contact") is None  # its 6 weeks start when the plan arrives
    assert r.due("new-pupil-return") == moved + 5 * DAY
    assert r.due("parents-meeting") == school.calendar.add_school_days(moved, 10)
    [opened] = r.chronology("case-opened")
    assert opened.detail == f"Joined on {moved:%d %b %Y} with an EHC plan; no previous school"

    # The annual review case starts from the plan's date, linked both ways.
    [started] = await eventually(lambda: r.chronology("annual-review-started"))
    assert f"from the plan's date, {plan_issued:%d %b %Y}" in started.detail
    review = r.linked("annual_review")
    assert review.facts["linked_from"] == r.case_id and review.facts["cycle_start"] == plan_issued.isoformat()
    annual_review = await r.linked_driver("annual_review")
    try:
        await annual_review.at_step("planning")
        assert (await annual_review.handle.describe()).status == WorkflowExecutionStatus.RUNNING
        assert [c.action for c in annual_review.chronology("case-linked")] == ["case-linked"]
    finally:
        await annual_review.stop()
    assert r.case_row().view["annual_review_case"] == review.id  # type: ignore[index]
    support = StartSenSupport(actor=r.sendco, needs=["ASD"], reason="Plan", class_teacher_id=1, year_group=4)
    assert await r.refused("start_sen_support", support) == "Conflict"  # an EHC plan: its review instead

    # The SENDCo's own steps, on the day.
    await r.update("record_new_pupil_return", ReturnMade(actor=r.sendco, made_on=moved))
    await r.update("record_parents_meeting", ParentsMet(actor=r.sendco, met_on=moved, note="Home visit"))

    # The plan arrives the day before it is due: met; the new LA's 6 weeks start that day.
    arrived = transfer_due - DAY
    await r.skip_to(arrived)
    contact_due = await r.update(
        "record_plan_transferred", PlanTransferred(actor=r.sendco, transferred_on=arrived)
    )
    assert dt.date.fromisoformat(contact_due) == add_weeks(arrived, 6)
    await eventually(lambda: r.status("la-transfer") == "met")
    contact = await eventually(lambda: r.deadline_at("new-la-contact"))
    assert (contact.due, contact.rule_id) == (add_weeks(arrived, 6), "TR-NEW-LA-CONTACT")
    [noted] = r.chronology("plan-transferred")
    assert (
        noted.actor == f"staff:{r.sendco.staff_id}" and f"by {add_weeks(arrived, 6):%d %b %Y}" in noted.detail
    )

    # The new LA does not contact the family in time: the headteacher is told, and the parents.
    late = add_weeks(arrived, 6) + DAY
    await r.skip_to(late)
    [escalation] = await eventually(lambda: r.outbox("escalation"))
    assert escalation.recipients == [HEAD_EMAIL] and ", 1 day late (" in escalation.subject
    [told] = await eventually(lambda: smtp.to(r.parent_email))
    assert told["Subject"].startswith("The local authority is late: The new LA tells the family")
    assert "1 day late" in told.get_body(preferencelist=("plain",)).get_content()
    assert "la-late-TR-NEW-LA-CONTACT" in r.case_row().flags
    assert [m.recipients for m in r.outbox("overdue")] == [[LA_EMAIL]]

    # It does, two days late: done late, and every step done, the case closes.
    await r.skip_to(late + DAY)
    await r.update(
        "record_la_contact", NewLAContact(actor=r.sendco, contacted_on=late + DAY, note="No reassessment")
    )
    assert await r.outcome() == "joined"
    assert r.status("new-la-contact") == "met_late"
    assert [r.status(k) for k in ("new-pupil-return", "parents-meeting", "la-transfer")] == ["met"] * 3
    assert r.case_row().status == "closed"


async def test_joiner_whose_previous_school_is_slow_is_chased_and_escalated(
    joiner, time_env, smtp, other_school, teacher
):  # type: ignore[no-untyped-def]
    today = english_date(await time_env.get_current_time())
    school = half_term_around(today)
    previous = other_school("previous")
    r = await joiner(school.calendar, "K", sen="sen_support", previous_school_id=previous.id)

    # The previous school is asked at once, by the date 15 school days on the school's calendar.
    due = nth_open_day(today, 15, {*school.holiday, school.inset})
    assert due == school.calendar.add_school_days(today, 15)
    [asked] = await eventually(lambda: smtp.to(previous.email))
    assert asked["Subject"].startswith(
        f"Please send the records and SEN file for a pupil who has joined Test Primary by {long_date(due)} ("
    )
    body = asked.get_body(preferencelist=("plain",)).get_content()
    assert "separately and securely" in body and SENDCO_EMAIL in body
    await eventually(lambda: r.deadline_at("sen-file"))
    assert (r.due("records"), r.deadline_at("records").rule_id) == (due, "TR-CTF")  # type: ignore[union-attr]
    assert (r.due("sen-file"), r.deadline_at("sen-file").rule_id) == (due, "TR-SEN-FILE")  # type: ignore[union-attr]
    assert r.deadline_at("la-transfer") is None
    by_teacher = RecordsReceived(actor=r.teacher, item="records", received_on=today)
    assert await r.refused("record_received", by_teacher) == "Forbidden"
    moved = PlanTransferred(actor=r.sendco, transferred_on=today)
    assert await r.refused("record_plan_transferred", moved) == "Conflict"  # no plan moving LA
    await r.update("record_new_pupil_return", ReturnMade(actor=r.sendco, made_on=today))
    await r.update("record_parents_meeting", ParentsMet(actor=r.sendco, met_on=today))

    # Nothing arrives: the previous school is reminded a week and a day before.
    await r.skip_to(due)
    reminders = await eventually(lambda: len(r.outbox("reminder")) == 4 and r.outbox("reminder"))
    assert {m.recipients[0] for m in reminders} == {previous.email}
    reminded = sorted({english_date(c.at) for c in r.chronology("reminder-sent")})
    assert reminded == [due - 7 * DAY, due - DAY]

    # Late: the headteacher is told of both in one email a day, and the previous school chased of each,
    # every week until they come.
    await r.skip_to(due + DAY)
    await eventually(lambda: len(r.outbox("escalation")) == 1)
    await r.skip_to(due + 8 * DAY)
    escalations = await eventually(lambda: len(r.outbox("escalation")) == 2 and r.outbox("escalation"))
    assert all(m.recipients == [HEAD_EMAIL] for m in escalations)
    subjects = [m.subject.split(" (")[0] for m in escalations]
    assert subjects == [
        "Overdue: 2 steps late, the longest by 1 day",
        "Overdue: 2 steps late, the longest by 8 days",
    ]
    listed = smtp.to(HEAD_EMAIL)[-1].get_body(preferencelist=("plain",)).get_content()
    assert (
        f"- {RECORDS}: was due" in listed
        and "- Receive the SEN file from the previous school: was due" in listed
    )
    chased = [m for m in smtp.to(previous.email) if m["Subject"].startswith("Overdue:")]
    assert len(chased) == 4
    assert r.status("records") == "escalated" and r.case_row().status == "open"

    # SEN support starts from the plan the previous school's SENDCo sent: a linked case.
    support = StartSenSupport(
        actor=r.sendco,
        needs=["SPLD"],
        reason="Support plan from the previous school",
        class_teacher_id=teacher[0].id,
        year_group=4,
    )
    await r.update("start_sen_support", support)
    graduated = await r.linked_driver("graduated_approach")
    try:
        await graduated.at_step("assess")
        [noted] = r.chronology("sen-support-started")
        assert noted.actor == f"staff:{r.sendco.staff_id}"
    finally:
        await graduated.stop()
    assert await r.refused("start_sen_support", support) == "Conflict"  # once

    # They come, 9 days late: done late, and the case closes.
    arrived = due + 9 * DAY
    await r.skip_to(arrived)
    await r.update("record_received", RecordsReceived(actor=r.sendco, item="records", received_on=arrived))
    await r.update("record_received", RecordsReceived(actor=r.sendco, item="sen_file", received_on=arrived))
    assert await r.outcome() == "joined"
    assert r.status("records") == "met_late" and r.status("sen-file") == "met_late"
    [late] = [c for c in r.chronology("deadline-completed-late") if "transfer file" in c.detail]
    assert f"due {due:%d %b %Y}, 9 days late, TR-CTF" in late.detail
    [linked] = r.chronology("case-linked")
    assert linked.detail == f"Linked to case {graduated.case_id} (graduated_approach)"
    staff_steps = [c.action for c in r.chronology() if c.actor != "engine" and c.action != "case-linked"]
    assert staff_steps == [
        "case-opened",
        "new-pupil-return",
        "parents-met",
        "sen-support-started",
        "records-received",
        "records-received",
    ]
