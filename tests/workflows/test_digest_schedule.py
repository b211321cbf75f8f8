"""A school added while the worker runs gets its SENDCo-day digest at once (`send-engine create-school`), a
change of the SENDCo's working days reaches the digest at once (`send-engine set-sendco-days`), and with
Temporal out of reach the command says the digest starts at the next worker start, which starts it.

A real time-skipping Temporal server, the product's worker, a real SMTP server and the command line as an
administrator runs it (its Temporal call in a child process of its own).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from sqlmodel import Session, select
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from domain.dates import english_date, english_moment
from domain.digest import DIGEST_AT
from domain.schemas import Role
from engine.cli import main as cli
from engine.digests import ensure_digests
from infra.settings import get_settings
from store.register import School, Staff
from tests.fixtures.temporal import running_worker
from workflows.digest import digest_workflow_id

DAY = dt.timedelta(days=1)
WEDNESDAY = 2


def school_named(engine, name: str) -> School:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.exec(select(School).where(School.name == name)).one()


def use_temporal(monkeypatch, address: str, queue: str) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SEND_TEMPORAL_ADDRESS", address)
    monkeypatch.setenv("SEND_TASK_QUEUE", queue)
    get_settings.cache_clear()


async def command(*argv: str) -> int:
    """`send-engine ...`, run as from a shell (off the test's event loop)."""
    return await asyncio.to_thread(cli, list(argv))


async def test_a_new_school_gets_its_digest_at_once_and_a_new_working_pattern_reaches_it(
    time_env: WorkflowEnvironment, executor, engine, smtp, monkeypatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    smtp.clear()
    name = f"Birch Primary {uuid.uuid4().hex[:6]}"
    async with running_worker(time_env.client, executor) as queue:
        use_temporal(monkeypatch, time_env.client.service_client.config.target_host, queue)
        assert await command("create-school", name, "--local-authority", "Kent") == 0
        out = capsys.readouterr().out
        assert f"added: {name} (Kent)" in out
        assert "its SENDCo-day digest is scheduled: at 07:00 on each working day (Monday to Friday)" in out
        school = school_named(engine, name)
        handle = time_env.client.get_workflow_handle(digest_workflow_id(school.id))
        first = await handle.describe()
        assert first.status == WorkflowExecutionStatus.RUNNING  # no worker restart needed
        sendco = Staff(school_id=school.id, name="Bea Birch", email=f"bea-{uuid.uuid4().hex[:6]}@example.org")
        sendco.role = Role.sendco
        with Session(engine, expire_on_commit=False) as s:
            s.add(sendco)
            s.commit()

        # The SENDCo now works Wednesdays only: the digest follows at once, not after its next morning.
        assert await command("set-sendco-days", str(school.id), "wed") == 0
        out = capsys.readouterr().out
        assert "the SENDCo works on Wednesdays" in out and "(on Wednesdays)" in out
        assert (
            await time_env.client.get_workflow_handle(
                digest_workflow_id(school.id), run_id=first.run_id
            ).describe()
        ).status == WorkflowExecutionStatus.TERMINATED
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING

        began = await time_env.get_current_time()
        await time_env.sleep(8 * DAY)
        mornings = [english_moment(english_date(began) + n * DAY, DIGEST_AT) for n in range(10)]
        wednesdays = [m for m in mornings if began < m <= began + 8 * DAY and m.weekday() == WEDNESDAY]
        digests = [m for m in smtp.messages if sendco.email in m["X-RcptTo"]]
        assert len(digests) == len(wednesdays) >= 1  # one a week, on Wednesday mornings, not five
        assert all(m["Subject"].startswith("Your SEND day, Wed ") for m in digests)

    assert await command("set-sendco-days", "999999", "wed") == 2
    assert await command("set-sendco-days", str(school.id), "someday") == 2
    assert "not a weekday: someday" in capsys.readouterr().err


async def test_with_temporal_out_of_reach_the_digest_starts_at_the_next_worker_start(
    time_env: WorkflowEnvironment, executor, engine, monkeypatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    name = f"Cedar Primary {uuid.uuid4().hex[:6]}"
    async with running_worker(time_env.client, executor) as queue:
        use_temporal(monkeypatch, "127.0.0.1:1", queue)  # nothing listens there
        assert await command("create-school", name, "--local-authority", "Kent") == 0
        out = capsys.readouterr().out
        assert f"added: {name} (Kent)" in out
        assert "so the SENDCo-day digest (Monday to Friday) will start at the next worker start" in out
        school = school_named(engine, name)
        handle = time_env.client.get_workflow_handle(digest_workflow_id(school.id))
        with pytest.raises(RPCError):  # nothing started it
            await handle.describe()
        await ensure_digests(time_env.client, queue)  # what the worker does as it starts
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
