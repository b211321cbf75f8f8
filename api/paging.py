"""Paged list responses: `Page[T]`, the `PageDep` query parameters, and `paginate` for any select."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from sqlalchemy import func, inspect
from sqlmodel import Session, select
from sqlmodel.sql.expression import Select, SelectOfScalar

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list, with the total number of matching items."""

    items: list[T]
    total: int
    offset: int
    limit: int


class PageParams(BaseModel):
    """Where a page starts and how long it is."""

    offset: int = 0
    limit: int = DEFAULT_LIMIT


def page_params(
    offset: Annotated[int, Query(ge=0, description="Items to skip")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page length")] = DEFAULT_LIMIT,
) -> PageParams:
    """The `offset` and `limit` query parameters of a list endpoint."""
    return PageParams(offset=offset, limit=limit)


PageDep = Annotated[PageParams, Depends(page_params)]


def _check_range(offset: int, limit: int) -> None:
    errors = []
    if offset < 0:
        errors.append({"type": "greater_than_equal", "loc": ("query", "offset"), "msg": "must be 0 or more"})
    if not 1 <= limit <= MAX_LIMIT:
        errors.append(
            {"type": "value_error", "loc": ("query", "limit"), "msg": f"must be between 1 and {MAX_LIMIT}"}
        )
    if errors:
        raise RequestValidationError(errors)


Statement = Select[Any] | SelectOfScalar[Any]


def _stable_order(statement: Statement) -> Statement:
    """The statement ordered as asked, then by the primary key of its first entity, so pages never overlap."""
    entity = statement.column_descriptions[0].get("entity")
    if entity is None:
        return statement
    return statement.order_by(*inspect(entity).primary_key)


def paginate(
    session: Session,
    statement: Statement,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
    *,
    to: Callable[[Any], T] | None = None,
) -> Page[T]:
    """Run one page of `statement` (and its count); `to` converts each row, e.g. `XPublic.model_validate`."""
    _check_range(offset, limit)
    total = session.exec(select(func.count()).select_from(statement.order_by(None).subquery())).one()
    rows = session.exec(_stable_order(statement).offset(offset).limit(limit)).all()
    items = [to(row) for row in rows] if to else list(rows)
    return Page(items=items, total=total, offset=offset, limit=limit)
