"""What the pages show of cases: deadlines in words, who did what, the facts a case started from, the
people a case names (by the register's names), and the choices an action's form offers from the case."""

from __future__ import annotations

import datetime as dt
import typing
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import Session, col, select

from activities.recipients import resolve
from api.forms import Choices, humanise
from api.web import LONDON, role_name
from domain import words
from domain.rules import rule
from domain.schemas import Recipient
from infra.case_history import accepted_updates
from store import case_service
from store.casework import Case, ChronologyEntry, Deadline, DeadlineStatus, OutboxMessage
from store.links import responder_name
from store.register import Agency, Staff
from workflows.process import Action, Process
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
    done_on: dt.date | None = None
    owner_words: str = ""

    @property
    def status_words(self) -> str:
        """'done on time', 'done late by 3 days', 'due in 5 days', 'late by 2 days', 'no longer needed'."""
        return words.deadline_status(self.status, self.due, self.done_on, self.due - dt.timedelta(self.days))

    @property
    def step_words(self) -> str:
        return words.step(self.step)

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
        """'due in 3 days', 'due today', 'late by 2 days', 'done on time', 'done late by 1 day'."""
        return self.status_words


def today() -> dt.date:
    """Today in England, where the deadlines fall."""
    return dt.datetime.now(LONDON).date()


def deadline_view(row: Deadline, on: dt.date, people: People | None = None) -> DeadlineView:
    """The deadline row with its rule, counted from the given day (its owner named, if people are given)."""
    found = rule(row.rule_id)
    done = row.completed_at or row.met_at
    owner = people.name(row.owner) if people else words.kind(row.owner)
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
        done_on=words.in_england(done).date() if done else None,
        owner_words=owner,
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


RESPONDERS = {"parent": "A parent or carer", "agency": "An agency"}  # acting through an emailed link


def who(actor: str, names: dict[int, Staff], people: People | None = None) -> str:
    """'staff:3' as the staff member's name and role; 'engine' as the case engine; a parent or agency
    who answered through an emailed link ('parent:3', 'agency:5') by the register's name."""
    kind, _, ident = actor.partition(":")
    if people is not None and kind in RESPONDERS and ident.isdigit():
        return f"{people.name(actor)}, through the emailed link"
    ident = staff_id(actor)
    if ident is not None and (person := names.get(ident)):
        return f"{person.name} ({role_name(person.role)})"
    return "Case engine" if actor == "engine" else words.humanise(actor)


class People:
    """The people and agencies a case names, as the register holds them: 'Grace Example (parent or carer)'.

    A label is a recipient's ('ep_service', 'ep_service:3', 'staff:2'); it is looked up once, as the email
    activity would resolve it, and shown by its kind alone if the register has nobody for it."""

    def __init__(self, session: Session, case: Case | None) -> None:
        self.session, self.case = session, case
        self.known: dict[str, str] = {}

    def name(self, label: str) -> str:
        if label not in self.known:
            self.known[label] = self._look_up(label)
        return self.known[label]

    def named(self, label: str) -> str | None:
        """The name for a label, or None when it is not a recipient label (for words.plain)."""
        kind = label.partition(":")[0]
        return self.name(label) if kind in words.KINDS else None

    def _look_up(self, label: str) -> str:
        kind, _, ident = label.partition(":")
        role = words.in_text(kind)
        if kind == "engine":
            return "Case engine"
        if kind in RESPONDERS and ident.isdigit():  # acted through an emailed link: parent:<id>, agency:<id>
            pupil_id = self.case.pupil_id if self.case else None
            found = responder_name(self.session, label, pupil_id=pupil_id)
            return f"{found[0]} ({words.in_text(found[1])})" if found else RESPONDERS[kind]
        try:
            found = resolve(self.session, case=self.case, recipients=[Recipient(**_recipient(label))])
        except Exception:  # nobody in the register (or not a recipient): the kind alone
            return words.kind(kind) if not ident else f"{words.kind(kind)} {ident}"
        names = " and ".join(p.name for p in found)
        return f"{names} ({role})" if names else words.kind(kind)


def _recipient(label: str) -> dict[str, Any]:
    kind, _, ident = label.partition(":")
    if not ident.isdigit():
        return {"kind": kind}
    key = "staff_id" if kind in ("staff", "sendco", "headteacher") else "agency_id"
    return {"kind": kind, key: int(ident)}


