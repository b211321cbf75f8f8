"""The product's worker as an OS process of its own (so a SIGKILL is real), with the crash probes.

`python -m tests.activities.worker_process <temporal address> <task queue>`; the database and SMTP
server come from the SEND_ settings in the environment, as for worker.py.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.worker import Worker

from infra.temporal import data_converter
from tests.activities.burst_workflows import PROBES
from worker import ACTIVITIES, SANDBOX, WORKFLOWS

READY = "worker ready"


async def main(target: str, queue: str) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    client = await Client.connect(target, data_converter=data_converter())
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with Worker(
            client,
            task_queue=queue,
            workflows=[*WORKFLOWS, *PROBES],
            activities=ACTIVITIES,
            activity_executor=executor,
            workflow_runner=SANDBOX,
        ):
            print(READY, flush=True)
            await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
