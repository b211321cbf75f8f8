"""The SENDCo-day digest schedules: one durable workflow per school (workflows/digest.py).

The worker starts every school's at its start; `send-engine create-school` starts a new school's at once,
and `send-engine set-sendco-days` restarts a school's on the new working pattern, when Temporal answers.
One workflow id per school: starting it again while it runs leaves it as it is (USE_EXISTING), and a
restart replaces it (the email activity sends each school's digest once a day, whichever run asks).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta

from sqlmodel import select
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError

from domain.digest import DigestInput
from infra.database import session_scope
from infra.settings import get_settings
from infra.temporal import connect
from store.register import School
from workflows.digest import SendcoDigest, digest_workflow_id

REACH = timedelta(seconds=5)  # how long a command waits for Temporal before saying it is not reachable


async def start_digest(
    client: Client, task_queue: str, school_id: int, working_days: list[int], *, restart: bool = False
) -> None:
    """The school's digest schedule: started if not running (or, with restart, started afresh)."""
    policy = WorkflowIDConflictPolicy.TERMINATE_EXISTING if restart else WorkflowIDConflictPolicy.USE_EXISTING
    await client.start_workflow(
        SendcoDigest.run,
        DigestInput(school_id=school_id, working_days=working_days),
        id=digest_workflow_id(school_id),
        task_queue=task_queue,
        id_conflict_policy=policy,
    )


def schools_working_days() -> list[tuple[int, list[int]]]:
    """Every school's id and its SENDCo's working days."""
    with session_scope() as session:
        return [(s.id, list(s.sendco_working_days)) for s in session.exec(select(School)) if s.id is not None]


async def ensure_digests(client: Client, task_queue: str) -> None:
    """Every school's SENDCo-day digest schedule, started once (one workflow per school, kept running)."""
    for school_id, working in schools_working_days():
        await start_digest(client, task_queue, school_id, working)


def start_from_command(school_id: int, working_days: list[int], *, restart: bool = False) -> bool:
    """From a command line: start (or restart) the school's digest now; False if Temporal does not answer.

    In a child process of its own: the Temporal client's threads can crash a short-lived interpreter as it
    exits (temporalio/sdk-python#300), so the child says how it went and leaves without tearing down.
    """
    command = [sys.executable, "-m", "engine.digests", str(school_id), *map(str, working_days)]
    try:
        done = subprocess.run(
            [*command, *(["--restart"] if restart else [])],
            capture_output=True,
            text=True,
            timeout=3 * REACH.total_seconds(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return done.stdout.strip().endswith(STARTED)


STARTED = "digest started"


def _child(argv: list[str]) -> None:
    """`python -m engine.digests SCHOOL_ID DAY... [--restart]`: prints STARTED if Temporal took it."""
    restart = "--restart" in argv
    school_id, *days = (int(a) for a in argv if a != "--restart")
    settings = get_settings()

    async def start() -> None:
        client = await connect(settings)
        await start_digest(client, settings.task_queue, school_id, days, restart=restart)

    try:
        asyncio.run(asyncio.wait_for(start(), REACH.total_seconds()))
        print(STARTED, flush=True)
        code = 0
    except (TimeoutError, RuntimeError, OSError, RPCError):  # not reachable, or it refused
        print("not reachable", flush=True)
        code = 3
    os._exit(code)  # no interpreter teardown under the client's threads


if __name__ == "__main__":
    _child(sys.argv[1:])
