"""What the pages show of cases: deadlines in words, who did what, the facts a case started from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import Session, col, select

from api.forms import humanise, recipient_words
from api.web import LONDON, role_name
from domain.rules import rule
from domain.schemas import RECIPIENT_WORDS, Recipient
from store import case_service
from store.casework import Case, ChronologyEntry, Deadline, DeadlineStatus
from store.register import Staff
from workflows.process import Process
from workflows.registry import PROCESSES

SOON_DAYS = 7
OPEN_DEADLINE = (DeadlineStatus.pending, DeadlineStatus.missed, DeadlineStatus.escalated)


@dataclass(frozen=True)
class DeadlineView:
    """A deadline as a person reads it: rule and citation, due date, and how long is left."""

    key: str
    step: str
    rule_id: str
    citation: str
    description: str
    owner: str
    due: dt.date
    status: str
    days: int

    @property
    def is_open(self) -> bool:
        """Still waiting for its step (pending, or missed and escalated)."""
        return self.status in OPEN_DEADLINE

    @property
    def urgency(self) -> str:
        """'late', 'soon' (within a week) or '' for the page to highlight."""
        if not self.is_open:
            return ""
        if self.days < 0 or self.status != DeadlineStatus.pending:
            return "late"
        return "soon" if self.days <= SOON_DAYS else ""

    @property
    def words(self) -> str:
        """'3 days left', 'due today', '2 days late' (or the status once it is no longer open)."""
        if not self.is_open:
            return self.status
        if self.days == 0:
            return "due today"
        count = abs(self.days)
        return f"{count} day{'' if count == 1 else 's'} {'left' if self.days > 0 else 'late'}"


def today() -> dt.date:
    """Today in England, where the deadlines fall."""
    return dt.datetime.now(LONDON).date()


def deadline_view(row: Deadline, on: dt.date) -> DeadlineView:
    """The deadline row with its rule, counted from the given day."""
    found = rule(row.rule_id)
    return DeadlineView(
        key=row.key,
        step=row.step,
        rule_id=row.rule_id,
        citation=found.citation,
        description=found.description,
        owner=row.owner,
        due=row.due,
        status=row.status.value,
        days=(row.due - on).days,
    )


def process_title(name: str) -> str:
    """The process's title (its name in words if it is no longer registered)."""
    process = PROCESSES.get(name)
    return process.title if process else humanise(name)


def by_id(session: Session, table: type[Any], ids: set[int]) -> dict[int, Any]:
    """Register rows by id, fetched in one query."""
    if not ids:
        return {}
    return {row.id: row for row in session.exec(select(table).where(col(table.id).in_(ids)))}


def staff_id(actor: str) -> int | None:
    """The staff id in a chronology actor such as 'staff:3' (None for the engine)."""
    kind, _, ident = actor.partition(":")
    return int(ident) if kind == "staff" and ident.isdigit() else None


def staff_names(session: Session, entries: list[ChronologyEntry], *also: int) -> dict[int, Staff]:
    """The staff members a chronology (and any other ids given) names, in one query."""
    ids = {i for i in (staff_id(e.actor) for e in entries) if i is not None}
    return by_id(session, Staff, ids | set(also))


def who(actor: str, names: dict[int, Staff]) -> str:
    """'staff:3' as the staff member's name and role; 'engine' as the case engine."""
    ident = staff_id(actor)
    if ident is not None and (person := names.get(ident)):
        return f"{person.name} ({role_name(person.role)})"
    return "Case engine" if actor == "engine" else actor


def _shown(value: Any) -> str:
    """A fact as the page shows it: dates in words, yes or no, lists joined."""
    if isinstance(value, dt.datetime):
        return f"{value:%d %b %Y %H:%M}"
    if isinstance(value, dt.date):
        return f"{value:%d %b %Y}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, Recipient):
        return recipient_words(value)
    if isinstance(value, list | tuple):
        return ", ".join(_shown(v) for v in value)
    if isinstance(value, str) and value in RECIPIENT_WORDS:  # a recipient kind, as workflows list them
        return RECIPIENT_WORDS[value][0]
    return str(value)


def facts_shown(process: Process | None, facts: dict[str, Any]) -> list[tuple[str, str]]:
    """The facts a case started from, labelled and readable (as stored if the model no longer fits)."""
    try:
        typed = process.start.model_validate(facts) if process else None
    except ValidationError:
        typed = None
    values = {k: getattr(typed, k) for k in facts} if typed is not None else facts
    titles = {k: info.title for k, info in process.start.model_fields.items()} if process else {}
    shown = {k: v for k, v in values.items() if v not in (None, "", [], {})}
    return [(titles.get(k) or humanise(k), _shown(v)) for k, v in shown.items()]


def next_due() -> Any:
    """The case's earliest open deadline, as a correlated subquery to order the list by."""
    return (
        select(func.min(Deadline.due))
        .where(Deadline.case_id == Case.id, col(Deadline.status).in_(OPEN_DEADLINE))
        .where(col(Deadline.completed_at).is_(None))
        .correlate(Case)
        .scalar_subquery()
    )


def next_deadlines(session: Session, case_ids: list[str], on: dt.date) -> dict[str, DeadlineView]:
    """Each case's next open deadline, in one query."""
    rows = session.exec(
        case_service.deadlines_query()
        .where(col(Deadline.case_id).in_(case_ids), col(Deadline.status).in_(OPEN_DEADLINE))
        .where(col(Deadline.completed_at).is_(None))
    )
    found: dict[str, DeadlineView] = {}
    for row in rows:
        found.setdefault(row.case_id, deadline_view(row, on))
    return found
