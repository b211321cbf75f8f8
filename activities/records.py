"""The case projections (case, deadlines, chronology, approvals), written only by the workflows.

One CaseRecord is one step: written in one transaction, which it shares with the other writes the
worker has waiting at that moment (infra.group_commit: if one of them fails, each is written alone).
Each row keeps the event time of the state it holds, and an older record never overwrites a newer
state. A write that keeps failing is logged and flags the case ("records-failing"), so nobody is left
looking at a stale case without knowing it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from functools import partial

from sqlmodel import Session, col, select
from temporalio import activity

from domain.deadline_states import DeadlineState
from domain.schemas import ApprovalRecord, CaseProgress, CaseRecord, DeadlineRecord
from infra.database import session_scope
from infra.group_commit import WRITES
from store import chronology
from store.casework import Approval, Case, CaseStatus, Deadline

log = logging.getLogger(__name__)
FAILING = "records-failing"
FLAG_FROM_ATTEMPT = 3
STAMPS = {
    DeadlineState.met: ("met_at", "completed_at"),
    DeadlineState.met_late: ("completed_at",),
    DeadlineState.missed: ("missed_at",),
    DeadlineState.escalated: ("missed_at", "escalated_at"),
}


@activity.defn(name="record_case")
async def record_case(record: CaseRecord) -> None:
    """Write one step's projections in a single transaction (idempotent: upserts and keyed notes), with
    the other writes the worker has waiting (each committed before its caller goes on)."""
    try:
        await WRITES.write(partial(write_case_record, record=record))
    except Exception as err:
        attempt = activity.info().attempt
        log.error(
            "case %s: record write failed (attempt %d): %s", record.case_id, attempt, type(err).__name__
        )
        if attempt >= FLAG_FROM_ATTEMPT:
            await asyncio.to_thread(_flag_failing, record.case_id)
        raise


def _flag_failing(case_id: str) -> None:
    """Best effort: mark the case so its page says its record is behind."""
    try:
        with session_scope() as session:
            case = session.get(Case, case_id)
            if case is not None and FAILING not in case.flags:
                case.flags = [*case.flags, FAILING]
                session.add(case)
    except Exception:
        log.exception("case %s: could not flag the failing record write", case_id)


def _utc(at: dt.datetime) -> dt.datetime:
    """Event times compared as naive UTC, as both databases give them back."""
    return at.astimezone(dt.UTC).replace(tzinfo=None) if at.tzinfo else at


def _newer(recorded: dt.datetime | None, at: dt.datetime) -> bool:
    return recorded is None or _utc(at) >= _utc(recorded)


def write_case_record(session: Session, record: CaseRecord) -> None:
    """Apply a CaseRecord to the projections (the caller commits). Every row is read before any is
    written: the caller's commit writes them all at once, so the database's one write lock is held only
    for that."""
    with session.no_autoflush:
        if record.progress:
            _progress(session, record, record.progress)
        if record.deadlines:
            _deadlines(session, record.case_id, record.deadlines)
        for approval in record.approvals:
            _approval(session, record.case_id, approval)
        chronology.append_notes(session, record.case_id, record.notes)


def _progress(session: Session, record: CaseRecord, progress: CaseProgress) -> None:
    case = session.get(Case, record.case_id)
    if case is None:
        raise LookupError(f"case {record.case_id} is not in the register")
    if not _newer(case.recorded_at, record.at):
        return
    case.step = progress.step
    case.next_action = progress.next_action
    case.updated_at = case.recorded_at = record.at
    if progress.flags is not None:
        case.flags = progress.flags
    elif FAILING in case.flags:  # this write went through
        case.flags = [f for f in case.flags if f != FAILING]
    if progress.facts is not None:
        case.view = progress.facts
    if progress.closed:
        case.status = CaseStatus.closed
        case.closed_at = record.at
    session.add(case)


def _deadlines(session: Session, case_id: str, records: list[DeadlineRecord]) -> None:
    """Each deadline's row made or brought up to its record (the rows read in one query)."""
    query = select(Deadline).where(
        Deadline.case_id == case_id, col(Deadline.key).in_([r.key for r in records])
    )
    rows = {row.key: row for row in session.exec(query)}
    for rec in records:
        row = rows.get(rec.key)
        if row is None:
            case = session.get(Case, case_id)
            if case is None:
                raise LookupError(f"case {case_id} is not in the register")
            row = rows[rec.key] = Deadline(
                case_id=case_id, school_id=case.school_id, key=rec.key, step=rec.step
            )
        elif not _newer(row.recorded_at, rec.at):
            continue
        row.step, row.rule_id, row.owner, row.due = rec.step, rec.rule_id, rec.owner, rec.due
        row.status = DeadlineState(rec.status)
        row.recorded_at = rec.at
        for stamp in STAMPS.get(row.status, ()):
            if getattr(row, stamp) is None:
                setattr(row, stamp, rec.at)
        if row.status == DeadlineState.pending:  # re-planned into the future: a fresh clock
            row.missed_at = row.escalated_at = None
        session.add(row)


def _approval(session: Session, case_id: str, rec: ApprovalRecord) -> None:
    row = session.exec(select(Approval).where(Approval.case_id == case_id, Approval.key == rec.key)).first()
    if row is None:
        row = Approval(case_id=case_id, key=rec.key, step=rec.step, requested_at=rec.at)
    elif not _newer(row.recorded_at, rec.at):
        return
    row.summary = rec.summary
    row.status = rec.status  # type: ignore[assignment]
    row.recorded_at = rec.at
    if rec.status != "pending":
        row.decided_at, row.decided_by, row.comment = rec.at, rec.decided_by, rec.comment
    session.add(row)


RECORD_ACTIVITIES = [record_case]
