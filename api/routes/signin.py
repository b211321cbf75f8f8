"""Sign-in for the web pages: a valid token becomes the httponly `send_token` cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import SessionDep
from api.web import page
from infra.settings import get_settings
from store.tokens import staff_for_token

router = APIRouter(tags=["sign-in"], include_in_schema=False)
COOKIE = "send_token"
COOKIE_MAX_AGE = 7 * 24 * 3600
HOME = "/"


def safe_next(target: str | None) -> str:
    """A local path to go to after signing in (never another site)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return HOME


def _form(request: Request, *, next_path: str, error: str = "", code: int = 200) -> HTMLResponse:
    return page(request, "signin.html", {"next": next_path, "error": error}, status_code=code)


def _sign_in(request: Request, session: SessionDep, token: str, next_path: str) -> Response:
    if staff_for_token(session, token.strip()) is None:
        return _form(request, next_path=next_path, error="That token is not valid.", code=401)
    response = RedirectResponse(next_path, status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        COOKIE,
        token.strip(),
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=get_settings().public_url.startswith("https://"),
        path="/",
    )
    return response


@router.get("/signin", response_model=None)
def signin(
    request: Request, session: SessionDep, token: str | None = None, next: str | None = None
) -> Response:
    """With ?token=: sign in and go on to the cases; without: the sign-in form."""
    if token:
        return _sign_in(request, session, token, safe_next(next))
    return _form(request, next_path=safe_next(next))


@router.post("/signin", response_model=None)
def signin_form(
    request: Request, session: SessionDep, token: Annotated[str, Form()], next: Annotated[str, Form()] = HOME
) -> Response:
    """The sign-in form posts here, so the token stays out of URLs and access logs."""
    return _sign_in(request, session, token, safe_next(next))


@router.get("/signout")
def signout() -> RedirectResponse:
    """Forget the cookie and go back to the sign-in form."""
    response = RedirectResponse("/signin", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE, path="/")
    return response
