"""What every web page shares: one Jinja2 environment, the signed-in staff member, page and flash helpers."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from urllib.parse import quote, unquote, urlencode
from zoneinfo import ZoneInfo

from fastapi import HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from api.deps import SAFE_METHODS, SessionDep, same_origin, session_staff
from api.forms import humanise
from domain import words
from infra.settings import ROOT, get_settings
from store.register import Staff
from store.sessions import csrf_ok, csrf_token

templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(ROOT / "templates" / "web"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )
)
LONDON = ZoneInfo("Europe/London")


def role_name(role: str) -> str:
    """A role or agency kind as people say it in a sentence: 'SENDCo', 'headteacher', 'LA SEN team'."""
    return words.in_text(role)


def local(moment: dt.datetime, fmt: str = "%d %b %Y %H:%M") -> str:
    """A stored time (UTC, naive from SQLite) as the time in England."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(LONDON).strftime(fmt)


templates.env.globals["role_name"] = role_name
templates.env.filters["humanise"] = humanise
templates.env.filters["local"] = local
templates.env.filters.update(
    day=words.day,  # 'Wed 20 Jan 2027'
    when=words.when,  # 'Wed 20 Jan 2027, 10:00' (a stored moment, in England's time)
    plain=words.plain,  # a sentence a workflow wrote, codes as words
    step=words.step,
    status=words.status,
    flag=words.flag,
    kind=words.kind,
)
# The pages have no scripts; e-mail HTML shown in the mailbox's sandboxed iframe inherits this.
PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
FLASH_COOKIE = "send_flash"
CSRF_FIELD = "csrf_token"
FORGED = (
    "This form did not come from the engine's own page, so nothing was done. "
    "Go back to the page, reload it and try again."
)


def web_staff(request: Request, session: SessionDep, *, next_path: str = "") -> Staff:
    """The staff member behind the session cookie; otherwise off to the sign-in page."""
    staff = session_staff(request, session)
    if staff is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target = "/signin" if next_path == here else "/signin?" + urlencode({"next": here})
        raise HTTPException(status.HTTP_303_SEE_OTHER, "sign in first", headers={"Location": target})
    return staff


def page(
    request: Request, name: str, context: dict[str, Any], *, active: str = "", status_code: int = 200
) -> HTMLResponse:
    """Render a page of templates/web with the shared security headers and any flash message once."""
    flash = unquote(request.cookies.get(FLASH_COOKIE, ""))
    session_id = getattr(request.state, "session_id", None)
    shared = {
        "active": active,
        "flash": flash,
        "csrf_token": csrf_token(session_id) if session_id else "",
        "action_key": uuid.uuid4().hex,  # each rendering's forms: a second submission is the same action
    }
    response = templates.TemplateResponse(request, name, {**shared, **context}, status_code=status_code)
    response.headers["Content-Security-Policy"] = PAGE_CSP
    # Other sites learn nothing of where a link came from; the engine's own forms send their Origin
    # (under no-referrer a browser sends "Origin: null", and the form check could not tell them apart).
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(target: str, *, flash: str = "") -> RedirectResponse:
    """A 303 to another page after a form post, carrying a message to show there once."""
    response = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    if flash:
        response.set_cookie(
            FLASH_COOKIE,
            quote(flash),
            max_age=60,
            httponly=True,
            samesite="lax",
            secure=get_settings().secure_cookies,
            path="/",
        )
    return response


async def form_guard(request: Request, session: SessionDep) -> None:
    """Every state-changing form of a signed-in page: from this site's own page, with the session's token.

    403 (nothing done) for a post from another origin or without the session's CSRF token; a post with no
    live session goes on to the page's own handler, which sends it to sign in.
    """
    if request.method in SAFE_METHODS or session_staff(request, session) is None:
        return
    form = await request.form()  # Starlette keeps it: the handler's own request.form() reads the same
    if not same_origin(request) or not csrf_ok(request.state.session_id, str(form.get(CSRF_FIELD) or "")):
        raise HTTPException(status.HTTP_403_FORBIDDEN, FORGED)
