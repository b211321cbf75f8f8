"""Cases: start one, list them, read one with what must be done next, and one operation per action.

The action routes are built from the registry of processes when the app starts: one
`POST /api/v1/cases/{case_id}/actions/<name>` per action name, its body the action's payload model less
the `actor` (filled in from the signed-in staff member, never from the body).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import reduce
from operator import or_
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Request, status
from pydantic import BaseModel, ConfigDict, create_model

from api import commands
from api.commands import CaseStart, case_of, view_of
from api.deps import CurrentStaff, SessionDep, require_role
from api.errors import ERROR_RESPONSES
from api.paging import Page, PageDep, listed, paginate
from api.public import ActionTaken, CaseStarted, CaseSummary, CaseView, ChronologyPublic, page_of
from api.temporal_calls import TemporalDep, task_queue
from domain.schemas import Role
from store import case_service
from store.casework import CaseStatus
from workflows.process import Action
from workflows.registry import PROCESSES

router = APIRouter(prefix="/api/v1", tags=["cases"], responses=ERROR_RESPONSES)
CASE_COLUMNS = tuple(CaseSummary.model_fields)
CanAct = require_role(Role.sendco, Role.headteacher)
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=100,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="Any unique string per intended action: sent again, the first answer comes back",
    ),
]


@router.post("/cases", status_code=status.HTTP_201_CREATED, response_model=CaseStarted)
async def start(
    request: Request, body: CaseStart, session: SessionDep, client: TemporalDep, staff: Annotated[Any, CanAct]
) -> Any:
    """Start a case for a pupil: 201 once a worker has it running, 503 (nothing started) if none answers.

    422 for facts that do not fit the process, or a pupil the process is not for (an annual review needs
    an EHC plan); 409 when the pupil already has the one open case the process allows.
    """
    return await commands.start(
        session=session, client=client, queue=task_queue(request), staff=staff, body=body
    )


@router.get("/cases", response_model=Page[CaseSummary])
async def list_cases(  # on the event loop: see api.paging
    session: SessionDep,
    page: PageDep,
    staff: CurrentStaff,
    status: CaseStatus | None = None,
    process: str | None = None,
    pupil_id: int | None = None,
) -> Any:
    """The school's cases, newest first."""
    cases = listed(
        case_service.cases_query,
        CASE_COLUMNS,
        school_id=staff.school_id,
        status=status,
        process=process,
        pupil_id=pupil_id,
    )
    return page_of(paginate(session, cases, page.offset, page.limit), CaseSummary)


@router.get("/cases/{case_id}", response_model=CaseView)
def read_case(case_id: str, session: SessionDep, staff: CurrentStaff) -> Any:
    """The case with its current step, its next deadline, what must be done next, and what it offers now."""
    return view_of(session, case_of(session, case_id, staff))


@router.get("/cases/{case_id}/chronology", response_model=list[ChronologyPublic])
def read_chronology(case_id: str, session: SessionDep, staff: CurrentStaff) -> Any:
    """What happened on the case, oldest first: when, who and what."""
    case_of(session, case_id, staff)
    return [ChronologyPublic.of(e) for e in case_service.chronology(session, case_id=case_id)]


# --- one operation per action ----------------------------------------------------------------------------
def request_model(payload: type[BaseModel]) -> type[BaseModel]:
    """The action's request body: its payload model without `actor`, refusing any field it does not know."""
    fields: dict[str, Any] = {
        name: (info.annotation, info) for name, info in payload.model_fields.items() if name != "actor"
    }
    extra = (payload.model_config.get("json_schema_extra") or {}) if payload.model_config else {}
    return create_model(
        f"{payload.__name__}Body",
        __config__=ConfigDict(extra="forbid", json_schema_extra=extra or None),
        __doc__=payload.__doc__,
        **fields,
    )


def _examples(payloads: list[type[BaseModel]]) -> dict[str, dict[str, Any]]:
    """The payload models' own examples as the operation's named body examples."""
    found: dict[str, dict[str, Any]] = {}
    for payload in payloads:
        extra = payload.model_config.get("json_schema_extra") or {}
        for n, example in enumerate(extra.get("examples", []) if isinstance(extra, dict) else [], 1):
            found[f"{payload.__name__}-{n}" if len(payloads) > 1 or n > 1 else payload.__name__] = {
                "summary": (payload.__doc__ or payload.__name__).strip().splitlines()[0],
                "value": example,
            }
    return found


def _endpoint(name: str, body_model: Any, optional: bool, examples: dict[str, Any]) -> Callable[..., Any]:
    """The route function for one action name, with a signature FastAPI reads for the body's model."""

    async def act(
        case_id: str,
        session: Any,
        client: Any,
        staff: Any,
        body: BaseModel | None = None,
        *,
        key: str | None = None,
    ) -> ActionTaken:
        data = body.model_dump(exclude_unset=True) if body is not None else {}
        return await commands.take_action(
            session=session, client=client, staff=staff, case_id=case_id, action=name, body=data, key=key
        )

    P = inspect.Parameter
    body = Body(openapi_examples=examples or None)
    default = None if optional else P.empty
    act.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            P("case_id", P.POSITIONAL_OR_KEYWORD, annotation=str),
            P("session", P.POSITIONAL_OR_KEYWORD, annotation=SessionDep),
            P("client", P.POSITIONAL_OR_KEYWORD, annotation=TemporalDep),
            P("staff", P.POSITIONAL_OR_KEYWORD, annotation=Annotated[Any, CanAct]),
            P("body", P.POSITIONAL_OR_KEYWORD, annotation=Annotated[body_model, body], default=default),
            P("key", P.KEYWORD_ONLY, annotation=IdempotencyKey, default=None),
        ],
        return_annotation=ActionTaken,
    )
    act.__name__ = f"action_{name.replace('-', '_')}"
    return act


def actions_by_name() -> dict[str, list[Action]]:
    """Every registered process's actions, grouped by URL name (one route each)."""
    found: dict[str, list[Action]] = {}
    for process in PROCESSES.values():
        for name, spec in process.actions.items():
            found.setdefault(name, []).append(spec)
    return found


def add_action_routes(target: APIRouter) -> None:
    """One operation per action name; names shared by processes with different payloads take the union."""
    for name, specs in sorted(actions_by_name().items()):
        payloads = list(dict.fromkeys(s.payload for s in specs))
        models = [request_model(p) for p in payloads]
        body_model = models[0] if len(models) == 1 else reduce(or_, models)
        optional = len(models) == 1 and all(not f.is_required() for f in models[0].model_fields.values())
        processes = [p.title for p in PROCESSES.values() if p.action(name) is not None]
        first = specs[0]
        description = "\n\n".join(
            part
            for part in (
                first.summary,
                f"For: {'; '.join(processes)}.",
                "Who: "
                + " or ".join(r.value for r in first.roles)
                + ". The actor is the signed-in staff member.",
                "Answers the workflow's result and the case as it stands after the action; 404 if the case's "
                "process has no such action, 409 when it is not possible now (the reason says why).",
            )
            if part
        )
        target.add_api_route(
            f"/cases/{{case_id}}/actions/{name}",
            _endpoint(name, body_model, optional, _examples(payloads)),
            methods=["POST"],
            response_model=ActionTaken,
            summary=first.title,
            description=description,
            operation_id=f"action_{name.replace('-', '_')}",
        )


add_action_routes(router)
