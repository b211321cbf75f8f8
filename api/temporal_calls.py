"""Calls from the API into Temporal, with their failures mapped to the error body: 403, 409, 422, 503.

A workflow validator's refusal (ApplicationError of type Forbidden, Conflict or Invalid) carries its own
plain-words reason. An Update that fails any other way is unexpected: it is raised on, and answered as a
500 with an error id.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request, status
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import MESSAGES, ApiError, sentence
from domain import words
from infra.settings import get_settings
from infra.temporal import connect
from workflows.kit import CaseWorkflow

log = logging.getLogger("api.temporal")
ANSWER_WITHIN = timedelta(seconds=10)
ERROR_STATUS = {"Forbidden": 403, "Conflict": 409, "Invalid": 422}
NO_WORKER = "No worker is answering: the case engine is not running, so nothing was done. Try again shortly."
UNREACHABLE = "The case engine cannot be reached just now, so nothing was done. Try again in a minute."
CASE_OVER = "This case has finished: nothing more can be done on it."
NOT_CONFIRMED = (
    "The case has this action but the engine has not carried it out yet (no worker is answering). It will"
    " be done once, when the engine is back: send it again with the same Idempotency-Key to see its answer."
)
LOOK_WITHIN = timedelta(seconds=2)


class UnexpectedUpdateFailure(RuntimeError):
    """An Update failed with something other than a validator's refusal (a bug: answered as a 500)."""


async def temporal_client(request: Request) -> Client:
    """The app's Temporal client, connected on first use; 503 when the server cannot be reached."""
    client = getattr(request.app.state, "temporal", None)
    if client is None:
        try:
            client = await connect()
        except Exception as err:
            log.warning("the Temporal server is unreachable: %s", type(err).__name__)
            raise ApiError(status.HTTP_503_SERVICE_UNAVAILABLE, UNREACHABLE) from err
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
        raise ApiError(status.HTTP_503_SERVICE_UNAVAILABLE, NO_WORKER) from err
    except RPCError as err:
        log.warning("Temporal refused the start of %s: %s", workflow_id, err.status)
        raise ApiError(status.HTTP_503_SERVICE_UNAVAILABLE, MESSAGES[503]) from err


async def run_update(client: Client, workflow_id: str, update: str, arg: Any, update_id: str) -> Any:
    """Run an Update on a case once per update id; a validator's refusal becomes the status its type names.

    The same id again returns the first answer (Temporal keeps each Update's outcome by its id). When the
    answer does not come in time, the case is asked whether it has the Update: "nothing was done, try
    again" only when it has not.
    """
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await handle.execute_update(update, arg, id=update_id, rpc_timeout=ANSWER_WITHIN)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError):
            code = ERROR_STATUS.get(cause.type or "", status.HTTP_409_CONFLICT)
            raise ApiError(code, sentence(words.plain(cause.message or MESSAGES[code]))) from err
        raise UnexpectedUpdateFailure(f"update {update} on {workflow_id} failed") from err
    except WorkflowUpdateRPCTimeoutOrCancelledError as err:
        if await _has_update(client, workflow_id, update_id):
            raise ApiError(status.HTTP_503_SERVICE_UNAVAILABLE, NOT_CONFIRMED) from err
        raise ApiError(status.HTTP_503_SERVICE_UNAVAILABLE, NO_WORKER) from err
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise ApiError(status.HTTP_409_CONFLICT, CASE_OVER) from err
        log.warning("Temporal refused update %s on %s: %s", update, workflow_id, err.status)
        raise ApiError(status.HTTP_503_SERVICE_UNAVAILABLE, MESSAGES[503]) from err


async def _has_update(client: Client, workflow_id: str, update_id: str) -> bool:
    """Whether the case holds this Update (admitted or done), as far as Temporal can say just now."""
    try:
        update = client.get_workflow_handle(workflow_id).get_update_handle(update_id)
        await update.result(rpc_timeout=LOOK_WITHIN)
    except RPCError as err:
        return err.status != RPCStatusCode.NOT_FOUND
    except (WorkflowUpdateRPCTimeoutOrCancelledError, WorkflowUpdateFailedError):
        return True
    return True
