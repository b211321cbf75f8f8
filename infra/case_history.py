"""What staff recorded on a case: each Update its workflow accepted in its current run, with its payload.

The pages and the headteacher's "Approval needed" email show from it what an approval rests on (a report,
the advice and views, a meeting record), for any process, without the process having to say so.
"""

from __future__ import annotations

from typing import Any

from temporalio.client import Client


async def accepted_updates(client: Client, workflow_id: str) -> list[tuple[str, Any]]:
    """(update name, payload as JSON data) of every accepted Update of the workflow's latest run, in order."""
    found: list[tuple[str, Any]] = []
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if not event.HasField("workflow_execution_update_accepted_event_attributes"):
            continue
        request = event.workflow_execution_update_accepted_event_attributes.accepted_request
        payloads = list(request.input.args.payloads)
        if len(payloads) != 1:
            continue
        [payload] = await client.data_converter.decode(payloads)
        found.append((request.input.name, payload))
    return found
