"""Dependencies shared by every router: database session, the signed-in staff member, roles."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Annotated

from fastapi import Depends, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session
from temporalio.exceptions import ApplicationError

from api.errors import MESSAGES, ApiError
from domain.schemas import Actor, Role
from infra.database import get_engine
from store.register import Staff
from store.tokens import staff_for_token
from workflows.process import require_role as refuse_unless

bearer = HTTPBearer(auto_error=False, description="A token from `send-engine issue-token`")


async def get_session() -> AsyncIterator[Session]:
    """A session for the request; opening one does no I/O (it connects at its first query), so no thread."""
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def current_staff(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Staff:
    """The staff member behind the bearer token (or the web pages' token cookie); 401 otherwise."""
    token = credentials.credentials if credentials else request.cookies.get("send_token")
    staff = staff_for_token(session, token) if token else None
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
