"""The append-only chronology of a case: one place that writes it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import Session, col, select

from domain.schemas import ChronologyNote
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


def append_notes(session: Session, case_id: str, notes: Sequence[ChronologyNote]) -> None:
    """Add a workflow's notes, each once by its key (one query for them all; the caller commits)."""
    keys = {note.key for note in notes if note.key is not None}
    known = set(
        session.exec(
            select(ChronologyEntry.key).where(
                ChronologyEntry.case_id == case_id, col(ChronologyEntry.key).in_(keys)
            )
        ).all()
        if keys
        else ()
    )
    for note in notes:
        if note.key is not None and note.key in known:
            continue
        known.add(note.key)
        session.add(ChronologyEntry(case_id=case_id, **note.model_dump()))  # at, actor, action, detail, key
