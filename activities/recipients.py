"""Who an email goes to: Recipients (roles, parents, agencies) resolved to names and addresses."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select
from temporalio.exceptions import ApplicationError

from domain.schemas import Recipient
from store.casework import Case
from store.register import Agency, AgencyKind, Parent, Pupil, PupilParent, School, Staff
from store.register_service import agencies_seen_by, agency_seen_by

STAFF_ROLES = {"sendco", "headteacher"}
AGENCY_KINDS = {kind.value for kind in AgencyKind}


@dataclass(frozen=True)
class Person:
    """One resolved addressee."""

    name: str
    email: str
    kind: str
    ref: str = ""  # parent:<id> or agency:<id>: who answers an action link (staff: empty)


def no_recipient(kind: str, why: str) -> ApplicationError:
    """The non-retryable error for a recipient that resolves to nobody (names the kind, no addresses)."""
    return ApplicationError(f"no recipient for '{kind}': {why}", type="NoRecipient", non_retryable=True)


def resolve(session: Session, *, case: Case | None, recipients: list[Recipient]) -> list[Person]:
    """Every addressee of the recipients, in order, each address once (case-insensitive)."""
    people: list[Person] = []
    seen: set[str] = set()
    for recipient in recipients:
        found = _resolve_one(session, case=case, recipient=recipient)
        if not found:
            raise no_recipient(recipient.kind, "nobody in the register matches")
        for person in found:
            if person.email.lower() not in seen:
                seen.add(person.email.lower())
                people.append(person)
    return people


def greeting_name(people: list[Person]) -> str:
    """'Ann Smith', or 'Ann Smith and Bob Jones', or 'A, B and C'."""
    names = [p.name for p in people]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _resolve_one(session: Session, *, case: Case | None, recipient: Recipient) -> list[Person]:
    kind = recipient.kind
    if kind == "staff":
        return _staff_member(session, case=case, staff_id=recipient.staff_id)
    if kind in STAFF_ROLES:
        if case is None:
            raise no_recipient(kind, "a school role needs a case")
        rows = session.exec(
            select(Staff).where(Staff.school_id == case.school_id, Staff.role == kind).order_by(Staff.id)
        ).all()
        return [Person(s.name, s.email, kind) for s in rows]
    if kind == "parent":
        if case is None:
            raise no_recipient(kind, "parents need a case")
        parents = session.exec(
            select(Parent)
            .join(PupilParent, PupilParent.parent_id == Parent.id)
            .where(PupilParent.pupil_id == case.pupil_id)
            .order_by(Parent.id)
        ).all()
        return [Person(p.name, p.email, kind, f"parent:{p.id}") for p in parents]
    if kind in AGENCY_KINDS:
        agency = _agency(session, case=case, kind=kind, agency_id=recipient.agency_id)
        return [Person(agency.name, agency.email, kind, f"agency:{agency.id}")] if agency else []
    raise no_recipient(kind, "unknown recipient kind")


def _staff_member(session: Session, *, case: Case | None, staff_id: int | None) -> list[Person]:
    if staff_id is None:
        raise no_recipient("staff", "staff_id is missing")
    staff = session.get(Staff, staff_id)
    if staff is None or (case is not None and staff.school_id != case.school_id):
        return []
    return [Person(staff.name, staff.email, "staff")]


def _agency(session: Session, *, case: Case | None, kind: str, agency_id: int | None) -> Agency | None:
    """The named agency, else the one of that kind for the pupil's LA, else the school's LA; never another's.

    An agency of that kind in some other LA is nobody for this case (a Surrey school's invitations never
    go to Kent): the case start checks the register first, so this is the last line of that defence.
    """
    if agency_id is not None:
        agency = agency_seen_by(session, agency_id, case.school_id if case else None)
        return agency if agency is not None and agency.kind == kind else None
    if case is None:
        return None
    return agency_for(session, pupil_id=case.pupil_id, school_id=case.school_id, kind=kind)


def agency_for(session: Session, *, pupil_id: int, school_id: int, kind: str) -> Agency | None:
    """The agency of that kind for the pupil's LA, else the school's LA (None if neither has one): the
    school's own registration first, then the shared register's; never another school's."""
    of_kind = (
        select(Agency)
        .where(Agency.kind == kind, agencies_seen_by(school_id))
        .order_by(col(Agency.school_id).is_(None), Agency.id)
    )
    for authority in local_authorities(session, pupil_id=pupil_id, school_id=school_id):
        agency = session.exec(of_kind.where(Agency.local_authority == authority)).first()
        if agency is not None:
            return agency
    return None


def local_authorities(session: Session, *, pupil_id: int, school_id: int) -> list[str]:
    """The LAs whose agencies serve the pupil's cases: the pupil's own, then the school's."""
    pupil = session.get(Pupil, pupil_id)
    school = session.get(School, school_id)
    found = [pupil.local_authority if pupil else None, school.local_authority if school else None]
    return list(dict.fromkeys(la for la in found if la))
