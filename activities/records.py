"""The case projections (case, deadlines, chronology, approvals), written only by the workflows."""

from __future__ import annotations

from sqlmodel import Session, select
from temporalio import activity

from domain.schemas import ApprovalRecord, CaseProgress, CaseRecord, DeadlineRecord
from infra.database import session_scope
from store import chronology
from store.casework import Approval, Case, CaseStatus, Deadline, DeadlineStatus


@activity.defn(name="record_case")
def record_case(record: CaseRecord) -> None:
    """Write one step's projections in a single transaction (idempotent: upserts and keyed notes)."""
    with session_scope() as session:
        write_case_record(session, record)


def write_case_record(session: Session, record: CaseRecord) -> None:
    """Apply a CaseRecord to the projections (the caller commits)."""
    if record.progress:
        _progress(session, record, record.progress)
    for deadline in record.deadlines:
        _deadline(session, record.case_id, deadline)
    for approval in record.approvals:
        _approval(session, record.case_id, approval)
    for note in record.notes:
        chronology.append(
            session,
            case_id=record.case_id,
            actor=note.actor,
            action=note.action,
            detail=note.detail,
            at=note.at,
            key=note.key,
        )


def _progress(session: Session, record: CaseRecord, progress: CaseProgress) -> None:
    case = session.get(Case, record.case_id)
    if case is None:
        raise LookupError(f"case {record.case_id} is not in the register")
    case.step = progress.step
    case.next_action = progress.next_action
    case.updated_at = record.at
    if progress.flags is not None:
        case.flags = progress.flags
    if progress.facts is not None:
        case.facts = progress.facts
    if progress.closed:
        case.status = CaseStatus.closed
        case.closed_at = record.at
    session.add(case)


def _deadline(session: Session, case_id: str, rec: DeadlineRecord) -> None:
    row = session.exec(select(Deadline).where(Deadline.case_id == case_id, Deadline.key == rec.key)).first()
    if row is None:
        case = session.get(Case, case_id)
        if case is None:
            raise LookupError(f"case {case_id} is not in the register")
        row = Deadline(
            case_id=case_id,
            school_id=case.school_id,
            key=rec.key,
            step=rec.step,
            rule_id=rec.rule_id,
            owner=rec.owner,
            due=rec.due,
        )
    row.step, row.rule_id, row.owner, row.due = rec.step, rec.rule_id, rec.owner, rec.due
    if rec.status == "completed-late":
        row.completed_at = rec.at
    else:
        row.status = DeadlineStatus(rec.status)
        stamp = {"met": "met_at", "missed": "missed_at", "escalated": "escalated_at"}.get(rec.status)
        if stamp and getattr(row, stamp) is None:
            setattr(row, stamp, rec.at)
        if rec.status == "met":
            row.completed_at = rec.at
        if rec.status == "pending":  # re-planned into the future: a fresh clock
            row.missed_at = row.escalated_at = None
    session.add(row)


def _approval(session: Session, case_id: str, rec: ApprovalRecord) -> None:
    row = session.exec(select(Approval).where(Approval.case_id == case_id, Approval.key == rec.key)).first()
    if row is None:
        row = Approval(case_id=case_id, key=rec.key, step=rec.step, requested_at=rec.at)
    row.summary = rec.summary
    row.status = rec.status  # type: ignore[assignment]
    if rec.status != "pending":
        row.decided_at, row.decided_by, row.comment = rec.at, rec.decided_by, rec.comment
    session.add(row)


RECORD_ACTIVITIES = [record_case]
