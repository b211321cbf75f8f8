"""Calls from the API into Temporal, with their failures mapped to HTTP: 409, 403, 422, 503, never a hang."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from infra.settings import get_settings
from infra.temporal import connect
from workflows.kit import CaseWorkflow

ANSWER_WITHIN = timedelta(seconds=10)
ERROR_STATUS = {"Forbidden": 403, "Conflict": 409, "Invalid": 422}
NO_WORKER = "no worker is answering: the case engine is not running; try again shortly"


async def temporal_client(request: Request) -> Client:
    """The app's Temporal client, connected on first use; 503 when the server cannot be reached."""
    client = getattr(request.app.state, "temporal", None)
    if client is None:
        try:
            client = await connect()
        except Exception as err:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE, "the Temporal server is unreachable"
            ) from err
        request.app.state.temporal = client
    return client


TemporalDep = Annotated[Client, Depends(temporal_client)]


def task_queue(request: Request) -> str:
    """The task queue cases start on (the settings', unless the app was given another)."""
    return getattr(request.app.state, "task_queue", None) or get_settings().task_queue


async def start_case(client: Client, run: Any, inp: Any, workflow_id: str, queue: str) -> None:
    """Start the case's workflow and wait until a worker has picked it up (503 and terminated if none)."""
    start = WithStartWorkflowOperation(
        run,
        inp,
        id=workflow_id,
        task_queue=queue,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
    )
    try:
        await client.execute_update_with_start_workflow(
            CaseWorkflow.ready, start_workflow_operation=start, rpc_timeout=ANSWER_WITHIN
        )
    except WorkflowUpdateRPCTimeoutOrCancelledError as err:
        await client.get_workflow_handle(workflow_id).terminate("no worker answered the start")
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, NO_WORKER + "; nothing was started") from err
    except RPCError as err:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"Temporal refused the start: {err}"
        ) from err


async def run_update(client: Client, workflow_id: str, update: str, arg: Any) -> Any:
    """Run an Update on a case; a validator's refusal becomes the HTTP status its error type names."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await handle.execute_update(update, arg, rpc_timeout=ANSWER_WITHIN)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError):
            raise HTTPException(ERROR_STATUS.get(cause.type or "", 409), cause.message) from err
        raise HTTPException(status.HTTP_409_CONFLICT, str(cause or err)) from err
    except WorkflowUpdateRPCTimeoutOrCancelledError as err:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, NO_WORKER) from err
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(
                status.HTTP_409_CONFLICT, "this case has finished: nothing more can be done"
            ) from err
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, f"Temporal refused the action: {err}"
        ) from err
