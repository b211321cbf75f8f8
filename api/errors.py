"""One error body for every refusal: `{code, message, errors: [{field, reason}]}`, and a 500 with an error id.

Request validation (including the register's census validators), HTTP exceptions (FastAPI's and
Starlette's), the register service's refusals, database integrity errors and Temporal's refusals all
answer in this shape. `message` is a plain-words sentence for a person; `errors` says which field each
reason is about. Reasons never echo the submitted values (names, emails, dates of birth). An unexpected
failure is logged with an error id (never the request body) and answered with that id only.
"""

from __future__ import annotations

import http
import logging
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain import words
from store.register_service import InvalidInput, NotFound, OtherSchool, RegisterError

log = logging.getLogger("api.errors")

# Where FastAPI says a value came from; the field is what follows.
_SOURCES = {"body", "query", "path", "header", "cookie"}
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (\w+)\.(\w+)")
_POSTGRES_KEY = re.compile(r"Key \(([^)]+)\)=")

CODES = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    503: "unavailable",
}
MESSAGES = {
    400: "The request could not be read: send JSON as the API describes.",
    401: "Sign in first: send a valid token (send-engine issue-token gives one).",
    403: "You cannot do this.",
    404: "There is nothing here: check the address.",
    405: "That cannot be done at this address.",
    409: "This cannot be done now: it conflicts with what is already recorded.",
    422: "Some of what was sent needs correcting.",
    503: "The case engine is not answering just now, so nothing was done. Try again in a minute.",
}
TOO_LARGE = "A number in the request is too large to be a record's id or a count: check it."
INTERNAL = "Something went wrong on our side. Quote error {error_id} if you contact support."


class Problem(BaseModel):
    """One thing wrong with a request: the field it is about (None for the request as a whole) and why."""

    field: str | None = None
    reason: str


class ErrorBody(BaseModel):
    """Every 4xx and 503: a machine word, a sentence for a person, and the reasons by field."""

    code: str = Field(
        description="not_found, forbidden, conflict, invalid, too_large, unavailable, unauthorized"
    )
    message: str = Field(description="What happened and what to do, in plain words")
    errors: list[Problem] = Field(default_factory=list)

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "code": "conflict",
                    "message": "The headteacher has not approved releasing the record yet.",
                    "errors": [],
                }
            ]
        }
    }


class InternalError(BaseModel):
    """An unexpected failure: the error id is in the server's log too."""

    code: str = "internal"
    message: str
    error_id: str


def _described(what: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": what}


# The error statuses every route documents (the OpenAPI's `responses=` of every router).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _described("The body could not be read as JSON"),
    401: _described("Not signed in: no valid token"),
    403: _described("Not your role, or not your school"),
    404: _described("No such record (or not at your school), or no such action for this case"),
    409: _described("Not possible now: the reason says why"),
    413: _described("The request body is over the limit (SEND_MAX_BODY_BYTES)"),
    422: _described("Something sent needs correcting: each field says why"),
    503: _described("The case engine is not answering: nothing was done"),
    500: {"model": InternalError, "description": "Something went wrong on our side: quote the error id"},
}


class ApiError(Exception):
    """A refusal the API answers with the error body (raised by commands and routes, caught by pages)."""

    def __init__(
        self,
        status_code: int,
        message: str,
        errors: Sequence[Mapping[str, Any]] = (),
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.errors = [{"field": e.get("field"), "reason": str(e.get("reason"))} for e in errors]
        self.headers = dict(headers or {})

    @property
    def code(self) -> str:
        return CODES.get(self.status_code, "invalid")


def sentence(text: str) -> str:
    """A reason as a sentence: a capital first and a full stop last."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".?!" else text + "."


def summary(items: Sequence[Mapping[str, Any]], fallback: str = MESSAGES[422]) -> str:
    """One sentence for a list of reasons: the reason itself when there is one."""
    reasons = list(dict.fromkeys(str(i.get("reason")) for i in items if i.get("reason")))
    if not reasons:
        return fallback
    if len(reasons) == 1:
        return sentence(reasons[0])
    shown = "; ".join(reasons[:3]) + ("; and more" if len(reasons) > 3 else "")
    return f"Please correct these {len(reasons)} answers: {shown}."


def field_of(loc: Iterable[Any]) -> str | None:
    """The dotted field a pydantic/FastAPI error location points at (`needs`, `terms.0.start`)."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in _SOURCES:
        return ".".join(parts[1:]) or parts[0]
    return ".".join(parts) or None


def reason_of(error: Mapping[str, Any]) -> str:
    """A validation error's reason in plain words (domain.words.wanted, the one table of them): what to
    enter, or the reason our own validator gave; never pydantic's text ('Input should be ...')."""
    raised = (error.get("ctx") or {}).get("error")
    message = str(raised) if isinstance(raised, Exception) else str(error.get("msg", ""))
    return words.wanted(str(error.get("type", "")), message, error.get("ctx"))


def problems(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, str | None]]:
    """Validation errors as field and reason pairs (the submitted input is left out)."""
    return [{"field": field_of(_location(e)), "reason": reason_of(e)} for e in errors]


