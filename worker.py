"""The worker: runs every process workflow and the record and email activities on one task queue."""

from __future__ import annotations

import asyncio
import compileall
import logging
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.cases import CASE_ACTIVITIES
from activities.digest import DIGEST_ACTIVITIES
from activities.email import EMAIL_ACTIVITIES
from activities.ep_allocation import EP_ALLOCATION_ACTIVITIES
from activities.funding import FUNDING_ACTIVITIES
from activities.provision import PROVISION_ACTIVITIES
from activities.records import RECORD_ACTIVITIES
from engine.digests import ensure_digests
from infra.settings import ROOT, get_settings
from infra.temporal import connect
from workflows.digest import SendcoDigest
from workflows.registry import PROCESSES
from workflows.resend_link import ResendLink

WORKFLOWS = [p.workflow for p in PROCESSES.values()]
SCHEDULES = [SendcoDigest]  # durable schedules that are not cases: the SENDCo-day digest, one per school
ONE_OFFS = [ResendLink]  # short workflows that are not cases: an action link sent again
ACTIVITIES = [
    *RECORD_ACTIVITIES,
    *EMAIL_ACTIVITIES,
    *CASE_ACTIVITIES,
    *PROVISION_ACTIVITIES,
    *EP_ALLOCATION_ACTIVITIES,
    *FUNDING_ACTIVITIES,
    *DIGEST_ACTIVITIES,
]
# Pure domain code and the bank-holiday tables it reads are shared with the sandbox, not re-imported.
SANDBOX = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "domain", "holidays", "dateutil", "pydantic"
    )
)
STICKY_TIMEOUT = timedelta(seconds=3)


def cache_workflow_bytecode() -> None:
    """The sandbox imports a workflow's module afresh for every case it runs: have it read the module's
    bytecode, not compile its source every time (as it does when PYTHONDONTWRITEBYTECODE kept Python from
    caching it). A directory the worker cannot write to is left as it is (the image compiles at build)."""
    compileall.compile_dir(ROOT / "workflows", quiet=2)


def build_worker(client: Client, task_queue: str, executor: ThreadPoolExecutor) -> Worker:
    """A worker for every process on the task queue (database activities run in the executor)."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[*WORKFLOWS, *SCHEDULES, *ONE_OFFS],
        activities=ACTIVITIES,
        activity_executor=executor,
        workflow_runner=SANDBOX,
        # A worker that was killed cannot hand back its cached cases: after this long, their next task
        # goes to any worker instead, well within the API's 10 s wait for an answer.
        sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
    )


async def main() -> None:
    """Run until SIGINT or SIGTERM, then finish in-flight tasks and stop."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    settings = get_settings()
    cache_workflow_bytecode()
    client = await connect(settings)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    with ThreadPoolExecutor(max_workers=16) as executor:
        async with build_worker(client, settings.task_queue, executor):
            logging.info("worker polling task queue %s on %s", settings.task_queue, settings.temporal_address)
            try:
                await ensure_digests(client, settings.task_queue)
            except Exception as err:  # the cases run regardless; the digests start on the next start
                logging.warning("the SENDCo-day digests were not started: %s", type(err).__name__)
            await stop.wait()
    logging.info("worker stopped")


if __name__ == "__main__":
    asyncio.run(main())
