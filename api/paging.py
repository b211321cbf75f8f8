"""The `PageDep` query parameters of every list endpoint (the paging itself is store.paging).

The case and deadline lists, read most often, run on the event loop, as the token lookup does: a page of
prebuilt statements (`listed`) over indexes, counted to a bound, takes about a millisecond, less than the
hop to a worker thread and back.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from pydantic import BaseModel

from store.paging import DEFAULT_LIMIT, MAX_LIMIT, Page, listed, paginate

__all__ = ["Page", "PageDep", "PageParams", "listed", "paginate"]


class PageParams(BaseModel):
    """Where a page starts and how long it is."""

    offset: int = 0
    limit: int = DEFAULT_LIMIT


async def page_params(
    offset: Annotated[int, Query(ge=0, le=2**31 - 1, description="Items to skip")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page length")] = DEFAULT_LIMIT,
) -> PageParams:
    """The `offset` and `limit` query parameters of a list endpoint."""
    return PageParams(offset=offset, limit=limit)


PageDep = Annotated[PageParams, Depends(page_params)]
