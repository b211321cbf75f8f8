"""Bulk rows for the list-latency measurement: pupils, cases and their deadlines, by SQLAlchemy core."""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, func, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from store import case_service
from store.casework import Case, CaseStatus, Deadline, DeadlineStatus
from store.paging import paginate
from store.register import Parent, Pupil, PupilParent, School, Staff

BENCH_PUPIL = "Bench Pupil"
BENCH_PARENT = "Bench Parent"
CHUNK = 5_000
STEPS = [
    ("preparing", "Gather the educational record and submit it for the headteacher's approval"),
    ("awaiting-approval", "The headteacher approves releasing the record"),
    ("disclosing", "Give the parent access to the record, then record the date"),
]
DEADLINES = [("respond", "respond", "TR-RECORDS-ACCESS"), ("review-due", "review-due", "AR-DUE")]


def count(engine: Engine, table: Any) -> int:
    """Rows in a table."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _insert(engine: Engine, table: Any, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        for i in range(0, len(rows), CHUNK):
            conn.execute(insert(table), rows[i : i + CHUNK])


def add_pupils(engine: Engine, total: int, seed: int = 1) -> int:
    """Add bench pupils, each with a parent, until the register holds `total` pupils; how many were added."""
    rng = random.Random(seed)
    with engine.connect() as conn:
        school_id = conn.execute(select(School.id)).scalars().first()
    missing = max(0, total - count(engine, Pupil))
    pupils = [
        {
            "school_id": school_id,
            "legal_name": f"{BENCH_PUPIL} {i}",
            "date_of_birth": dt.date(2008, 9, 1) + dt.timedelta(days=rng.randrange(365 * 12)),
            "year_group": rng.randrange(0, 12),
            "sen_provision": "K",
            "needs": ["SPLD"],
            "local_authority": "Kent",
        }
        for i in range(missing)
    ]
    parents = [
        {
            "name": f"{BENCH_PARENT} {i}",
            "email": f"bench.parent.{i}@parents.example.org",
            "relationship": "parent",
        }
        for i in range(missing)
    ]
    _insert(engine, Pupil.__table__, pupils)
    _insert(engine, Parent.__table__, parents)
    with engine.connect() as conn:
        pupil_ids = conn.execute(
            select(Pupil.id).where(Pupil.legal_name.startswith(BENCH_PUPIL)).order_by(Pupil.id)
        ).scalars()
        parent_ids = conn.execute(
            select(Parent.id).where(Parent.name.startswith(BENCH_PARENT)).order_by(Parent.id)
        ).scalars()
        links = [{"pupil_id": a, "parent_id": b} for a, b in zip(pupil_ids, parent_ids, strict=True)]
    _insert(engine, PupilParent.__table__, links)
    return missing


def bench_pupil_ids(engine: Engine, n: int) -> list[int]:
    """The ids of the first n bench pupils."""
    query = select(Pupil.id).where(Pupil.legal_name.startswith(BENCH_PUPIL)).order_by(Pupil.id).limit(n)
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


def add_cases(engine: Engine, total: int, process: str, per_case: int = 2, seed: int = 2) -> tuple[int, int]:
    """Add open and closed cases (with `per_case` deadlines each) until there are `total`; rows added."""
    rng = random.Random(seed)
    with engine.connect() as conn:
        school_id = conn.execute(select(School.id)).scalars().first()
        staff_id = conn.execute(select(Staff.id).where(Staff.role == "sendco")).scalars().first()
        pupil_ids = list(conn.execute(select(Pupil.id)).scalars())
    now = dt.datetime.now(dt.UTC)
    today = now.date()
    cases, deadlines = [], []
    for _ in range(max(0, total - count(engine, Case))):
        case_id = str(uuid.uuid4())
        started = now - dt.timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
        closed = rng.random() < 0.3
        step, next_action = (
            ("closed", "Nothing: the request has been answered") if closed else rng.choice(STEPS)
        )
        cases.append(
            {
                "id": case_id,
                "process": process,
                "workflow_id": f"{process}-{case_id}",
                "pupil_id": rng.choice(pupil_ids),
                "school_id": school_id,
                "status": CaseStatus.closed if closed else CaseStatus.open,
                "step": step,
                "next_action": next_action,
                "flags": [],
                "facts": {"request_received": started.date().isoformat()},
                "started_by": staff_id,
                "started_at": started,
                "updated_at": started,
                "closed_at": started + dt.timedelta(days=10) if closed else None,
            }
        )
        for key, dstep, rule_id in DEADLINES[:per_case]:
            due = today + dt.timedelta(days=rng.randrange(-400, 400))
            status = DeadlineStatus.met if closed else DeadlineStatus.pending
            deadlines.append(
                {
                    "case_id": case_id,
                    "school_id": school_id,
                    "key": key,
                    "step": dstep,
                    "rule_id": rule_id,
                    "owner": "sendco",
                    "due": due,
                    "status": status,
                    "met_at": started + dt.timedelta(days=9) if closed else None,
                }
            )
    _insert(engine, Case.__table__, cases)
    _insert(engine, Deadline.__table__, deadlines)
    return len(cases), len(deadlines)


def _median_ms(run: Callable[[], object], repeat: int) -> float:
    """Median wall time of run(), in ms."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 2)


def _statements(engine: Engine, run: Callable[[], object]) -> list[tuple[str, Any]]:
    """The SQL statements (and parameters) that run() executes on the engine."""
    executed: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        executed.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return executed


def explain(engine: Engine, limit: int = 50, repeat: int = 10) -> dict[str, dict[str, Any]]:
    """Each list route's first page (paginate over the school's query) in-process: median ms, SQLite plans."""
    with engine.connect() as conn:
        school_id = conn.execute(select(School.id)).scalars().first()
    queries = {
        "cases": case_service.cases_query(school_id=school_id),
        "deadlines": case_service.deadlines_query(school_id=school_id),
    }
    out: dict[str, dict[str, Any]] = {}
    for name, query in queries.items():

        def first_page(query: Any = query) -> None:
            with Session(engine) as session:
                paginate(session, query, 0, limit)

        executed = _statements(engine, first_page)
        with engine.connect() as conn:
            plans = [
                {
                    "sql": " ".join(sql.split()),
                    "median_ms": _median_ms(
                        lambda sql=sql, params=params: conn.exec_driver_sql(sql, params).all(), repeat
                    ),
                    "plan": [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)],
                }
                for sql, params in executed
            ]
        out[name] = {"median_ms": _median_ms(first_page, repeat), "statements": plans}
    return out
