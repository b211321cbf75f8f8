"""The records activity: a write that keeps failing is logged and seen on the case, then cleared."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid

import pytest
from sqlmodel import Session
from temporalio.testing import ActivityEnvironment

import activities.records as records
from domain.schemas import CaseProgress, CaseRecord, ChronologyNote
from store import case_service
from store.casework import Case

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def env_at_attempt(attempt: int) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=attempt)
    return env


@pytest.fixture
def case_id(engine, school, pupil, sendco) -> str:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        case = case_service.open_case(
            s,
            case_id=str(uuid.uuid4()),
            process="records_request",
            pupil_id=pupil.id,
            school_id=school.id,
            started_by=sendco[0].id,
            facts={},
        )
    return case.id


def flags(engine, case_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        case = s.get(Case, case_id)
        assert case is not None
        return list(case.flags)


async def test_a_write_that_keeps_failing_is_logged_and_flags_the_case(
    engine, case_id, monkeypatch, caplog
) -> None:  # type: ignore[no-untyped-def]
    record = CaseRecord(
        case_id=case_id,
        at=NOW,
        notes=[ChronologyNote(at=NOW, actor="engine", action="reminder-sent", key=f"{case_id}:1")],
    )

    def database_down(*_args: object, **_kwargs: object) -> None:
        raise ConnectionError("the database is unreachable")

    monkeypatch.setattr(records, "write_case_record", database_down)
    caplog.set_level(logging.ERROR, logger="activities.records")
    for attempt in (1, 2):  # the first retries are quiet on the case, but logged
        with pytest.raises(ConnectionError):
            await env_at_attempt(attempt).run(records.record_case, record)
    assert flags(engine, case_id) == []
    with pytest.raises(ConnectionError):
        await env_at_attempt(3).run(records.record_case, record)
    assert flags(engine, case_id) == ["records-failing"]
    logged = [r.getMessage() for r in caplog.records]
    assert logged == [
        f"case {case_id}: record write failed (attempt {n}): ConnectionError" for n in (1, 2, 3)
    ]

    monkeypatch.undo()  # the database is back: the next write goes through and clears the flag
    later = CaseRecord(case_id=case_id, at=NOW, progress=CaseProgress(step="preparing", next_action="Gather"))
    await env_at_attempt(4).run(records.record_case, later)
    assert flags(engine, case_id) == []