def _location(error: Mapping[str, Any]) -> Iterable[Any]:
    """The error's location; a JSON syntax error points at a character offset, not a field."""
    return () if error.get("type") == "json_invalid" else error.get("loc", ())


def body(status_code: int, message: str, items: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The error body for a status."""
    return ErrorBody(
        code=CODES.get(status_code, "invalid"),
        message=message,
        errors=[Problem(field=i.get("field"), reason=str(i.get("reason"))) for i in items],
    ).model_dump()


def refusal(
    status_code: int,
    message: str,
    items: Sequence[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The shared error response."""
    return JSONResponse(
        status_code=status_code, content=body(status_code, message, items), headers=dict(headers or {})
    )


def describe_integrity_error(exc: IntegrityError) -> dict[str, str | None]:
    """Field and reason for a constraint the database enforced, from SQLite's or PostgreSQL's message."""
    orig = exc.orig
    text = str(orig)
    diag = getattr(orig, "diag", None)
    if (match := _SQLITE_UNIQUE.search(text)) is not None:
        table, column = match.groups()
        return {"field": column, "reason": f"another {table} record already has this {column}"}
    if getattr(orig, "sqlstate", None) == "23505":
        key = _POSTGRES_KEY.search(getattr(diag, "message_detail", None) or "")
        column = key.group(1) if key else None
        table = getattr(diag, "table_name", None) or "record"
        return {"field": column, "reason": f"another {table} record already has this {column or 'value'}"}
    if "FOREIGN KEY" in text.upper() or getattr(orig, "sqlstate", None) == "23503":
        return {"field": None, "reason": "refers to a record that does not exist, or is still referred to"}
    return {"field": None, "reason": "conflicts with a record already stored"}


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return refusal(exc.status_code, exc.message, exc.errors, exc.headers)


async def _request_invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    items = problems(exc.errors())
    return refusal(status.HTTP_422_UNPROCESSABLE_CONTENT, summary(items), items)


async def _http_error(request: Request, exc: Exception) -> Any:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code < 400:  # the pages' redirect to sign in
        return await http_exception_handler(request, exc)
    detail = exc.detail
    items: list[Mapping[str, Any]] = []
    if isinstance(detail, list):
        items = [d for d in detail if isinstance(d, Mapping)]
        message = summary(items, MESSAGES.get(exc.status_code, MESSAGES[422]))
    elif exc.status_code == status.HTTP_400_BAD_REQUEST:  # a body that is not JSON
        message = MESSAGES[400]
    elif isinstance(detail, str) and detail and detail != _phrase(exc.status_code):
        message = sentence(detail)
    else:
        message = MESSAGES.get(exc.status_code) or sentence(_phrase(exc.status_code))
    return refusal(exc.status_code, message, items, exc.headers)


def _phrase(status_code: int) -> str:
    try:
        return http.HTTPStatus(status_code).phrase
    except ValueError:
        return ""


async def _register_refused(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RegisterError)
    if isinstance(exc, InvalidInput):
        items = problems(exc.errors)
        return refusal(status.HTTP_422_UNPROCESSABLE_CONTENT, summary(items), items)
    item = [{"field": exc.field, "reason": exc.reason}]
    if isinstance(exc, OtherSchool):
        return refusal(status.HTTP_403_FORBIDDEN, sentence(exc.reason), item)
    if isinstance(exc, NotFound):
        return refusal(status.HTTP_404_NOT_FOUND, sentence(exc.reason), item)
    return refusal(status.HTTP_409_CONFLICT, sentence(exc.reason), item)  # HasOpenCases


async def _too_large(_request: Request, exc: Exception) -> JSONResponse:
    """A number too large for the database to look up or store (an id beyond any record's)."""
    item = {"field": None, "reason": "a number in the request is too large"}
    return refusal(status.HTTP_422_UNPROCESSABLE_CONTENT, TOO_LARGE, [item])


async def _integrity(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IntegrityError)
    item = describe_integrity_error(exc)
    return refusal(status.HTTP_409_CONFLICT, sentence(str(item["reason"])), [item])


def internal_error(scope: Scope) -> tuple[str, dict[str, Any]]:
    """Log the failure being handled with a new error id (method and path only), and the body to answer."""
    error_id = uuid.uuid4().hex[:12]
    log.exception("unexpected failure, error %s, on %s %s", error_id, scope.get("method"), scope.get("path"))
    message = INTERNAL.format(error_id=error_id)
    return error_id, InternalError(message=message, error_id=error_id).model_dump()


class UnexpectedFailures:
    """ASGI middleware: an exception nothing else handled becomes a 500 with an error id the log also has."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            if started:  # too late for an answer of our own: the server closes the connection
                raise
            _, content = internal_error(scope)
            await JSONResponse(status_code=500, content=content)(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers: every refusal in the one error body, anything unexpected a 500 with an id."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RegisterError, _register_refused)
    app.add_exception_handler(IntegrityError, _integrity)
    app.add_exception_handler(OverflowError, _too_large)  # SQLite: beyond a 64-bit integer
    app.add_exception_handler(DataError, _too_large)  # PostgreSQL: numeric value out of range
    app.add_middleware(UnexpectedFailures)
