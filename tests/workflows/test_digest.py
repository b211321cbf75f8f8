"""The SENDCo-day digest over a fortnight for a SENDCo who works Wednesdays only, in time-skipping
Temporal: one email on each Wednesday morning and no other day, listing what is overdue, what is due before
the next Wednesday and what waits on others; what falls due while the SENDCo is out also goes to the
headteacher as cover, recorded on each case."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlmodel import Session, select
from temporalio.testing import WorkflowEnvironment

from domain.dates import english_date, english_moment
from domain.digest import DIGEST_AT, DigestInput
from store.casework import ChronologyEntry, OutboxMessage
from tests.web.browser import leaks
from tests.web.wednesday import WEDNESDAY, wednesday_school_on
from tests.workflows.test_deadlines import back_in_step
from workflows.digest import SendcoDigest, digest_workflow_id

DAY = dt.timedelta(days=1)


def received(smtp, address: str) -> list:  # type: ignore[no-untyped-def]
    return [m for m in smtp.messages if address in m["X-RcptTo"]]


def text(message) -> str:  # type: ignore[no-untyped-def]
    return message.get_body(preferencelist=("plain",)).get_content()


async def test_the_digest_over_a_fortnight_for_a_wednesday_only_sendco(
    time_env: WorkflowEnvironment, task_queue, engine, smtp
) -> None:  # type: ignore[no-untyped-def]
    smtp.clear()
    start = await time_env.get_current_time()
    today = english_date(start)
    school = wednesday_school_on(engine, today)
    sendco, head = school.sendco[0], school.head[0]
    school_id = school.pupils["Tia Today"].school_id
    handle = await time_env.client.start_workflow(
        SendcoDigest.run,
        DigestInput(school_id=school_id, working_days=[WEDNESDAY]),
        id=f"{digest_workflow_id(school_id)}-{uuid.uuid4().hex[:6]}",
        task_queue=task_queue,
    )
    await time_env.sleep(14 * DAY)

    # One digest on each Wednesday morning of the fortnight, and on no other day.
    wednesdays = [d for d in (today + n * DAY for n in range(15)) if d.weekday() == WEDNESDAY]
    wednesdays = [d for d in wednesdays if english_moment(d, DIGEST_AT) > start][:2]
    digests = received(smtp, sendco.email)
    with Session(engine) as s:
        rows = s.exec(select(OutboxMessage).where(OutboxMessage.template == "sendco-digest")).all()
    mine = f"sendco-digest:school-{school_id}:"
    sent_on = sorted(dt.date.fromisoformat(r.key.removeprefix(mine)) for r in rows if r.key.startswith(mine))
    assert sent_on == wednesdays  # the outbox keys each by its day: exactly once a day
    assert all(r.status == "sent" for r in rows if r.key.startswith(mine))
    assert len(digests) == 2

    first = text(digests[0])
    assert "You work on Wednesdays" in first
    assert digests[0]["Subject"].startswith(f"Your SEND day, {wednesdays[0]:%a} {wednesdays[0].day}")
    assert "Olive Overdue" in first.split("Due before you are next in")[0]  # overdue
    waiting = first.split("Waiting on others")[1]
    assert "Lars Waiting" in waiting and "LA SEN team" in waiting
    assert "TR-RECORDS-ACCESS" in first
    assert not leaks(first), leaks(first)

    # Cover: what falls due while the SENDCo is out went to the headteacher, once a Wednesday at most,
    # and each case covered says so.
    covers = received(smtp, head.email)
    assert covers, "the headteacher got no cover"
    assert all(m["Subject"].startswith("Cover:") for m in covers) and len(covers) <= 2
    assert not leaks(text(covers[0])), leaks(text(covers[0]))
    with Session(engine) as s:
        noted = s.exec(select(ChronologyEntry).where(ChronologyEntry.action == "cover-sent")).all()
    covered = {n.case_id for n in noted}
    assert covered and all("sent to the headteacher as cover" in n.detail for n in noted)
    assert all(n.actor == "engine" for n in noted)
    await handle.terminate("the fortnight is over")
    await back_in_step(time_env, start)
