"""Email under crashes, with real parts: the Temporal dev server, the worker as an OS process of its own,
an aiosmtpd server counting what arrives per Message-ID, SQLite.

- the worker SIGKILLed mid-burst: none lost; the only duplicates are copies in flight at the kill;
- the SMTP server down for longer than a retry interval: every copy delivered once when it is back;
- the dev server stopped and started on the same database file: a timer set before fires after.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from aiosmtpd.controller import Controller
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.schemas import EmailBatch, EmailRequest, Recipient
from infra.settings import ROOT
from infra.temporal import TEMPORAL_CLI, data_converter
from store.casework import Case, OutboxCopy, OutboxMessage
from tests.activities.burst_workflows import EmailBurst, TimerThenEmail
from tests.activities.test_email import REMINDER, new_case
from tests.activities.worker_process import READY
from tests.conftest import free_port
from tests.fixtures.smtp import SmtpSink


@contextmanager
def worker_process(target: str, queue: str, smtp_port: int, log: Path) -> Iterator[subprocess.Popen]:
    """The worker in a process of its own, polling the queue; stopped (if still alive) afterwards."""
    env = os.environ | {"SEND_SMTP_PORT": str(smtp_port), "PYTHONUNBUFFERED": "1"}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.activities.worker_process", target, queue],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while READY not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(30)


@contextmanager
def smtp_server(sink: SmtpSink, port: int) -> Iterator[Controller]:
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def burst(the_case: Case, messages: int) -> EmailBatch:
    """`messages` logical emails to the pupil's parents, each with a key of its own."""
    run = uuid.uuid4().hex[:8]
    return EmailBatch(
        emails=[
            EmailRequest(
                key=f"{the_case.workflow_id}:burst-{run}-{n}:parent",
                case_id=the_case.id,
                template="reminder",
                to=[Recipient(kind="parent")],
                context=REMINDER,
            )
            for n in range(messages)
        ]
    )


def copies(engine, batch: EmailBatch) -> list[OutboxCopy]:  # type: ignore[no-untyped-def]
    keys = [e.key for e in batch.emails]
    with Session(engine) as s:
        return list(
            s.exec(
                select(OutboxCopy)
                .join(OutboxMessage, col(OutboxMessage.id) == OutboxCopy.outbox_id)
                .where(col(OutboxMessage.key).in_(keys))
            ).all()
        )


def received(sink: SmtpSink) -> Counter[str]:
    """How many times each Message-ID reached the server."""
    return Counter(str(m["Message-ID"]) for m in sink.messages)


