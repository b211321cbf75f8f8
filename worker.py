"""The worker: runs every process workflow and the record and email activities on one task queue."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.worker import Worker

from activities.email import EMAIL_ACTIVITIES
from activities.records import RECORD_ACTIVITIES
from engine.settings import get_settings
from engine.temporal import connect
from workflows.records_request import RecordsRequest

WORKFLOWS = [RecordsRequest]
ACTIVITIES = [*RECORD_ACTIVITIES, *EMAIL_ACTIVITIES]


def build_worker(client: Client, task_queue: str, executor: ThreadPoolExecutor) -> Worker:
    """A worker for every process on the task queue (database activities run in the executor)."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=ACTIVITIES,
        activity_executor=executor,
    )


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    settings = get_settings()
    client = await connect(settings)
    with ThreadPoolExecutor(max_workers=16) as executor:
        worker = build_worker(client, settings.task_queue, executor)
        logging.info("worker polling task queue %s on %s", settings.task_queue, settings.temporal_address)
        await worker.run()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
