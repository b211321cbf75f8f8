"""The append-only chronology of a case: one place that writes it."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from store.casework import ChronologyEntry


def append(
    session: Session,
    *,
    case_id: str,
    actor: str,
    action: str,
    detail: str = "",
    at: dt.datetime | None = None,
    key: str | None = None,
) -> ChronologyEntry:
    """Add one entry (the caller commits); an entry whose key is already there is not added again."""
    if key is not None:
        query = select(ChronologyEntry).where(ChronologyEntry.case_id == case_id, ChronologyEntry.key == key)
        if (existing := session.exec(query).first()) is not None:
            return existing
    entry = ChronologyEntry(
        case_id=case_id, actor=actor, action=action, detail=detail, at=at or dt.datetime.now(dt.UTC), key=key
    )
    session.add(entry)
    return entry
