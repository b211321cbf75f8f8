"""Side effects on the register and on other cases that a process causes: a pupil's SEN provision, a
linked case opened for the same pupil, the pupil's other cases closed when the pupil leaves."""

from __future__ import annotations

import uuid
from contextlib import suppress

from pydantic import ValidationError
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from domain.schemas import CaseClosing, CaseRef, LinkedCase, LinkedStart, ProvisionChange
from infra.database import get_engine, session_scope
from store import case_service, chronology
from store.casework import Case
from store.register import PupilUpdate, School
from store.register_service import InvalidInput, RegisterError, update_pupil


@activity.defn(name="open_linked_case")
def open_linked_case(link: LinkedCase) -> CaseRef:
    """The new case's row (once per key: a retry finds the same case), linked both ways in the chronology."""
    parent = link.opened_by
    case_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{parent.workflow_id}/{link.key}"))
    with Session(get_engine(), expire_on_commit=False) as session:
        if session.get(Case, case_id) is None:  # open_case commits the row at once
            case_service.open_case(
                session,
                case_id=case_id,
                process=link.process,
                pupil_id=parent.pupil_id,
                school_id=parent.school_id,
                started_by=link.started_by.staff_id or _first_staff(session, parent.case_id),
                facts={**link.facts, "linked_from": parent.case_id},
            )
        for own, other, process in (
            (parent.case_id, case_id, link.process),
            (case_id, parent.case_id, parent.process),
        ):
            chronology.append(  # keyed: a retry adds nothing
                session,
                case_id=own,
                actor=link.started_by.label,
                action="case-linked",
                detail=f"Linked to case {other} ({process})",
                key=f"linked:{case_id}",
            )
        session.commit()
        school = session.get(School, parent.school_id)
        assert school is not None
    return CaseRef(
        case_id=case_id,
        workflow_id=case_service.workflow_id_for(link.process, case_id),
        process=link.process,
        pupil_id=parent.pupil_id,
        school_id=parent.school_id,
        calendar=case_service.school_calendar(school),
    )


@activity.defn(name="start_linked_case")
async def start_linked_case(start: LinkedStart) -> None:
    """Start the linked case's workflow on this worker's task queue (once: a retry finds it started)."""
    ref = start.case
    with suppress(WorkflowAlreadyStartedError):
        await activity.client().start_workflow(
            ref.process, start.input, id=ref.workflow_id, task_queue=activity.info().task_queue
        )


def _first_staff(session: Session, case_id: str) -> int:
    case = session.get(Case, case_id)
    assert case is not None
    return case.started_by


@activity.defn(name="set_provision")
def set_provision(change: ProvisionChange) -> None:
    """Set the pupil's SEN provision and needs on the register (the census rules checked).

    A change the census rules refuse fails at once (ProvisionRefused, not retried), with the reason.
    """
    try:
        changes = PupilUpdate.model_validate({"sen_provision": change.provision, "needs": change.needs})
        with session_scope() as session:
            update_pupil(session, pupil_id=change.pupil_id, school_id=change.school_id, changes=changes)
    except ValidationError as exc:
        raise ApplicationError(
            InvalidInput.from_validation(exc).reason, type="ProvisionRefused", non_retryable=True
        ) from None
    except RegisterError as refused:
        raise ApplicationError(refused.reason, type="ProvisionRefused", non_retryable=True) from None


@activity.defn(name="close_pupil_cases")
def close_pupil_cases(closing: CaseClosing) -> list[str]:
    """Close the pupil's other open cases with the reason; their workflow ids, for the caller to cancel."""
    by = closing.by
    with session_scope() as session:
        closed = case_service.close_open_cases(
            session,
            pupil_id=by.pupil_id,
            school_id=by.school_id,
            keep=by.case_id,
            reason=closing.reason,
            actor=closing.actor.label,
            at=closing.at,
        )
        return [case.workflow_id for case in closed]


CASE_ACTIVITIES = [open_linked_case, start_linked_case, set_provision, close_pupil_cases]
