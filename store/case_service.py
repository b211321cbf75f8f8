"""Data access for cases and their projections: keyword-only functions the API calls."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from domain.schemas import SchoolCalendar
from store.casework import (
    Approval,
    ApprovalStatus,
    Case,
    CaseStatus,
    ChronologyEntry,
    Deadline,
    DeadlineStatus,
    OutboxMessage,
)
from store.chronology import append as append_entry
from store.paging import Param, given
from store.register import School


def school_calendar(school: School) -> SchoolCalendar:
    """What a workflow (or a preview) needs of the school's calendar."""
    terms = [(t["start"], t["end"]) if isinstance(t, dict) else (t.start, t.end) for t in school.terms]
    return SchoolCalendar(
        terms=terms, inset_days=school.inset_days, sendco_working_days=school.sendco_working_days
    )


def case_at_school(session: Session, *, case_id: str, school_id: int) -> Case | None:
    """The case, if it belongs to the given school."""
    case = session.get(Case, case_id)
    return case if case is not None and case.school_id == school_id else None


def written_at(session: Session, *, case_id: str) -> tuple[Any, ...]:
    """What every workflow write of the case changes: when the row last changed, the event time of the
    write that changed it, and the case's latest chronology entry (an action that changes nothing else on
    the case still notes who took it)."""
    latest = select(func.max(ChronologyEntry.id)).where(ChronologyEntry.case_id == case_id).scalar_subquery()
    stamps = session.exec(select(Case.updated_at, Case.recorded_at, latest).where(Case.id == case_id)).first()
    return tuple(stamps) if stamps else (None, None, None)


def workflow_id_for(process: str, case_id: str) -> str:
    """A case's workflow id: the process and the case's uuid, never personal data."""
    return f"{process}-{case_id}"


def open_case(
    session: Session,
    *,
    case_id: str,
    process: str,
    pupil_id: int,
    school_id: int,
    started_by: int,
    facts: dict,
) -> Case:
    """The case row, created before its workflow starts."""
    now = dt.datetime.now(dt.UTC)
    case = Case(
        id=case_id,
        process=process,
        workflow_id=workflow_id_for(process, case_id),
        pupil_id=pupil_id,
        school_id=school_id,
        started_by=started_by,
        started_at=now,
        updated_at=now,
        facts=facts,
    )
    session.add(case)
    session.commit()
    return case


def forget_case(session: Session, *, case_id: str) -> None:
    """Remove a case whose workflow never ran (no worker answered), with anything written for it."""
    for table in (ChronologyEntry, Deadline, Approval, OutboxMessage):
        for row in session.exec(select(table).where(table.case_id == case_id)):
            session.delete(row)
    case = session.get(Case, case_id)
    if case:
        session.delete(case)
    session.commit()


def cases_query(
    *,
    school_id: int | Param | None = None,
    status: CaseStatus | Param | None = None,
    process: str | Param | None = None,
    pupil_id: int | Param | None = None,
    columns: Iterable[str] | None = None,
) -> SelectOfScalar[Case]:
    """The school's cases, newest first; with `columns`, rows of just those columns (a list reads no more).

    Each filter is a value or a bind parameter (see `store.paging.listed`); one not given is left out."""
    # Newest first, ties by id descending too: the (school_id, started_at, id) index read backwards, no sort.
    query = select(Case).order_by(col(Case.started_at).desc(), col(Case.id).desc())
    for column, value in (
        (Case.school_id, school_id),
        (Case.status, status),
        (Case.process, process),
        (Case.pupil_id, pupil_id),
    ):
        if given(value):
            query = query.where(column == value)
    return _only(query, Case, columns)


def _only(query: SelectOfScalar, table: type, columns: Iterable[str] | None) -> Any:
    """The query's rows as plain rows of these columns (no ORM objects to build), or whole rows."""
    if columns is None:
        return query
    only = select(*(getattr(table, c) for c in columns))
    if query.whereclause is not None:
        only = only.where(query.whereclause)
    return only.order_by(*query._order_by_clauses)


def _of_school(query: SelectOfScalar, table: type, school_id: int | None) -> SelectOfScalar:
    """Only the rows of cases at the given school (staff see their own school's cases only)."""
    if school_id is None:
        return query
    return query.join(Case, Case.id == table.case_id).where(Case.school_id == school_id)


