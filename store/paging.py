"""Paged lists: `Page[T]` and `paginate` for any select, ordered stably so pages never overlap."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

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
    if offset < 0 or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"a page needs offset >= 0 and limit between 1 and {MAX_LIMIT}")
    total = session.exec(select(func.count()).select_from(statement.order_by(None).subquery())).one()
    rows = session.exec(_stable_order(statement).offset(offset).limit(limit)).all()
    items = [to(row) for row in rows] if to else list(rows)
    return Page(items=items, total=total, offset=offset, limit=limit)
