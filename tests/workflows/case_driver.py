"""Driving one case of a process in time-skipping Temporal, shared by each process's workflow tests.

`CaseDriver` holds a started case (its handle, ids and the people acting on it) and reads what the case
wrote (the case row, chronology, outbox, pending approval); each process's tests subclass it with their
own steps. `StartedCases` is the fixture side: every case a test starts is stopped once idle after the
test, and the recorded scenarios' first runs are saved (tests/workflows/recorder.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from sqlmodel import Session, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain.dates import english_date
from domain.schemas import Actor, CaseRef, Role
from store.casework import Approval, Case, ChronologyEntry, Deadline, OutboxMessage
from tests.workflows.recorder import Recorder


async def eventually(check: Callable[[], Any], timeout: float = 20) -> Any:
    """Poll (in real time) until check() is truthy: the workflow's own steps run after an Update returns."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "the case did not get there in time"
        await asyncio.sleep(0.05)


async def idle(handle: WorkflowHandle) -> bool:
    """No workflow task and no activity of the run is scheduled without being finished."""
    open_tasks: Counter[str] = Counter()
    async for event in handle.fetch_history_events():
        name = EventType.Name(event.event_type)
        for kind in ("WORKFLOW_TASK", "ACTIVITY_TASK"):
            if name == f"EVENT_TYPE_{kind}_SCHEDULED":
                open_tasks[kind] += 1
            elif name in {
                f"EVENT_TYPE_{kind}_{end}" for end in ("COMPLETED", "FAILED", "TIMED_OUT", "CANCELED")
            }:
                open_tasks[kind] -= 1
    return not any(open_tasks.values())


async def until_idle(handle: WorkflowHandle, timeout: float = 20) -> None:
    """Wait (in real time) until the run has nothing in flight: its emails sent and its writes done."""
    deadline = time.monotonic() + timeout
    while not await idle(handle) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


def people(sendco, headteacher, teacher) -> dict[str, Actor]:  # type: ignore[no-untyped-def]
    """The actors of the school's staff fixtures, as `CaseDriver` keywords (sendco, head, teacher)."""
    return {
        "sendco": Actor(staff_id=sendco[0].id, role=Role.sendco),
        "head": Actor(staff_id=headteacher[0].id, role=Role.headteacher),
        "teacher": Actor(staff_id=teacher[0].id, role=Role.staff),
    }


@dataclass
class CaseDriver:
    """One case under test: the handle, its ids and the people acting on it."""

    env: WorkflowEnvironment
    engine: Any
    case: CaseRef
    handle: WorkflowHandle
    sendco: Actor
    head: Actor
    teacher: Actor

    @property
    def case_id(self) -> str:
        return self.case.case_id

    async def today(self) -> dt.date:
        return english_date(await self.env.get_current_time())

    async def skip_to(self, day: dt.date, hour: int = 12) -> None:
        """Advance the server clock to a time on a day (timers on the way fire)."""
        now = await self.env.get_current_time()
        target = dt.datetime.combine(day, dt.time(hour), dt.UTC)
        if target > now:
            await self.env.sleep(target - now)

    async def outcome(self) -> Any:
        """The run's result, without letting the test server skip time while it waits (a case with no timer
        left would otherwise see the clock jump years ahead before its last write is taken)."""
        with self.env.auto_time_skipping_disabled():
            return await self.handle.result()

    async def update(self, name: str, payload: Any) -> Any:
        return await self.handle.execute_update(name, payload)

    async def refused(self, name: str, payload: Any) -> str:
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await self.handle.execute_update(name, payload)
        return err.value.cause.type  # type: ignore[union-attr]

    # --- what the case wrote ---------------------------------------------------------------------
    def case_row(self) -> Case:
        with Session(self.engine) as s:
            case = s.get(Case, self.case_id)
            assert case is not None
            return case

    def step(self) -> str:
        return self.case_row().step

    async def at_step(self, step: str) -> Case:
        return await eventually(lambda: (c := self.case_row()).step == step and c)

    def chronology(self, action: str | None = None) -> list[ChronologyEntry]:
        with Session(self.engine) as s:
            query = select(ChronologyEntry).where(ChronologyEntry.case_id == self.case_id)
            found = s.exec(query.order_by(ChronologyEntry.at, ChronologyEntry.id)).all()
            return [c for c in found if action is None or c.action == action]

    def outbox(self, template: str) -> list[OutboxMessage]:
        with Session(self.engine) as s:
            query = select(OutboxMessage).where(
                OutboxMessage.case_id == self.case_id, OutboxMessage.template == template
            )
            return list(s.exec(query.order_by(OutboxMessage.id)))

    def deadline_at(self, key: str) -> Deadline | None:
        """The case's deadline row of that key (its step, in a one-cycle case), once written."""
        with Session(self.engine) as s:
            query = select(Deadline).where(Deadline.case_id == self.case_id, Deadline.key == key)
            return s.exec(query).first()

    async def activities(self) -> tuple[list[str], int]:
        """The activities the case's run has scheduled, by name, and how many local ones it ran, once it
        has nothing in flight (a local activity is in the history when its workflow task completes)."""
        await until_idle(self.handle)
        history = await self.handle.fetch_history()
        scheduled = [
            e.activity_task_scheduled_event_attributes.activity_type.name
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        ]
        local = sum(
            e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
            and e.marker_recorded_event_attributes.marker_name == "core_local_activity"
            for e in history.events
        )
        return scheduled, local

    def pending_approval(self) -> Approval | None:
        with Session(self.engine) as s:
            query = select(Approval).where(Approval.case_id == self.case_id, Approval.status == "pending")
            return s.exec(query).first()

    async def stop(self) -> None:
        """End the case's latest run once it is idle: a run ended mid-task keeps the test clock locked."""
        latest = self.env.client.get_workflow_handle(self.case.workflow_id)
        await until_idle(latest)
        if (await latest.describe()).status == WorkflowExecutionStatus.RUNNING:
            await latest.terminate("test over")


Driver = TypeVar("Driver", bound=CaseDriver)


class StartedCases:
    """The cases one test starts: `add` each as it starts; `close` (at teardown) stops every one once idle
    and saves the first run of a recorded scenario's first case (`Recorder`: only if the test passed);
    a case the scenario went on to open (an EP referral) is another process's, and is not saved."""

    def __init__(
        self, request: pytest.FixtureRequest, env: WorkflowEnvironment, process: str, recorded: dict[str, str]
    ) -> None:
        self.env = env
        self.recorder = Recorder(request, process, recorded)
        self.started: list[CaseDriver] = []
        self.first: CaseDriver | None = None  # the scenario's own case, whatever is stopped before it

    def add(self, driver: Driver) -> Driver:
        self.started.append(driver)
        self.first = self.first or driver
        return driver

    async def close(self) -> None:
        for r in self.started:
            await r.stop()
        if (first := self.first) is not None:
            await self.recorder.save(
                self.env.client, first.case.workflow_id, first.handle.first_execution_run_id
            )
