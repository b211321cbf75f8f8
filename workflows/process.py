"""What a process is to the rest of the engine: one descriptor, and the `action` decorator for its Updates.

A process module declares each staff action once, on its Update handler:

    @action("Set the review meeting", steps=[ReviewStep.planning])
    async def set_meeting(self, meeting: SetMeeting) -> str: ...

    def validate_set_meeting(self, meeting: SetMeeting) -> None: ...   # found by name

The role check runs first, in the Update's validator, then `validate_<update>` if the class has one.
The registry (workflows/registry.py) reads these declarations; the worker, the API's typed action
routes, the web forms, the timeline preview and the replay tests are all built from it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.census import SenProvision
    from domain.dates import SchoolYearCalendar
    from domain.schemas import Actor, CaseRef, Role
    from domain.timelines import TimelineEntry

STAFF_WHO_ACT = (Role.sendco, Role.headteacher)
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Action:
    """A staff action on a case: its URL name, Update, payload model, words and who may take it."""

    name: str
    update: str
    payload: type[BaseModel]
    title: str
    roles: tuple[Role, ...] = STAFF_WHO_ACT
    steps: frozenset[str] = frozenset()  # the steps it is offered at; empty: whenever the case is open
    summary: str = ""
    responders: frozenset[str] = frozenset()  # who may also take it through an emailed link: parent, agency

    def offered_at(self, step: str) -> bool:
        return not self.steps or step in self.steps


def require_role(role: Role | None, allowed: Iterable[Role]) -> None:
    """Refuse an action by anyone outside the allowed roles."""
    allowed = tuple(allowed)
    if role not in allowed:
        names = " or ".join(ROLE_WORDS[r] for r in allowed)
        raise ApplicationError(f"Only the {names} can do this.", type="Forbidden")


ROLE_WORDS = {Role.sendco: "SENDCo", Role.headteacher: "headteacher", Role.staff: "school staff"}
NOT_THROUGH_A_LINK = "This cannot be done through an emailed link."


def require_actor(actor: Actor, allowed: Iterable[Role], responders: frozenset[str]) -> None:
    """A parent or agency acting through a link only on the actions open to them; staff by their role."""
    kind = actor.responder_kind
    if kind is not None:
        if kind not in responders:
            raise ApplicationError(NOT_THROUGH_A_LINK, type="Forbidden")
        return
    require_role(actor.role, allowed)


def action(
    title: str,
    *,
    steps: Iterable[str] = (),
    roles: Iterable[Role] = STAFF_WHO_ACT,
    responders: Iterable[str] = (),
) -> Callable[[F], F]:
    """Declare a staff action: a Temporal Update whose validator checks the role, then `validate_<name>`.

    `responders` ('parent', 'agency') may also take it, through an emailed link for exactly that action.
    """
    allowed = tuple(roles)
    through_links = frozenset(responders)

    def wrap(fn: F) -> F:
        update = workflow.update(fn)
        own_check = f"validate_{fn.__name__}"

        def validate(self: Any, payload: Any) -> None:
            require_actor(payload.actor, allowed, through_links)
            check = getattr(self, own_check, None)
            if check is not None:
                check(payload)

        validate.__signature__ = inspect.signature(fn)  # type: ignore[attr-defined]  # as Temporal requires
        update.validator(validate)
        declared = (title, allowed, frozenset(steps), (fn.__doc__ or "").strip(), through_links)
        update.__case_action__ = declared  # type: ignore[attr-defined]
        return update  # type: ignore[return-value]

    return wrap


def actions_of(workflow_class: type) -> dict[str, Action]:
    """Every action a workflow class declares (its own and its bases'), by URL name."""
    found: dict[str, Action] = {}
    for klass in reversed(workflow_class.__mro__):
        for attr, member in vars(klass).items():
            declared = getattr(member, "__case_action__", None)
            if declared is None:
                continue
            title, roles, steps, summary, responders = declared
            defn = member._defn
            payload = defn.arg_types[0]
            name = attr.replace("_", "-")
            found[name] = Action(name, defn.name, payload, title, roles, steps, summary, responders)
    return found


TimelineFn = Callable[[Any, SchoolYearCalendar | None], list[TimelineEntry]]


@dataclass(frozen=True)
class Process:
    """One statutory process: everything the worker, the API, the pages and the tests need to know of it."""

    name: str
    title: str
    workflow: type
    steps: type[StrEnum]
    start: type[BaseModel]  # what the SENDCo gives to start a case (the API's `facts`)
    build_input: Callable[[CaseRef, Any, Actor], BaseModel]
    facts: type[BaseModel]  # what the timeline depends on
    timeline: TimelineFn
    templates: tuple[str, ...] = ()
    requires_provision: SenProvision | None = None  # the pupil's SEN provision a case needs, if any
    one_open_per_pupil: bool = False
    actions: dict[str, Action] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "actions", actions_of(self.workflow))

    def action(self, name: str) -> Action | None:
        return self.actions.get(name)

    def preview(
        self, facts: dict[str, Any], calendar: SchoolYearCalendar | None = None
    ) -> list[TimelineEntry]:
        """The dates a case would follow from these facts (pydantic ValidationError for bad facts)."""
        return self.timeline(self.facts.model_validate(facts), calendar)
