"""One escalation email per case a day: deadlines late together are listed in one email to the headteacher.

Time-skipping Temporal, a real SMTP server on loopback: what the headteacher receives, day by day.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.dates import english_date, english_moment
from domain.schemas import Actor, DueDateChange, Recipient, Role
from store.casework import ChronologyEntry
from tests.web.browser import leaks
from tests.workflows.escalation_probe import SeveralDeadlines, SeveralInput, Step
from worker import ACTIVITIES

DAY = dt.timedelta(days=1)
LA = Recipient(kind="la_sen")
STEPS = {  # key: (title, rule id)
    "invite": ("Send the invitations", "AR-INVITE"),
    "advice": ("Ask for advice", "AR-ADVICE-REQUEST"),
    "report": ("Send the review report", "AR-REPORT"),
    "decision": ("Decide on the plan", "AR-LA-DECISION"),
}


@pytest.fixture
async def queue(time_env: WorkflowEnvironment, executor):  # type: ignore[no-untyped-def]
    name = f"escalations-{uuid.uuid4()}"
    async with Worker(
        time_env.client,
        task_queue=name,
        workflows=[SeveralDeadlines],
        activities=ACTIVITIES,
        activity_executor=executor,
    ):
        yield name


async def skip_to(env: WorkflowEnvironment, day: dt.date, hour: int, minute: int = 0) -> None:
    """On to a time of day in England (timers on the way fire)."""
    target = english_moment(day, dt.time(hour, minute))
    now = await env.get_current_time()
    assert target > now
    await env.sleep(target - now)


def to_head(smtp, headteacher) -> list:  # type: ignore[no-untyped-def]
    return [m for m in smtp.messages if headteacher[0].email in (m["To"] or "")]


def listed(message) -> list[str]:  # type: ignore[no-untyped-def]
    """The titles of the steps an escalation email lists, in its plain text."""
    text = message.get_body(("plain",)).get_content()
    return sorted(title for title, _ in STEPS.values() if f"- {title}: was due" in text)


def still_late(message) -> list[str]:  # type: ignore[no-untyped-def]
    """The lines of what is still late from earlier emails, in its plain text."""
    text = message.get_body(("plain",)).get_content()
    if "Still late, as you were told before:" not in text:
        return []
    section = text.split("Still late, as you were told before:")[1].split("Please act")[0]
    return [line.strip() for line in section.splitlines() if line.strip()]


def escalated_notes(engine, case_id: str) -> list[ChronologyEntry]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        rows = s.exec(select(ChronologyEntry).where(ChronologyEntry.case_id == case_id)).all()
        return [r for r in rows if r.action == "deadline-escalated"]


async def test_deadlines_missed_the_same_day_reach_the_headteacher_as_one_email_a_day(
    time_env, queue, new_case, engine, smtp, headteacher
):  # type: ignore[no-untyped-def]
    smtp.clear()
    today = english_date(await time_env.get_current_time())
    due = today + 5 * DAY
    late_together = ("invite", "advice", "report")
    steps = [Step(key=k, title=STEPS[k][0], rule_id=STEPS[k][1], due=due, owner=LA) for k in late_together]
    steps.append(
        Step(
            key="decision", title=STEPS["decision"][0], rule_id="AR-LA-DECISION", due=due + 60 * DAY, owner=LA
        )
    )
    case = new_case("escalation_probe")
    handle = await time_env.client.start_workflow(
        SeveralDeadlines.run, SeveralInput(case=case, steps=steps), id=case.workflow_id, task_queue=queue
    )

    # Three steps missed the same day: the headteacher gets one email that day, listing all three.
    await skip_to(time_env, due + DAY, 12)
    [first] = to_head(smtp, headteacher)
    assert listed(first) == sorted(STEPS[k][0] for k in late_together)
    assert first["Subject"].startswith("Overdue: 3 steps late, the longest by 1 day (")
    text = first.get_body(("plain",)).get_content()
    for key in late_together:
        assert f"Rule: {STEPS[key][1]} (" in text
    assert "Waiting on: the LA SEN team" in text and "1 day late" in text
    assert len(escalated_notes(engine, case.case_id)) == 3  # the chronology keeps one note per step

    # Later that day a fourth step is found late (its date moved into the past): not a second email today.
    head = Actor(staff_id=headteacher[0].id, role=Role.headteacher)
    moved = DueDateChange(key="decision", due=today + 2 * DAY, reason="Entered wrongly", actor=head)
    await handle.execute_update(SeveralDeadlines.change_due_date, moved)
    await skip_to(time_env, due + DAY, 23)
    assert len(to_head(smtp, headteacher)) == 1
    [held] = [n for n in escalated_notes(engine, case.case_id) if n.detail.startswith(STEPS["decision"][0])]
    assert "in tomorrow's email" in held.detail

    # Two steps done; the next morning the one held over goes, listing only what is late and due now.
    for key in ("invite", "advice"):
        await handle.execute_update(SeveralDeadlines.complete, key)
    await skip_to(time_env, due + 2 * DAY, 12)
    [_, second] = to_head(smtp, headteacher)
    assert listed(second) == [STEPS["decision"][0]]
    assert second["Subject"].startswith(f"Overdue: {STEPS['decision'][0]}, ")
    assert still_late(second) == [
        f"- {STEPS['report'][0]} (AR-REPORT): 2 days late, waiting on the LA SEN team"
    ]

    # A week on, the step still late is escalated again (one email); once all is done, nothing more.
    await skip_to(time_env, due + 8 * DAY, 6)
    [*_, third] = to_head(smtp, headteacher)
    assert len(to_head(smtp, headteacher)) == 3
    assert (
        listed(third) == [STEPS["report"][0]]
        and "Told 2 times so far" in third.get_body(("plain",)).get_content()
    )
    assert [line.split(":")[0] for line in still_late(third)] == [
        f"- {STEPS['decision'][0]} (AR-LA-DECISION)"
    ]
    assert not still_late(first)
    for told in (first, second, third):  # no code, dict or ISO date reaches the headteacher
        assert not leaks(told.get_body(("plain",)).get_content()), leaks(
            told.get_body(("plain",)).get_content()
        )
    for key in ("report", "decision"):
        await handle.execute_update(SeveralDeadlines.complete, key)
    outcomes = await handle.result()
    assert set(outcomes.values()) == {"met_late"}
    await time_env.sleep(10 * DAY)
    assert len(to_head(smtp, headteacher)) == 3
