"""Web sessions: a token exchanged at sign-in for a random session id, kept only as its SHA-256 digest.

A session lives while its token does: revoking or expiring the token ends it at its next request.
The CSRF token of a session is derived from its id (an HMAC), so it needs no column and says nothing of it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from sqlmodel import Session, col, delete, select

from store.register import ApiToken, Staff, WebSession
from store.tokens import digest, live_token, now

SESSION_HOURS = 12


def start_session(session: Session, *, token: str) -> str | None:
    """A new session for the token's staff member (its id, to go in the cookie); None for a dead token."""
    found = live_token(session, token.strip())
    if found is None:
        return None
    api_token, staff = found
    session_id = secrets.token_urlsafe(32)
    started = now()
    session.add(
        WebSession(
            digest=digest(session_id),
            staff_id=staff.id,
            token_id=api_token.id,
            created_at=started,
            expires_at=min(started + dt.timedelta(hours=SESSION_HOURS), api_token.expires_at),
        )
    )
    session.commit()
    return session_id


def staff_for_session(session: Session, session_id: str) -> Staff | None:
    """The staff member of a live session (its token still live too), if any."""
    at = now()
    return session.exec(
        select(Staff)
        .join(WebSession, col(WebSession.staff_id) == Staff.id)
        .join(ApiToken, col(ApiToken.id) == WebSession.token_id)
        .where(
            WebSession.digest == digest(session_id),
            col(WebSession.expires_at) > at,
            ApiToken.revoked == False,  # noqa: E712
            col(ApiToken.expires_at) > at,
        )
    ).first()


def end_session(session: Session, *, session_id: str) -> None:
    """Sign out: the session is deleted, so its cookie is worthless from now on."""
    session.exec(delete(WebSession).where(col(WebSession.digest) == digest(session_id)))  # type: ignore[call-overload]
    session.commit()


def csrf_token(session_id: str) -> str:
    """The session's CSRF token: an HMAC of its id, checked on every form post."""
    return hmac.new(session_id.encode(), b"send-csrf", hashlib.sha256).hexdigest()


def csrf_ok(session_id: str, submitted: str) -> bool:
    return hmac.compare_digest(csrf_token(session_id), submitted or "")
