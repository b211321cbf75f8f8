"""One error shape for refusals: `{"detail": [{"field": ..., "reason": ...}]}` for 422 and 409.

Request validation (including the register's census validators), the register service's refusals and
database integrity errors all map here. Reasons never echo the submitted values (names, emails, dates
of birth), and nothing is logged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from store.register_service import InvalidInput, NotFound, OtherSchool, RegisterError

# Where FastAPI says a value came from; the field is what follows.
_SOURCES = {"body", "query", "path", "header", "cookie"}
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (\w+)\.(\w+)")
_POSTGRES_KEY = re.compile(r"Key \(([^)]+)\)=")


def field_of(loc: Iterable[Any]) -> str | None:
    """The dotted field a pydantic/FastAPI error location points at (`needs`, `terms.0.start`)."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in _SOURCES:
        return ".".join(parts[1:]) or parts[0]
    return ".".join(parts) or None


def reason_of(error: Mapping[str, Any]) -> str:
    """The reason a validator gave, without pydantic's 'Value error, ' prefix."""
    raised = (error.get("ctx") or {}).get("error")
    if isinstance(raised, Exception):
        return str(raised)
    return str(error.get("msg", "invalid"))


def problems(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, str | None]]:
    """Validation errors as field and reason pairs (the submitted input is left out)."""
    return [{"field": field_of(_location(e)), "reason": reason_of(e)} for e in errors]


def _location(error: Mapping[str, Any]) -> Iterable[Any]:
    """The error's location; a JSON syntax error points at a character offset, not a field."""
    return () if error.get("type") == "json_invalid" else error.get("loc", ())


def refusal(status_code: int, items: list[dict[str, str | None]]) -> JSONResponse:
    """The shared error response."""
    return JSONResponse(status_code=status_code, content={"detail": items})


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


async def _request_invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return refusal(status.HTTP_422_UNPROCESSABLE_CONTENT, problems(exc.errors()))


async def _register_refused(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RegisterError)
    if isinstance(exc, InvalidInput):
        return refusal(status.HTTP_422_UNPROCESSABLE_CONTENT, problems(exc.errors))
    if isinstance(exc, OtherSchool):
        return refusal(status.HTTP_403_FORBIDDEN, [{"field": exc.field, "reason": exc.reason}])
    if isinstance(exc, NotFound):
        return JSONResponse(status_code=status.HTTP_404_NOT_FOUND, content={"detail": exc.reason})
    return refusal(status.HTTP_409_CONFLICT, [{"field": exc.field, "reason": exc.reason}])  # HasOpenCases


async def _integrity(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IntegrityError)
    return refusal(status.HTTP_409_CONFLICT, [describe_integrity_error(exc)])


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers: 422 for bad input, 409 for conflicts, 404 for unknown register ids."""
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(RegisterError, _register_refused)
    app.add_exception_handler(IntegrityError, _integrity)