def _shown(value: Any, people: People | None = None) -> str:
    """A fact as the page shows it: dates in words, yes or no, lists joined, people by name."""
    if isinstance(value, Recipient):
        value = value.label
    if isinstance(value, list | tuple) and value and all(isinstance(v, Recipient) for v in value):
        value = [v.label for v in value]
    if isinstance(value, Enum):
        value = str(value.value)
    if people is not None and isinstance(value, str) and people.named(value):
        return people.name(value)
    if people is not None and isinstance(value, list) and value and all(_is_label(v) for v in value):
        return "; ".join(people.name(v) for v in value)
    return words.shown(value, names=people.named if people else None)


def _is_label(value: Any) -> bool:
    return isinstance(value, str) and value.partition(":")[0] in words.KINDS and value != "other"


def facts_shown(
    process: Process | None, facts: dict[str, Any], people: People | None = None
) -> list[tuple[str, str]]:
    """The facts a case started from, labelled and readable (as stored if the model no longer fits)."""
    try:
        typed = process.start.model_validate(facts) if process else None
    except ValidationError:
        typed = None
    values = {k: getattr(typed, k, v) for k, v in facts.items()} if typed is not None else facts
    titles = {k: info.title for k, info in process.start.model_fields.items()} if process else {}
    shown = {k: v for k, v in values.items() if v not in (None, "", [], {})}
    if "transfer" in shown:
        shown["transfer"] = words.transfer(str(shown["transfer"]))
    if "recommendation" in shown or "la_decision" in shown:
        for key in ("recommendation", "la_decision"):
            if key in shown:
                shown[key] = words.recommendation(str(shown[key]))
    return [(titles.get(k) or VIEW_TITLES.get(k) or humanise(k), _shown(v, people)) for k, v in shown.items()]


# What a workflow's own view calls its entries, as the page heads them.
VIEW_TITLES = {
    "cycle": "Review",
    "cycle_start": "This review counts from",
    "review_due": "Review due by",
    "review_rule": "Rule",
    "latest_meeting": "Meeting to be held by",
    "meeting": "Meeting",
    "meeting_location": "Where",
    "invitees": "Invited",
    "advisers": "Advice asked from",
    "advice_received": "Advice received from",
    "la_decision": "LA's decision",
    "la_decision_date": "LA decided on",
    "amendment_notice": "Amendments served",
    "final_plan_issued": "Final plan issued",
    "dispute_window": "Parents' right to challenge",
}


def action_choices(action: Action, case: Case, people: People) -> dict[str, Choices]:
    """Choices from the case for an action's recipient fields: an adviser from those asked for advice,
    who attended from those invited (and the SENDCo), each by name and role."""
    view = case.view or {}
    lists = {k: v for k, v in view.items() if isinstance(v, list) and all(isinstance(x, str) for x in v)}
    everyone = [label for k in ("invitees", "advisers") for label in lists.get(k, [])]
    choices: dict[str, Choices] = {}
    for name, info in action.payload.model_fields.items():
        annotation = info.annotation
        many = getattr(annotation, "__origin__", None) is list
        inner = annotation.__args__[0] if many else annotation  # type: ignore[union-attr]
        if inner is not Recipient:
            continue
        labels = lists.get(f"{name}s") or lists.get(name) or ["sendco", *everyone]
        if name == "adviser":
            labels = [a for a in labels if a not in lists.get("advice_received", [])]
        choices[name] = [(label, people.name(label)) for label in dict.fromkeys(labels)]
    return choices


@dataclass(frozen=True)
class EmailView:
    """An email the case sent: what, to how many, and whether it was delivered."""

    subject: str
    what: str
    at: dt.datetime
    status: str
    sent: int
    total: int

    @property
    def status_words(self) -> str:
        if self.status == "sent" and self.sent >= self.total:
            return "Delivered" if self.total == 1 else f"Delivered to all {self.total}"
        if self.status == "failed":
            return "Not delivered: the SENDCo has been told"
        if self.sent:
            return f"Delivered to {self.sent} of {self.total}"
        return "Waiting to be sent"


