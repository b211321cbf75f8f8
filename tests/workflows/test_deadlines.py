"""The deadline engine in time-skipping Temporal: on time, late (reminders, escalation), re-planned."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlmodel import Session, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.dates import add_working_days, english_date, english_moment
from domain.schemas import Actor, DueDateChange, Recipient, Role
from store.casework import ChronologyEntry, Deadline
from tests.workflows.deadline_probe import DeadlineProbe, ProbeInput
from worker import ACTIVITIES

DAY = dt.timedelta(days=1)


@pytest.fixture
async def probe_queue(time_env: WorkflowEnvironment, executor):  # type: ignore[no-untyped-def]
    queue = f"probe-{uuid.uuid4()}"
    async with Worker(
        time_env.client,
        task_queue=queue,
        workflows=[DeadlineProbe],
        activities=ACTIVITIES,
        activity_executor=executor,
    ):
        yield queue


async def start(env: WorkflowEnvironment, queue: str, case, due: dt.date, owner: str):  # type: ignore[no-untyped-def]
    inp = ProbeInput(case=case, due=due, owner=Recipient(kind=owner))
    return await env.client.start_workflow(DeadlineProbe.run, inp, id=case.workflow_id, task_queue=queue)


def chronology(engine, case_id: str, action: str) -> list[ChronologyEntry]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        rows = s.exec(select(ChronologyEntry).where(ChronologyEntry.case_id == case_id)).all()
        return [r for r in rows if r.action == action]


def deadline_row(engine, case_id: str) -> Deadline:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.exec(select(Deadline).where(Deadline.case_id == case_id)).one()


def sent_to(smtp, address: str) -> list:  # type: ignore[no-untyped-def]
    return [m for m in smtp.messages if address in (m["To"] or "")]


def last_on_or_before(day: dt.date, weekday: int) -> dt.date:
    while day.weekday() != weekday:
        day -= DAY
    return day


async def test_on_time_reminds_the_sendco_on_her_working_day_and_is_met(
    time_env, probe_queue, new_case, engine, smtp, sendco
):  # type: ignore[no-untyped-def]
    smtp.clear()
    today = english_date(await time_env.get_current_time())
    due = today + 20 * DAY
    case = new_case()
    handle = await start(time_env, probe_queue, case, due, "sendco")
    # to noon the day before the due date: past the last reminder (08:00) whatever the time of day now
    await time_env.sleep(english_moment(due - DAY, dt.time(12)) - await time_env.get_current_time())

    # The school's SENDCo works Tuesdays only: both reminders land on the Tuesday on or before.
    expected = sorted({last_on_or_before(due - 7 * DAY, 1), last_on_or_before(due - DAY, 1)})
    reminders = chronology(engine, case.case_id, "reminder-sent")
    assert [english_date(r.at) for r in reminders] == expected
    assert all(english_date(r.at).weekday() == 1 for r in reminders)
    mails = sent_to(smtp, sendco[0].email)
    assert len(mails) == len(expected)
    assert all("AR-REPORT" in m.get_body(("plain",)).get_content() for m in mails)
    assert deadline_row(engine, case.case_id).status == "pending"

    await handle.execute_update(DeadlineProbe.complete)
    assert await handle.result() == "met"
    row = deadline_row(engine, case.case_id)
    assert (row.status, row.due, row.rule_id) == ("met", due, "AR-REPORT")
    assert row.met_at is not None and row.escalated_at is None
    assert len(chronology(engine, case.case_id, "deadline-met")) == 1
    assert not chronology(engine, case.case_id, "deadline-escalated")


async def test_late_step_is_reminded_missed_escalated_and_escalated_again(
    time_env, probe_queue, new_case, engine, smtp, headteacher
):  # type: ignore[no-untyped-def]
    smtp.clear()
    today = english_date(await time_env.get_current_time())
    due = today + 10 * DAY
    case = new_case()
    handle = await start(time_env, probe_queue, case, due, "la_sen")
    await time_env.sleep(19 * DAY)  # 8 days past the due date: breach + one further escalation

    reminders = chronology(engine, case.case_id, "reminder-sent")
    assert [english_date(r.at) for r in reminders] == [due - 7 * DAY, due - DAY]
    to_la = [m["Subject"].split(":")[0] for m in sent_to(smtp, "la_sen@example.org")]
    assert to_la == ["Reminder", "Reminder", "Overdue", "Overdue"]  # then chased at each escalation
    row = deadline_row(engine, case.case_id)
    assert row.status == "escalated"
    assert row.missed_at is not None and english_date(row.missed_at) == due + DAY
    escalations = chronology(engine, case.case_id, "deadline-escalated")
    assert [english_date(e.at) for e in escalations] == [due + DAY, due + 8 * DAY]
    to_head = sent_to(smtp, headteacher[0].email)
    assert len(to_head) == 2
    assert (
        "AR-REPORT" in to_head[0]["Subject"] or "AR-REPORT" in to_head[0].get_body(("plain",)).get_content()
    )

    await handle.execute_update(DeadlineProbe.complete)
    assert await handle.result() == "met_late"
    row = deadline_row(engine, case.case_id)  # done late: shown as done, no longer outstanding
    assert row.status == "met_late" and row.completed_at is not None and row.met_at is None
    assert row.missed_at is not None and row.escalated_at is not None  # its history is kept
    (done,) = chronology(engine, case.case_id, "deadline-completed-late")
    assert "done late" in done.detail and "days late" in done.detail


async def test_due_date_change_replans_every_timer_and_records_who_and_why(
    time_env, probe_queue, new_case, engine, smtp, headteacher, teacher
):  # type: ignore[no-untyped-def]
    smtp.clear()
    today = english_date(await time_env.get_current_time())
    old_due, new_due = today + 10 * DAY, today + 30 * DAY
    case = new_case()
    handle = await start(time_env, probe_queue, case, old_due, "la_sen")
    await time_env.sleep(2 * DAY)

    by_teacher = DueDateChange(
        key="step", due=new_due, reason="LA asked", actor=Actor(staff_id=teacher[0].id, role=Role.staff)
    )
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(DeadlineProbe.change_due_date, by_teacher)
    assert refused.value.cause.type == "Forbidden"

    head = Actor(staff_id=headteacher[0].id, role=Role.headteacher)
    change = DueDateChange(
        key="step", due=new_due, reason="Meeting moved at the parent's request", actor=head
    )
    assert await handle.execute_update(DeadlineProbe.change_due_date, change) == new_due.isoformat()
    await time_env.sleep(25 * DAY)

    [told] = [m for m in sent_to(smtp, "la_sen@example.org") if m["Subject"].startswith("Date changed")]
    assert f"now due {new_due:%A} {new_due.day} {new_due:%B %Y}" in told["Subject"]
    assert "Meeting moved at the parent's request" in told.get_body(("plain",)).get_content()
    [moved] = chronology(engine, case.case_id, "due-date-changed")
    assert moved.actor == f"staff:{headteacher[0].id}"
    assert "Meeting moved at the parent's request" in moved.detail
    reminders = chronology(engine, case.case_id, "reminder-sent")
    assert [english_date(r.at) for r in reminders] == [new_due - 7 * DAY]  # none for the old date
    row = deadline_row(engine, case.case_id)
    assert (row.due, row.status) == (new_due, "pending")
    assert not chronology(engine, case.case_id, "deadline-missed")

    await handle.execute_update(DeadlineProbe.complete)
    assert await handle.result() == "met"


async def test_a_step_done_after_its_due_date_is_late_even_before_the_breach_timer_fires(
    time_env, probe_queue, new_case, engine
):  # type: ignore[no-untyped-def]
    today = english_date(await time_env.get_current_time())
    case = new_case()
    handle = await start(time_env, probe_queue, case, today - 3 * DAY, "sendco")  # already overdue
    await handle.execute_update(DeadlineProbe.complete)
    assert await handle.result() == "met_late"
    row = deadline_row(engine, case.case_id)
    assert row.status == "met_late" and row.met_at is None and row.completed_at is not None
    assert not chronology(engine, case.case_id, "deadline-met")
    assert len(chronology(engine, case.case_id, "deadline-completed-late")) == 1


async def back_in_step(env: WorkflowEnvironment, started: dt.datetime) -> None:
    """Skip on to the weekday and time of day the test began at: the tests after it share the clock."""
    gap = (started - await env.get_current_time()) % dt.timedelta(days=7)
    await env.sleep(gap)


async def test_a_deadline_already_past_when_set_is_chased_on_the_next_working_day_not_at_once(
    time_env, probe_queue, new_case, engine, smtp, headteacher
):  # type: ignore[no-untyped-def]
    smtp.clear()
    now = await time_env.get_current_time()
    today = english_date(now)
    case = new_case()
    handle = await start(time_env, probe_queue, case, today - 3 * DAY, "la_sen")
    await time_env.sleep(dt.timedelta(minutes=5))

    # Shown missed, but not "3 days late, the headteacher has been told" the instant it is set.
    assert deadline_row(engine, case.case_id).status == "missed"
    assert not chronology(engine, case.case_id, "deadline-escalated")
    assert not sent_to(smtp, headteacher[0].email) and not sent_to(smtp, "la_sen@example.org")

    # The next working day at 08:00: still missing, so the owner is chased and the headteacher told, once.
    chase_day = add_working_days(today, 1)
    await time_env.sleep(english_moment(chase_day, dt.time(8, 1)) - await time_env.get_current_time())
    [escalated] = chronology(engine, case.case_id, "deadline-escalated")
    assert english_date(escalated.at) == chase_day
    assert [m["Subject"].split(":")[0] for m in sent_to(smtp, "la_sen@example.org")] == ["Overdue"]
    assert len(sent_to(smtp, headteacher[0].email)) == 1
    assert deadline_row(engine, case.case_id).status == "escalated"
    await handle.execute_update(DeadlineProbe.complete)
    assert await handle.result() == "met_late"
    await back_in_step(time_env, now)


async def test_a_sendco_step_already_past_is_chased_on_the_sendcos_next_working_day(
    time_env, probe_queue, new_case, engine, smtp, sendco
):  # type: ignore[no-untyped-def]
    smtp.clear()
    began = await time_env.get_current_time()
    today = english_date(began)
    case = new_case()  # the test school's SENDCo works Tuesdays only
    handle = await start(time_env, probe_queue, case, today - DAY, "sendco")
    tuesday = add_working_days(today, 1)
    while tuesday.weekday() != 1:
        tuesday += DAY
    await time_env.sleep(english_moment(tuesday, dt.time(7, 59)) - await time_env.get_current_time())
    assert not chronology(engine, case.case_id, "deadline-escalated")  # not before she is in
    await time_env.sleep(dt.timedelta(minutes=2))
    [escalated] = chronology(engine, case.case_id, "deadline-escalated")
    assert english_date(escalated.at) == tuesday
    await handle.execute_update(DeadlineProbe.complete)
    assert await handle.result() == "met_late"
    await back_in_step(time_env, began)
