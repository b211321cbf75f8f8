"""Bearer tokens: issued to one staff member, stored only as a SHA-256 digest."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlmodel import Session, select

from store.register import ApiToken, Staff


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, staff_id: int) -> str:
    """Create a new token for the staff member and return it (shown once, never stored in clear)."""
    token = "send_" + secrets.token_urlsafe(32)
    session.add(ApiToken(digest=digest(token), staff_id=staff_id, created_at=dt.datetime.now(dt.UTC)))
    session.commit()
    return token


def staff_for_token(session: Session, token: str) -> Staff | None:
    """The staff member a live token belongs to, if any."""
    row = session.exec(
        select(Staff)
        .join(ApiToken, ApiToken.staff_id == Staff.id)
        .where(
            ApiToken.digest == digest(token),
            ApiToken.revoked == False,  # noqa: E712
        )
    ).first()
    return row
