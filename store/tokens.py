"""Bearer tokens: one staff member's, kept only as a SHA-256 digest, refused once expired or revoked."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, delete, select

from store.register import ApiToken, Staff, WebSession

TOKEN_DAYS = 90


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def issue_token(session: Session, staff_id: int, *, days: int = TOKEN_DAYS) -> str:
    """Create a new token for the staff member and return it (shown once, never stored in clear)."""
    token = "send_" + secrets.token_urlsafe(32)
    issued = now()
    session.add(
        ApiToken(
            digest=digest(token),
            staff_id=staff_id,
            created_at=issued,
            expires_at=issued + dt.timedelta(days=days),
        )
    )
    session.commit()
    return token


def _live(*entities: type) -> Any:
    """A select of `entities` for the live token with digest `:digest` at `:now`, built once: every
    authenticated request runs it, and building it each time cost more than the query itself."""
    return (
        select(*entities)
        .select_from(ApiToken)
        .join(Staff, col(ApiToken.staff_id) == Staff.id)
        .where(
            ApiToken.digest == bindparam("digest"),
            ApiToken.revoked == False,  # noqa: E712
            col(ApiToken.expires_at) > bindparam("now"),
        )
    )


LIVE_TOKEN = _live(ApiToken, Staff)
LIVE_STAFF = _live(Staff)


def live_token(session: Session, token: str) -> tuple[ApiToken, Staff] | None:
    """The token's row and its staff member, if the token is neither revoked nor expired."""
    row = session.exec(LIVE_TOKEN, params={"digest": digest(token), "now": now()}).first()
    return (row[0], row[1]) if row else None


def staff_for_token(session: Session, token: str) -> Staff | None:
    """The staff member a live token belongs to, if any."""
    return session.exec(LIVE_STAFF, params={"digest": digest(token), "now": now()}).first()


@dataclass(frozen=True)
class TokenListed:
    """One token as `send-engine tokens list` shows it (never the token itself)."""

    id: int
    staff_email: str
    created_at: dt.datetime
    expires_at: dt.datetime
    state: str  # live, expired or revoked


def list_tokens(session: Session, *, email: str | None = None) -> list[TokenListed]:
    """Every token, oldest first, optionally of one staff member only."""
    statement = select(ApiToken, Staff).join(Staff, col(ApiToken.staff_id) == Staff.id).order_by(ApiToken.id)
    if email:
        statement = statement.where(Staff.email == email.strip())
    at = now()
    rows = []
    for token, staff in session.exec(statement).all():
        state = "revoked" if token.revoked else "expired" if token.expires_at <= at else "live"
        rows.append(TokenListed(token.id or 0, staff.email, token.created_at, token.expires_at, state))
    return rows


def revoke_token(session: Session, *, token_id: int) -> bool:
    """Revoke the token and end every session signed in with it; False if there is no such token."""
    token = session.get(ApiToken, token_id)
    if token is None:
        return False
    token.revoked = True
    session.add(token)
    session.exec(delete(WebSession).where(col(WebSession.token_id) == token_id))  # type: ignore[call-overload]
    session.commit()
    return True
