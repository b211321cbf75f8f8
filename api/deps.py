"""Dependencies shared by every router: database session, the signed-in staff member, roles."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session
from temporalio.exceptions import ApplicationError

from api.errors import MESSAGES, ApiError
from domain.schemas import Actor, Role
from infra.database import get_engine
from infra.settings import get_settings
from store.register import Staff
from store.sessions import staff_for_session
from store.tokens import staff_for_token
from workflows.process import require_role as refuse_unless

bearer = HTTPBearer(auto_error=False, description="A token from `send-engine issue-token`")
SESSION_COOKIE = "send_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OTHER_ORIGIN = (
    "This request came from another site, so nothing was done. "
    "Use the engine's own pages, or an API token in the Authorization header."
)


async def get_session() -> AsyncIterator[Session]:
    """A session for the request; opening one does no I/O (it connects at its first query), so no thread."""
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def same_origin(request: Request, *, also: Iterable[str] = ()) -> bool:
    """The request's Origin (else its Referer) is the public URL's, this server's own, or one of `also`.

    A browser always names the page a cross-site POST comes from; a request naming none is refused.
    """
    claimed = request.headers.get("origin") or origin_of(request.headers.get("referer") or "")
    if not claimed or claimed == "null":
        return False
    host = request.headers.get("host", "")
    allowed = {origin_of(get_settings().public_url), f"{request.url.scheme}://{host}".lower(), *also}
    return claimed.lower() in allowed


def session_staff(request: Request, session: Session) -> Staff | None:
    """The staff member behind the session cookie (and remember the session id for the page's forms)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    staff = staff_for_session(session, session_id) if session_id else None
    if staff is not None:
        request.state.session_id = session_id
    return staff


async def current_staff(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Staff:
    """The staff member behind the bearer token, or the web pages' session cookie; 401 otherwise.

    Run on the event loop, not in a thread: its one lookup by key is quicker than the hop to a thread (the
    pool never makes a connection wait, so it cannot hold the loop for long).

    With the cookie, a request that changes something must come from the engine's own pages (or, for the
    codec, from the Temporal UI's origin): 403 otherwise, so another site cannot act for a signed-in user.
    """
    if credentials:
        staff = staff_for_token(session, credentials.credentials)
    else:
        staff = session_staff(request, session)
        if staff is not None and request.method not in SAFE_METHODS:
            ui = get_settings().codec_cors_origins.split(",") if request.url.path.startswith("/codec") else []
            if not same_origin(request, also=[o.strip().lower() for o in ui]):
                raise ApiError(status.HTTP_403_FORBIDDEN, OTHER_ORIGIN)
    if staff is None:
        raise ApiError(status.HTTP_401_UNAUTHORIZED, MESSAGES[401], headers={"WWW-Authenticate": "Bearer"})
    return staff


CurrentStaff = Annotated[Staff, Depends(current_staff)]


def actor_of(staff: Staff) -> Actor:
    return Actor(staff_id=staff.id, role=Role(staff.role))


def check_role(staff: Staff, roles: Iterable[Role]) -> None:
    """403 for anyone outside the roles, in the same words a workflow's own role check uses."""
    try:
        refuse_unless(Role(staff.role), roles)
    except ApplicationError as err:
        raise ApiError(status.HTTP_403_FORBIDDEN, err.message) from None


def require_role(*roles: Role):  # type: ignore[no-untyped-def]
    """A dependency that lets only the given roles through (403 for anyone else)."""

    def check(staff: CurrentStaff) -> Staff:
        check_role(staff, roles)
        return staff

    return Depends(check)
