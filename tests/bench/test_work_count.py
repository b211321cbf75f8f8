"""The bench counts each workflow's Temporal work from its history, on a real (time-skipping) server."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from bench.baseline_workflow import Trivial, noop
from bench.run import per_workflow


@workflow.defn(name="bench_test_mixed")
class Mixed:
    """Two activities, one local activity and one signal-free wait: a history with every kind counted."""

    @workflow.run
    async def run(self, value: int) -> int:
        timeout = timedelta(seconds=30)
        first = await workflow.execute_activity(noop, value, start_to_close_timeout=timeout)
        local = await workflow.execute_local_activity(noop, first, start_to_close_timeout=timeout)
        return await workflow.execute_activity(noop, local, start_to_close_timeout=timeout)


async def test_activities_local_activities_and_workflow_tasks_are_counted_per_workflow(
    time_env: WorkflowEnvironment,
) -> None:
    client = time_env.client
    queue = f"bench-test-{uuid.uuid4().hex[:8]}"
    ids = [f"{queue}-trivial-{i}" for i in range(3)] + [f"{queue}-mixed"]
    async with Worker(
        client,
        task_queue=queue,
        workflows=[Trivial, Mixed],
        activities=[noop],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        for i, workflow_id in enumerate(ids[:3]):
            assert await client.execute_workflow(Trivial.run, i, id=workflow_id, task_queue=queue) == i
        assert await client.execute_workflow(Mixed.run, 5, id=ids[3], task_queue=queue) == 5
        trivial = await per_workflow(client, ids[:3])
        both = await per_workflow(client, ids)
    assert trivial["workflows"] == 3
    assert (trivial["activities"], trivial["local_activities"], trivial["updates"]) == (1, 0, 0)
    assert trivial["workflow_tasks"] == 2  # the start, and the activity's result
    assert both["totals"]["activities"] == 3 + 2 and both["totals"]["local_activities"] == 1
    assert both["activities_range"] == [1, 2]
    # the clock of (b) stops at the last event of any of its workflows: here the mixed one's completion
    closed = (await client.get_workflow_handle(ids[3]).describe()).close_time
    assert closed is not None and both["last_event_at"] == closed.timestamp()
    assert trivial["last_event_at"] <= both["last_event_at"]
