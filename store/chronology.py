"""The append-only chronology of a case: one place that writes it."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from store.casework import ChronologyEntry


def append(
    session: Session,
    *,
    case_id: str,
    actor: str,
    action: str,
    detail: str = "",
    at: dt.datetime | None = None,
) -> ChronologyEntry:
    """Add one entry (the caller commits). actor is 'staff:<id>' or 'engine'."""
    entry = ChronologyEntry(
        case_id=case_id, actor=actor, action=action, detail=detail, at=at or dt.datetime.now(dt.UTC)
    )
    session.add(entry)
    return entry