async def test_sigkill_mid_burst_loses_nothing_and_duplicates_only_copies_in_flight(  # type: ignore[no-untyped-def]
    engine, school, sendco, dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    the_case, _, parents = new_case(engine, school, sendco[0], parents=30)
    batch = burst(the_case, 4)  # 4 messages x 30 parents: 120 copies
    target = dev_env.client.service_client.config.target_host
    queue, port, sink = f"crash-{uuid.uuid4()}", free_port(), SmtpSink()

    with smtp_server(sink, port):
        with worker_process(target, queue, port, tmp_path / "worker-1.log") as first:
            handle = await dev_env.client.start_workflow(
                EmailBurst.run, batch, id=f"burst-{uuid.uuid4()}", task_queue=queue
            )
            deadline = time.monotonic() + 30
            while len(sink.messages) < 40:
                assert time.monotonic() < deadline, f"only {len(sink.messages)} copies in 30 s"
                await asyncio.sleep(0.02)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        before = len(sink.messages)
        in_flight = {c.message_id for c in copies(engine, batch) if c.claimed_at and not c.delivered_at}
        assert before < 120, "the kill came after the burst: nothing was tested"

        started = time.monotonic()
        with worker_process(target, queue, port, tmp_path / "worker-2.log"):
            results = await asyncio.wait_for(handle.result(), 60)
        resumed = time.monotonic() - started

    rows = copies(engine, batch)
    expected = {c.message_id for c in rows}
    counts = received(sink)
    duplicated = {mid for mid, n in counts.items() if n > 1}
    lost = expected - set(counts)
    print(
        f"\nSIGKILL after {before} of 120 copies: sent {sum(counts.values())}, delivered {len(counts)}, "
        f"duplicated {len(duplicated)} (in flight at the kill: {len(in_flight)}), lost {len(lost)}; "
        f"the new worker finished in {resumed:.1f} s"
    )
    assert len(expected) == 120 and {r.status for r in results} <= {"sent", "already-sent"}
    assert lost == set()
    assert duplicated <= in_flight and max(counts.values()) <= 2
    assert set(counts) == expected  # nothing else arrived
    assert all(c.delivered_at is not None for c in rows)
    addresses = Counter(a.lower() for m in sink.messages for a in m["X-RcptTo"].split(", "))
    assert set(addresses) == {p.email.lower() for p in parents}


async def test_smtp_down_longer_than_a_retry_interval_then_every_copy_delivered_once(  # type: ignore[no-untyped-def]
    engine, school, sendco, dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    the_case, _, _ = new_case(engine, school, sendco[0], parents=5)
    batch = burst(the_case, 2)  # 10 copies
    target = dev_env.client.service_client.config.target_host
    queue, port, sink = f"outage-{uuid.uuid4()}", free_port(), SmtpSink()

    with worker_process(target, queue, port, tmp_path / "worker.log"):
        handle = await dev_env.client.start_workflow(
            EmailBurst.run, batch, id=f"outage-{uuid.uuid4()}", task_queue=queue
        )
        down = time.monotonic()
        key = batch.emails[0].key
        while _attempts(engine, key) < 2:  # the first attempt and its retry both found no server
            assert time.monotonic() - down < 30, "no retry within 30 s"
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)  # ... and the retry has failed too (connection refused at once)
        outage = time.monotonic() - down
        with smtp_server(sink, port):
            results = await asyncio.wait_for(handle.result(), 60)
        attempts = _attempts(engine, key)

    counts = received(sink)
    print(f"\nSMTP down {outage:.1f} s ({attempts} attempts): {sum(counts.values())} copies for 10")
    assert [r.status for r in results] == ["sent", "sent"]
    assert attempts >= 3  # the first two attempts found no server; a later one delivered
    assert sorted(counts.values()) == [1] * 10
    assert set(counts) == {c.message_id for c in copies(engine, batch)}


def _attempts(engine, key: str) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        row = s.exec(select(OutboxMessage).where(OutboxMessage.key == key)).first()
        return row.attempts if row else 0


@contextmanager
def dev_server(db: Path, port: int, log: Path) -> Iterator[subprocess.Popen]:
    """`temporal server start-dev --db-filename` on a fixed port, stopped (SIGTERM) afterwards."""
    cmd = [str(TEMPORAL_CLI), "server", "start-dev", "--db-filename", str(db), "--ip", "127.0.0.1"]
    cmd += ["--port", str(port), "--headless", "--log-level", "warn"]
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(30)


async def timer_started(handle: WorkflowHandle) -> bool:
    return any([e.HasField("timer_started_event_attributes") async for e in handle.fetch_history_events()])


async def connect_when_up(target: str, within: float = 30) -> Client:
    deadline = time.monotonic() + within
    while True:
        try:
            return await Client.connect(target, data_converter=data_converter())
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)


async def test_a_timer_set_before_the_dev_server_restarts_fires_after(  # type: ignore[no-untyped-def]
    engine, school, sendco, tmp_path: Path
) -> None:
    the_case, _, parents = new_case(engine, school, sendco[0], parents=1)
    batch = burst(the_case, 1)
    db, port, smtp_port, sink = tmp_path / "temporal.db", free_port(), free_port(), SmtpSink()
    target, queue = f"127.0.0.1:{port}", f"timer-{uuid.uuid4()}"

    with smtp_server(sink, smtp_port), ExitStack() as stack:
        with dev_server(db, port, tmp_path / "temporal-1.log"):
            client = await connect_when_up(target)
            worker = stack.enter_context(worker_process(target, queue, smtp_port, tmp_path / "w.log"))
            handle = await client.start_workflow(
                TimerThenEmail.run, args=[batch, 8.0], id=f"timer-{uuid.uuid4()}", task_queue=queue
            )
            while not await timer_started(handle):
                await asyncio.sleep(0.2)
            set_at = time.monotonic()
        down_at = time.monotonic()
        await asyncio.sleep(max(0.0, set_at + 10 - time.monotonic()))  # the timer falls due while down
        assert sink.messages == [] and worker.poll() is None  # the worker waits for the server
        with dev_server(db, port, tmp_path / "temporal-2.log"):
            up_at = time.monotonic()
            client = await connect_when_up(target)
            again = client.get_workflow_handle_for(TimerThenEmail.run, handle.id)
            results = await asyncio.wait_for(again.result(), 45)
            fired = time.monotonic() - up_at

    print(f"\ndev server down {up_at - down_at:.1f} s; the timer's email {fired:.1f} s after it was back")
    assert [r.status for r in results] == ["sent"]
    assert [m["X-RcptTo"] for m in sink.messages] == [parents[0].email]
