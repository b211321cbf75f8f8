"""Sign-in for the web pages: a token, posted by the form, becomes a server-side session; sign-out ends it.

The cookie holds only a random session id (stored as its digest): HttpOnly, SameSite=Lax, and Secure
whenever the public URL is https. A token is never taken from a URL, so it never lands in an access log.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import SESSION_COOKIE, SessionDep, same_origin
from api.web import FORGED, form_guard, page
from infra.settings import get_settings
from store.sessions import SESSION_HOURS, end_session, start_session

router = APIRouter(tags=["sign-in"], include_in_schema=False)
HOME = "/"


def safe_next(target: str | None) -> str:
    """A local path to go to after signing in (never another site)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return HOME


def _form(request: Request, *, next_path: str, error: str = "", code: int = 200) -> HTMLResponse:
    return page(request, "signin.html", {"next": next_path, "error": error}, status_code=code)


@router.get("/signin")
def signin(request: Request, next: str | None = None) -> HTMLResponse:
    """The sign-in form (a token in the URL is not accepted: it would be in every access log)."""
    return _form(request, next_path=safe_next(next))


@router.post("/signin", response_model=None)
def signin_form(
    request: Request, session: SessionDep, token: Annotated[str, Form()], next: Annotated[str, Form()] = HOME
) -> Response:
    """Exchange the token for a session, from this site's own form only."""
    if not same_origin(request):
        raise HTTPException(status.HTTP_403_FORBIDDEN, FORGED)
    session_id = start_session(session, token=token)
    if session_id is None:
        return _form(request, next_path=safe_next(next), error="That token is not valid.", code=401)
    response = RedirectResponse(safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=get_settings().secure_cookies,
        path="/",
    )
    return response


@router.post("/signout", dependencies=[Depends(form_guard)])
def signout(request: Request, session: SessionDep) -> RedirectResponse:
    """End the session (deleted on the server, so a copy of the cookie is worthless) and forget the cookie."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        end_session(session, session_id=session_id)
    response = RedirectResponse("/signin", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