def deadlines_query(
    *,
    school_id: int | Param | None = None,
    case_id: str | Param | None = None,
    status: DeadlineStatus | Param | None = None,
    due_before: dt.date | Param | None = None,
    columns: Iterable[str] | None = None,
) -> SelectOfScalar[Deadline]:
    """The deadlines, soonest first; with `columns`, rows of just those columns (filters as `cases_query`)."""
    query = select(Deadline).order_by(col(Deadline.due), col(Deadline.id))
    for column, value in (
        (Deadline.school_id, school_id),
        (Deadline.case_id, case_id),
        (Deadline.status, status),
    ):
        if given(value):
            query = query.where(column == value)
    if given(due_before):
        query = query.where(Deadline.due <= due_before)
    return _only(query, Deadline, columns)


def next_deadline(session: Session, *, case_id: str) -> Deadline | None:
    """The earliest deadline of the case still waiting for its step (pending, missed or escalated)."""
    open_states = (DeadlineStatus.pending, DeadlineStatus.missed, DeadlineStatus.escalated)
    return session.exec(
        deadlines_query(case_id=case_id).where(
            col(Deadline.status).in_(open_states), col(Deadline.completed_at).is_(None)
        )
    ).first()


def chronology(session: Session, *, case_id: str) -> list[ChronologyEntry]:
    query = select(ChronologyEntry).where(ChronologyEntry.case_id == case_id)
    return list(session.exec(query.order_by(col(ChronologyEntry.at), col(ChronologyEntry.id))))


def approvals_query(
    *, school_id: int | None = None, status: ApprovalStatus | None = ApprovalStatus.pending
) -> SelectOfScalar[Approval]:
    query = select(Approval).order_by(col(Approval.requested_at), col(Approval.id))
    query = _of_school(query, Approval, school_id)
    return query.where(Approval.status == status) if status else query


def outbox_query(
    *, school_id: int | None = None, case_id: str | None = None, status: str | None = None
) -> SelectOfScalar[OutboxMessage]:
    query = select(OutboxMessage).order_by(col(OutboxMessage.created_at).desc(), col(OutboxMessage.id))
    query = _of_school(query, OutboxMessage, school_id)
    if case_id:
        query = query.where(OutboxMessage.case_id == case_id)
    if status:
        query = query.where(OutboxMessage.status == status)
    return query


def close_open_cases(
    session: Session, *, pupil_id: int, school_id: int, keep: str, reason: str, actor: str, at: dt.datetime
) -> list[Case]:
    """Close the pupil's open cases other than `keep`: each closed with the reason, its waiting deadlines
    cancelled, a chronology entry (keyed: a retry adds nothing). Returns every case `keep` has closed, so a
    retry after a lost reply still names them. The caller commits."""
    waiting = (DeadlineStatus.pending, DeadlineStatus.missed, DeadlineStatus.escalated)
    query = select(Case).where(
        Case.pupil_id == pupil_id,
        Case.school_id == school_id,
        Case.status == CaseStatus.open,
        Case.id != keep,
    )
    closed = list(session.exec(query.order_by(col(Case.started_at))))
    for case in closed:
        case.status, case.step, case.next_action = CaseStatus.closed, "closed", f"Nothing: {reason}"
        case.closed_at = case.updated_at = case.recorded_at = at
        session.add(case)
        for row in session.exec(
            select(Deadline).where(Deadline.case_id == case.id, col(Deadline.status).in_(waiting))
        ):
            row.status, row.recorded_at = DeadlineStatus.cancelled, at
            session.add(row)
        append_entry(
            session,
            case_id=case.id,
            actor=actor,
            action="case-closed",
            detail=f"Case closed: {reason} (closed by case {keep[:8]})",
            at=at,
            key=f"closed-by:{keep}",
        )
    session.flush()
    earlier = select(ChronologyEntry.case_id).where(ChronologyEntry.key == f"closed-by:{keep}")
    ids = {c.id for c in closed} | set(session.exec(earlier))
    return list(session.exec(select(Case).where(col(Case.id).in_(ids)).order_by(col(Case.started_at))))
