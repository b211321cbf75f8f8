"""store.links.issue: the same link on every attempt at an email, and a new one revokes the earlier live one
for that reader and purpose, whether the earlier one is stored or still waiting for the batch's flush."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlmodel import Session, select

from store import case_service, links
from store.links import ActionLink
from store.register import Pupil


def _case(session: Session, school, sendco) -> str:  # type: ignore[no-untyped-def]
    pupil = Pupil(school_id=school.id, legal_name="Lin Kes", date_of_birth=dt.date(2016, 2, 2), year_group=5)
    session.add(pupil)
    session.commit()
    case_id = str(uuid.uuid4())
    case_service.open_case(
        session,
        case_id=case_id,
        process="annual_review",
        pupil_id=pupil.id,
        school_id=school.id,
        started_by=sendco[0].id,
        facts={},
    )
    return case_id


def _issue(session: Session, case_id: str, email: str) -> ActionLink:
    """The link of the case's email (its key names the case, as an outbox key names the workflow)."""
    return links.issue(
        session,
        case_id=case_id,
        recipient="parent:1",
        addressed={"kind": "parent"},
        purpose="give-views",
        step="parent-views",
        source=f"{case_id}:{email}",
        days=28,
    )


def _live(session: Session, case_id: str) -> list[str]:
    rows = session.exec(select(ActionLink).where(ActionLink.case_id == case_id)).all()
    return sorted(row.source.removeprefix(f"{case_id}:") for row in rows if row.revoked_at is None)


def test_a_batch_issuing_two_links_for_one_purpose_keeps_only_the_later(session, school, sendco) -> None:  # type: ignore[no-untyped-def]
    case_id = _case(session, school, sendco)
    with session.no_autoflush:  # as an email batch issues them: nothing written until its one flush
        first = _issue(session, case_id, "email-1")
        assert _issue(session, case_id, "email-1") is first  # the same email again: the same link
        _issue(session, case_id, "email-2")
    session.commit()
    assert _live(session, case_id) == ["email-2"]


def test_a_later_email_revokes_the_stored_link_and_a_retry_keeps_its_own(session, school, sendco) -> None:  # type: ignore[no-untyped-def]
    case_id = _case(session, school, sendco)
    first = _issue(session, case_id, "email-1").id
    session.commit()
    assert _issue(session, case_id, "email-1").id == first  # a retry of the first email
    _issue(session, case_id, "email-2")
    session.commit()
    assert _live(session, case_id) == ["email-2"]
