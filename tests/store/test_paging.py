"""Paged lists on SQLite and PostgreSQL: exact totals for short lists, a bounded count for long ones."""

from __future__ import annotations

from sqlalchemy import insert
from sqlmodel import Session, col, select

from store.paging import COUNT_STEP, paginate
from store.register import Agency, AgencyKind

LONG = 2 * COUNT_STEP + 345


def agencies(session: Session, n: int, la: str = "Kent") -> list[int]:
    """n agencies in one LA, inserted in one statement; their ids in list order."""
    kinds = list(AgencyKind)
    rows = [
        {"kind": kinds[i % len(kinds)], "name": f"Agency {i:05d}", "email": f"a{i}@example.org"}
        | {"local_authority": la}
        for i in range(n)
    ]
    session.execute(insert(Agency), rows)
    session.commit()
    return list(session.exec(select(Agency.id).where(Agency.local_authority == la).order_by(Agency.name)))


def by_name(la: str = "Kent"):  # type: ignore[no-untyped-def]
    return select(Agency).where(Agency.local_authority == la).order_by(col(Agency.name))


def test_a_short_list_has_its_exact_total_and_no_next_page(db_session: Session) -> None:
    ids = agencies(db_session, 30)
    page = paginate(db_session, by_name(), 0, 50)
    assert [a.id for a in page.items] == ids
    assert (page.total, page.total_exact, page.has_more) == (30, True, False)
    second = paginate(db_session, by_name(), 20, 10)
    assert ([a.id for a in second.items], second.total, second.has_more) == (ids[20:], 30, False)
    assert paginate(db_session, by_name("Essex"), 0, 50).model_dump() == {
        "items": [],
        "total": 0,
        "offset": 0,
        "limit": 50,
        "total_exact": True,
        "has_more": False,
    }


def test_a_long_list_is_counted_to_a_bound_past_the_page_and_every_page_still_links_on(
    db_session: Session,
) -> None:
    ids = agencies(db_session, LONG)
    agencies(db_session, 7, la="Essex")  # another LA's rows are neither listed nor counted
    first = paginate(db_session, by_name(), 0, 50)
    assert [a.id for a in first.items] == ids[:50]
    assert (first.total, first.total_exact, first.has_more) == (COUNT_STEP, False, True)
    # A page that ends past the first bound counts on to the next one.
    later = paginate(db_session, by_name(), COUNT_STEP - 50, 100)
    assert [a.id for a in later.items] == ids[COUNT_STEP - 50 : COUNT_STEP + 50]
    assert (later.total, later.total_exact, later.has_more) == (2 * COUNT_STEP, False, True)
    # Near the end the count is exact again, and the last page says nothing follows.
    last = paginate(db_session, by_name(), LONG - 45, 50)
    assert [a.id for a in last.items] == ids[-45:]
    assert (last.total, last.total_exact, last.has_more) == (LONG, True, False)
    exactly_full = paginate(db_session, by_name(), LONG - 50, 50)
    assert (exactly_full.total, exactly_full.total_exact, exactly_full.has_more) == (LONG, True, False)
    past_the_end = paginate(db_session, by_name(), LONG + 10, 50)
    assert (past_the_end.items, past_the_end.total, past_the_end.has_more) == ([], LONG, False)


def test_following_has_more_visits_every_row_once_in_order(db_session: Session) -> None:
    ids = agencies(db_session, COUNT_STEP + 20)
    seen: list[int] = []
    offset = 0
    while True:
        page = paginate(db_session, by_name(), offset, 300)
        seen += [a.id for a in page.items]
        if not page.has_more:
            break
        offset += page.limit
    assert seen == ids
    assert (page.total, page.total_exact) == (len(ids), True)


def test_a_distinct_select_is_counted_by_its_distinct_rows(db_session: Session) -> None:
    agencies(db_session, 60)
    kinds = select(Agency.kind).distinct().order_by(Agency.kind)
    page = paginate(db_session, kinds, 0, 2)
    assert (len(page.items), page.total, page.total_exact) == (2, len(AgencyKind), True)