def emails_of(session: Session, case_id: str) -> list[EmailView]:
    """The case's emails, newest first."""
    rows = session.exec(case_service.outbox_query(case_id=case_id)).all()
    return [_email_view(r) for r in rows]


def _email_view(row: OutboxMessage) -> EmailView:
    return EmailView(
        subject=row.subject or words.humanise(row.template),
        what=words.humanise(row.template),
        at=row.sent_at or row.created_at,
        status=row.status.value,
        sent=len(row.delivered),
        total=len(row.recipients),
    )


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


# --- what was recorded on a case: the staff's actions of this cycle, from the workflow's history -----
@dataclass(frozen=True)
class Recorded:
    """One action staff took on the case, with what they entered, labelled and in words."""

    title: str
    items: list[tuple[str, str]]


async def case_record(client: Any, case: Case, people: People) -> list[Recorded]:
    """Every action accepted on the case's current run (its cycle), oldest first, with its entries.

    Read from the workflow's own history (each accepted Update's payload), so whatever a process's
    actions record (a report, advice, views, a meeting record) is shown without the process saying so.
    The engine not answering leaves the record empty; the page says so rather than failing."""
    process = PROCESSES.get(case.process)
    if process is None:
        return []
    by_update = {spec.update: spec for spec in process.actions.values()}
    try:
        updates = await accepted_updates(client, case.workflow_id)
    except Exception:  # the engine not answering, or a history it cannot read: the page says so
        return []
    found: list[Recorded] = []
    for name, data in updates:
        spec = by_update.get(name)
        if spec is None or spec.name == "change-due-date":
            continue
        try:
            payload = spec.payload.model_validate(data)
        except ValidationError:
            continue
        found.append(Recorded(spec.title, _entries(spec, payload, people)))
    return found


def _entries(spec: Action, payload: Any, people: People) -> list[tuple[str, str]]:
    """A payload's entries as (label, words), empty ones left out."""
    items: list[tuple[str, str]] = []
    for name, info in spec.payload.model_fields.items():
        if name == "actor":
            continue
        value = getattr(payload, name, None)
        if value in (None, "", [], {}):
            continue
        if name in ("recommendation", "decision") and isinstance(value, str):
            value = words.sentence(words.recommendation(value)).rstrip(".")
        items.append((info.title or words.humanise(name), _shown(value, people)))
    return items


def register_choices(session: Session, school_id: int, model: type[Any]) -> dict[str, Choices]:
    """Id fields chosen from the register by name, not typed as numbers: a staff member
    (`class_teacher_id`, `staff_id`) from the school's staff, an agency (`la_sen_agency_id`) from the
    register's agencies of its kind."""
    choices: dict[str, Choices] = {}
    for name in model.model_fields:
        if not name.endswith("_id") or name == "pupil_id":
            continue
        if "agency" in name:
            kind = name.removesuffix("_agency_id").removesuffix("agency_id").rstrip("_")
            query = select(Agency).order_by(col(Agency.name))
            if kind in words.KINDS:
                query = query.where(Agency.kind == kind)
            choices[name] = [
                (
                    str(a.id),
                    f"{a.name} ({', '.join(filter(None, (words.in_text(str(a.kind)), a.local_authority)))})",
                )
                for a in session.exec(query)
            ]
        elif "staff" in name or "teacher" in name:
            people = session.exec(select(Staff).where(Staff.school_id == school_id).order_by(col(Staff.name)))
            choices[name] = [(str(s.id), f"{s.name} ({role_name(s.role)})") for s in people]
    return choices


def already_included(process: Process, field: str) -> set[str]:
    """For a start field `optional_<x>`: the recipient kinds the workflow's input always has in `<x>`
    (an annual review always invites the parent, headteacher, LA SEN officer, health and social care),
    so the form does not offer them again."""
    if not field.startswith("optional_"):
        return set()
    try:
        hints = typing.get_type_hints(process.workflow.run)
    except Exception:  # a run method whose types cannot be read here: offer every kind
        return set()
    inputs = [t for name, t in hints.items() if name != "return" and isinstance(t, type)]
    info = inputs[0].model_fields.get(field.removeprefix("optional_")) if inputs else None
    made = info.default_factory() if info is not None and info.default_factory is not None else []  # type: ignore[call-arg]
    return {r.kind for r in made if isinstance(r, Recipient)}
