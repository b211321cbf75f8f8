"""store.case_service.close_open_cases: a leaver's other open cases closed once, with the reason."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlmodel import select

from store import case_service
from store.casework import Case, ChronologyEntry, Deadline, DeadlineStatus
from store.register import Pupil


def test_open_cases_are_closed_with_the_reason_and_a_retry_names_them_again(session, school, sendco) -> None:  # type: ignore[no-untyped-def]
    pupil = Pupil(
        school_id=school.id, legal_name="Jo Closer", date_of_birth=dt.date(2016, 1, 1), year_group=5
    )
    session.add(pupil)
    session.commit()

    def case(process: str) -> Case:
        return case_service.open_case(
            session,
            case_id=str(uuid.uuid4()),
            process=process,
            pupil_id=pupil.id,
            school_id=school.id,
            started_by=sendco[0].id,
            facts={},
        )

    review, leaving, done = case("annual_review"), case("leaving"), case("records_request")
    done.status = "closed"
    session.add(done)
    session.add(
        Deadline(
            case_id=review.id,
            school_id=school.id,
            key="review-due",
            step="review-due",
            rule_id="AR-DUE",
            owner="sendco",
            due=dt.date(2027, 1, 1),
        )
    )
    session.commit()
    at = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
    kwargs = {
        "pupil_id": pupil.id,
        "school_id": school.id,
        "keep": leaving.id,
        "reason": "the pupil left",
        "actor": "staff:1",
        "at": at,
    }

    closed = case_service.close_open_cases(session, **kwargs)
    session.commit()
    assert [c.id for c in closed] == [review.id]  # not the leaving case, not one already closed
    session.refresh(review)
    assert (review.status, review.step, review.next_action) == ("closed", "closed", "Nothing: the pupil left")
    [row] = session.exec(select(Deadline).where(Deadline.case_id == review.id)).all()
    assert row.status == DeadlineStatus.cancelled

    again = case_service.close_open_cases(session, **kwargs)  # a retry after a lost reply
    session.commit()
    assert [c.id for c in again] == [review.id]
    notes = session.exec(select(ChronologyEntry).where(ChronologyEntry.case_id == review.id)).all()
    assert [(n.action, n.actor) for n in notes] == [("case-closed", "staff:1")]
    assert notes[0].detail == f"Case closed: the pupil left (closed by case {leaving.id[:8]})"
