"""The bare Temporal baseline: a trivial workflow that runs one trivial activity (bench only)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bench_noop")
async def noop(value: int) -> int:
    """Return the value unchanged."""
    return value


@workflow.defn(name="bench_trivial")
class Trivial:
    """Run one trivial activity and return its result."""

    @workflow.run
    async def run(self, value: int) -> int:
        """Run the activity once."""
        return await workflow.execute_activity(noop, value, start_to_close_timeout=timedelta(seconds=30))
