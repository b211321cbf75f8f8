"""Issued action links (one row each, so single use and revoking work) and what happens to them.

The email activity issues a link per recipient and purpose; the respond pages check it, use it, and
count each refused attempt on it; the SENDCo revokes or resends it from the case page.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from infra.link_signing import link_id_of, new_link_id
from store.casework import Case
from store.register import Agency, Parent, Pupil, PupilParent, School
from store.register_service import sendco_of


class ActionLink(SQLModel, table=True):
    """One emailed link: one case, one recipient, one purpose (and the step it answers), until it expires."""

    __tablename__ = "action_link"
    __table_args__ = (
        UniqueConstraint("source", "recipient", "purpose"),
        Index("ix_action_link_case", "case_id", "created_at"),
    )
    id: str = Field(primary_key=True, max_length=64, description="Opaque: the token is this id, signed")
    case_id: str = Field(foreign_key="case.id", max_length=36)
    recipient: str = Field(max_length=40, description="parent:<id> or agency:<id>")
    addressed: dict = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False), description="The Recipient emailed"
    )
    purpose: str = Field(max_length=40)
    step: str = Field(default="", max_length=120, description="The step or deadline the link answers")
    source: str = Field(max_length=200, description="The outbox key of the email that carried it")
    created_at: dt.datetime
    expires_at: dt.datetime
    used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None
    refused: int = Field(default=0, description="Attempts refused on this link (used, expired, revoked...)")


class LinkState(StrEnum):
    live = "live"
    used = "used"
    expired = "expired"
    revoked = "revoked"
    tampered = "tampered"  # no link has this token: altered, or made up


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def state_of(link: ActionLink, at: dt.datetime) -> LinkState:
    if link.revoked_at is not None:
        return LinkState.revoked
    if link.used_at is not None:
        return LinkState.used
    if aware(link.expires_at) <= at:
        return LinkState.expired
    return LinkState.live


def issue(
    session: Session,
    *,
    case_id: str,
    recipient: str,
    addressed: dict,
    purpose: str,
    step: str,
    source: str,
    days: float,
) -> ActionLink:
    """The link for this email, recipient and purpose: the same one on every attempt at the email, else
    a new one that supersedes (revokes) the recipient's earlier live links for the same purpose.

    Nothing is written until the session flushes (an email batch writes its rows together at its end):
    links issued in this session and not yet flushed count as well as the stored ones."""
    unflushed = [
        link
        for link in session.new
        if isinstance(link, ActionLink)
        and (link.case_id, link.recipient, link.purpose) == (case_id, recipient, purpose)
    ]
    found = (
        next((link for link in unflushed if link.source == source), None)
        or session.exec(
            select(ActionLink).where(
                ActionLink.source == source, ActionLink.recipient == recipient, ActionLink.purpose == purpose
            )
        ).first()
    )
    if found is not None:
        return found
    at = now()
    stored = session.exec(
        select(ActionLink).where(
            ActionLink.case_id == case_id,
            ActionLink.recipient == recipient,
            ActionLink.purpose == purpose,
            col(ActionLink.revoked_at).is_(None),
            col(ActionLink.used_at).is_(None),
        )
    )
    for earlier in [*unflushed, *stored]:
        if earlier.revoked_at is None:
            earlier.revoked_at = at
            session.add(earlier)
    link = ActionLink(
        id=new_link_id(),
        case_id=case_id,
        recipient=recipient,
        addressed=addressed,
        purpose=purpose,
        step=step,
        source=source,
        created_at=at,
        expires_at=at + dt.timedelta(days=days),
    )
    session.add(link)
    return link


def check(session: Session, token: str) -> tuple[ActionLink | None, LinkState]:
    """The token's link and its state; a refused link's count goes up (committed by the caller)."""
    link_id, signed = link_id_of(token)
    link = session.get(ActionLink, link_id) if link_id else None
    if link is None:
        return None, LinkState.tampered
    state = state_of(link, now()) if signed else LinkState.tampered
    if state != LinkState.live:
        link.refused += 1
        session.add(link)
    return link, state


def refuse(session: Session, link: ActionLink) -> None:
    """Count one more refused attempt on the link."""
    link.refused += 1
    session.add(link)


def use(session: Session, link: ActionLink, *, single_use: bool) -> bool:
    """Mark a single-use link used (False if another request used it first); others stay live."""
    if not single_use:
        return True
    session.refresh(link)
    if link.used_at is not None:
        return False
    link.used_at = now()
    session.add(link)
    session.commit()
    return True


def release(session: Session, link: ActionLink) -> None:
    """The answer was refused by the case, so the link was not really used: it works again."""
    link.used_at = None
    session.add(link)
    session.commit()


def link_of(session: Session, *, case_id: str, link_id: str) -> ActionLink | None:
    """One of the case's links (None if the case has no such link)."""
    link = session.get(ActionLink, link_id)
    return link if link is not None and link.case_id == case_id else None


def revoke(session: Session, *, case_id: str, link_id: str) -> ActionLink | None:
    """Revoke one of the case's links (None if the case has no such link)."""
    link = link_of(session, case_id=case_id, link_id=link_id)
    if link is None:
        return None
    if link.revoked_at is None:
        link.revoked_at = now()
        session.add(link)
        session.commit()
    return link


def of_case(session: Session, *, case_id: str) -> list[ActionLink]:
    """The case's links, newest first."""
    return list(
        session.exec(
            select(ActionLink)
            .where(ActionLink.case_id == case_id)
            .order_by(col(ActionLink.created_at).desc(), col(ActionLink.id))
        )
    )


def responder_name(session: Session, label: str, *, pupil_id: int | None) -> tuple[str, str] | None:
    """'parent:3' or 'agency:5' as the register names them, with their kind ('parent', 'ep_service');
    a parent only if they are the pupil's."""
    kind, _, ident = label.partition(":")
    if not ident.isdigit():
        return None
    if kind == "agency":
        agency = session.get(Agency, int(ident))
        return (agency.name, agency.kind.value) if agency else None
    if kind == "parent" and pupil_id is not None:
        parent = session.exec(
            select(Parent)
            .join(PupilParent, col(PupilParent.parent_id) == Parent.id)
            .where(Parent.id == int(ident), PupilParent.pupil_id == pupil_id)
        ).first()
        return (parent.name, "parent") if parent else None
    return None


def reader_context(session: Session, link: ActionLink) -> dict[str, str]:
    """What a link's page may show its reader: the school, whom to contact there, the pupil's first name."""
    case = session.get(Case, link.case_id)
    school = session.get(School, case.school_id) if case else None
    pupil = session.get(Pupil, case.pupil_id) if case else None
    sendco = sendco_of(session, case.school_id) if case else None
    first = pupil.legal_name.split()[0] if pupil and pupil.legal_name.split() else ""
    return {
        "school": school.name if school else "the school",
        "sendco_name": sendco.name if sendco else "",
        "sendco_email": sendco.email if sendco else "",
        "pupil_first_name": first,
    }
