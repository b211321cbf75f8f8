"""Paged lists: `Page[T]` and `paginate` for any select, ordered stably so pages never overlap.

Counting every matching row costs as much as reading them all (a school's 200,000 deadlines took
15 ms to count on SQLite, 30 times the page itself), so `paginate` counts only up to a bound: the
next multiple of `COUNT_STEP` beyond the page. Below the bound `total` is exact; above it `total` is
the bound and `total_exact` is false ("more than 1,000"). Either way `has_more` says whether a next
page exists, so "Next" and page numbers up to `total` keep working.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field, computed_field
from sqlalchemy import BindParameter, Integer, bindparam, func, inspect, literal_column
from sqlmodel import Session, select
from sqlmodel.sql.expression import Select, SelectOfScalar

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
COUNT_STEP = 1_000  # rows are counted up to the next multiple of this beyond the page

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: its items, where it starts, and how many items match (exactly up to a bound)."""

    items: list[T]
    total: int = Field(
        description="Items that match; exact when `total_exact`, otherwise there are more than this"
    )
    offset: int
    limit: int
    total_exact: bool = Field(
        default=True,
        description="False when counting stopped at a bound beyond this page: more than `total` match",
    )

    @computed_field(description="Whether a page follows this one")  # type: ignore[prop-decorator]
    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total


Statement = Select[Any] | SelectOfScalar[Any]
Param = BindParameter[Any]  # a filter's value given later, as `listed` gives it
OFFSET, LIMIT, BOUND = (bindparam(name, type_=Integer) for name in ("offset", "limit", "bound"))


def _stable_order(statement: Statement) -> Statement:
    """The statement ordered as asked, then by the primary key of its first entity, so pages never overlap."""
    first = statement.column_descriptions[0]
    entity = first.get("entity")
    if entity is None or first.get("expr") is not entity or statement._distinct:
        return statement  # not a select of whole rows: no key to add (DISTINCT could not order by it)
    ordered = [getattr(clause, "element", clause) for clause in statement._order_by_clauses]
    missing = [key for key in inspect(entity).primary_key if not any(key.compare(o) for o in ordered)]
    # A key already in the order (e.g. `id DESC`) is not added again: the index that serves it is used.
    return statement.order_by(*missing) if missing else statement


def count_bound(offset: int, limit: int) -> int:
    """How far `paginate` counts: the next multiple of COUNT_STEP past the page's end."""
    return ((offset + limit) // COUNT_STEP + 1) * COUNT_STEP


@dataclass(frozen=True)
class Listing:
    """A list's two statements, with the page's place and the count's bound as bind parameters: the page
    (`:offset`, `:limit`) and its count of at most `:bound` rows."""

    page: Statement
    count: Statement

    @classmethod
    def of(cls, statement: Statement) -> Listing:
        probe = statement.order_by(None)
        if not (probe._distinct or probe._group_by_clauses):  # a constant would change those
            # A constant, unordered: the database counts from any index that serves the filter.
            probe = probe.with_only_columns(literal_column("1"), maintain_column_froms=True)
        return cls(
            page=_stable_order(statement).offset(OFFSET).limit(LIMIT),
            count=select(func.count()).select_from(probe.limit(BOUND).subquery()),
        )


@dataclass(frozen=True)
class Listed:
    """A listing and the values of its filters' bind parameters."""

    listing: Listing
    params: dict[str, Any]


def given(value: Any) -> bool:
    """A filter's value counts as given unless it is None or the empty string."""
    return value is not None and not (isinstance(value, str) and not value)


def listed(build: Callable[..., Statement], columns: tuple[str, ...], **filters: Any) -> Listed:
    """`build(columns=columns, **filters)` as a listing built once for each set of filters given (None and
    "" are not given), each filter a bind parameter: an often-read list builds no statement per request,
    and its statements' cache keys are computed once, not at every execution."""
    values = {name: value for name, value in filters.items() if given(value)}
    return Listed(_listing(build, columns, frozenset(values)), values)


@cache
def _listing(build: Callable[..., Statement], columns: tuple[str, ...], names: frozenset[str]) -> Listing:
    return Listing.of(build(columns=columns, **{name: bindparam(name) for name in names}))


def bounded_count(session: Session, query: Listed, bound: int) -> tuple[int, bool]:
    """The rows the listing matches, counted up to `bound`: (count, exact); (bound, False) if more match."""
    counted = session.exec(query.listing.count, params={**query.params, "bound": bound + 1}).one()
    return (counted, True) if counted <= bound else (bound, False)


def paginate(
    session: Session,
    statement: Statement | Listed,
    offset: int = 0,
    limit: int = DEFAULT_LIMIT,
    *,
    to: Callable[[Any], T] | None = None,
) -> Page[T]:
    """One page of `statement` and its bounded count; `to` converts each row (`XPublic.model_validate`)."""
    if offset < 0 or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"a page needs offset >= 0 and limit between 1 and {MAX_LIMIT}")
    query = statement if isinstance(statement, Listed) else Listed(Listing.of(statement), {})
    page = {**query.params, "offset": offset, "limit": limit}
    rows = session.exec(query.listing.page, params=page).all()
    if 0 < len(rows) < limit or (offset == 0 and not rows):
        total, exact = offset + len(rows), True  # the list ends on this page: nothing more to count
    else:
        total, exact = bounded_count(session, query, count_bound(offset, limit))
    items = [to(row) for row in rows] if to else list(rows)
    return Page(items=items, total=total, offset=offset, limit=limit, total_exact=exact)
