"""Bulk rows for the list-latency measurement: pupils, cases and their deadlines, by SQLAlchemy core."""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import bindparam, event, func, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from api.public import DeadlinePublic
from api.routes.cases import CASE_COLUMNS
from store import case_service
from store.casework import Case, CaseStatus, Deadline, DeadlineStatus
from store.paging import listed, paginate
from store.register import Parent, Pupil, PupilParent, School, Staff

BENCH_PUPIL = "Bench Pupil"
BENCH_PARENT = "Bench Parent"
BENCH_SCHOOL = "Bench School"
CHUNK = 5_000
BULK_CACHE_KIB = 256 * 1024  # SQLite page cache while loading: the indexes of 300,000 rows stay in memory
STEPS = [
    ("preparing", "Gather the educational record and submit it for the headteacher's approval"),
    ("awaiting-approval", "The headteacher approves releasing the record"),
    ("disclosing", "Give the parent access to the record, then record the date"),
]
DEADLINES = [("respond", "respond", "TR-RECORDS-ACCESS"), ("review-due", "review-due", "AR-DUE")]


def count(engine: Engine, table: Any, **where: Any) -> int:
    """Rows in a table (with the given column values)."""
    table = getattr(table, "__table__", table)
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


@contextmanager
def bulk(engine: Engine) -> Iterator[Connection]:
    """One transaction for a bulk load; on SQLite with a page cache big enough for the indexes it grows."""
    with engine.begin() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:  # this connection only, and only while loading (the API is another process)
            conn.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        try:
            yield conn
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA cache_size = -2000")


def _insert(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert the rows (each with the same keys); on SQLite straight through the driver's executemany."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        for i in range(0, len(rows), CHUNK):
            conn.execute(insert(table), rows[i : i + CHUNK])
        return
    # Each value converted once by its column type's own bind processor (the same text SQLAlchemy would
    # store), without SQLAlchemy building a parameter dict per row: half the load time.
    compiled = insert(table).values({name: bindparam(name) for name in rows[0]}).compile(dialect=conn.dialect)
    names = list(compiled.positiontup or [])
    convert = [table.c[name].type._cached_bind_processor(conn.dialect) for name in names]
    values = [
        tuple(
            v if f is None or v is None else f(v) for f, v in zip(convert, map(row.get, names), strict=True)
        )
        for row in rows
    ]
    conn.exec_driver_sql(str(compiled), values)


def demo_school(engine: Engine) -> int:
    """The id of the first school (the demo school the bench signs in to)."""
    with engine.connect() as conn:
        return int(conn.execute(select(School.id).order_by(School.id)).scalars().first())


def add_pupils(engine: Engine, total: int, seed: int = 1) -> int:
    """Add bench pupils, each with a parent, until the register holds `total` pupils; how many were added."""
    rng = random.Random(seed)
    school_id = demo_school(engine)
    missing = max(0, total - count(engine, Pupil.__table__))
    pupils = [
        {
            "school_id": school_id,
            "legal_name": f"{BENCH_PUPIL} {i}",
            "date_of_birth": dt.date(2008, 9, 1) + dt.timedelta(days=rng.randrange(365 * 12)),
            "year_group": rng.randrange(0, 12),
            "sen_provision": "E",  # an annual review needs an EHC plan
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
    if not missing:
        return 0
    with bulk(engine) as conn:
        _insert(conn, Pupil.__table__, pupils)
        _insert(conn, Parent.__table__, parents)
        # The pupils and parents just added are the newest of each: link them one to one.
        newest = [
            list(conn.execute(select(t.id).order_by(t.id.desc()).limit(missing)).scalars())[::-1]
            for t in (Pupil, Parent)
        ]
        links = [{"pupil_id": a, "parent_id": b} for a, b in zip(*newest, strict=True)]
        _insert(conn, PupilParent.__table__, links)
    return missing


def bench_pupil_ids(engine: Engine, n: int) -> list[int]:
    """The ids of the first n bench pupils."""
    query = select(Pupil.id).where(Pupil.legal_name.startswith(BENCH_PUPIL)).order_by(Pupil.id).limit(n)
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


def add_schools(engine: Engine, total: int) -> list[int]:
    """Schools (each with a SENDCo) until there are `total`; every school's id, the demo school first."""
    with engine.connect() as conn:
        have = list(conn.execute(select(School.id).order_by(School.id)).scalars())
    extra = range(len(have), total)
    with bulk(engine) as conn:
        _insert(
            conn,
            School.__table__,
            [
                {
                    "name": f"{BENCH_SCHOOL} {i}",
                    "local_authority": "Kent",
                    "terms": [],
                    "inset_days": [],
                    "sendco_working_days": [1, 3],
                }
                for i in extra
            ],
        )
        ids = list(conn.execute(select(School.id).order_by(School.id)).scalars())
        _insert(
            conn,
            Staff.__table__,
            [
                {
                    "school_id": school_id,
                    "name": f"{BENCH_SCHOOL} SENDCo {school_id}",
                    "email": f"sendco.{school_id}@bench.example.org",
                    "role": "sendco",
                }
                for school_id in ids[len(have) :]
            ],
        )
    return ids


def add_cases(
    engine: Engine,
    n: int,
    process: str,
    *,
    schools: list[int] | None = None,
    per_case: int = 2,
    seed: int = 2,
) -> tuple[int, int]:
    """Add n open and closed cases (`per_case` deadlines each), dealt round the schools; rows added.

    Built as plain rows and inserted by SQLAlchemy core in one transaction (about 10 s per 100,000 cases
    and 200,000 deadlines on SQLite). Reproducible: the same seed gives the same rows.
    """
    rng = random.Random(seed)
    with engine.connect() as conn:
        school_ids = schools or [demo_school(engine)]
        sendcos = dict(
            conn.execute(
                select(Staff.school_id, func.min(Staff.id))
                .where(Staff.role == "sendco")
                .group_by(Staff.school_id)
            ).all()
        )
        pupil_ids = list(conn.execute(select(Pupil.id)).scalars())
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    today = now.date()
    minutes = 2 * 365 * 24 * 60
    cases, deadlines = [], []
    # In id order: the four indexes keyed by case id (and the table) then grow at their ends.
    case_ids = sorted(str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(n))
    for i, case_id in enumerate(case_ids):
        school_id = school_ids[i % len(school_ids)]
        started = now - dt.timedelta(minutes=rng.randrange(minutes), seconds=rng.randrange(60))
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
                "view": {},
                "started_by": sendcos[school_id],
                "started_at": started,
                "updated_at": started,
                "closed_at": started + dt.timedelta(days=10) if closed else None,
            }
        )
        for key, dstep, rule_id in DEADLINES[:per_case]:
            deadlines.append(
                {
                    "case_id": case_id,
                    "school_id": school_id,
                    "key": key,
                    "step": dstep,
                    "rule_id": rule_id,
                    "owner": "sendco",
                    "due": today + dt.timedelta(days=rng.randrange(-400, 400)),
                    "status": DeadlineStatus.met if closed else DeadlineStatus.pending,
                    "met_at": started + dt.timedelta(days=9) if closed else None,
                }
            )
    with bulk(engine) as conn:
        _insert(conn, Case.__table__, cases)
        _insert(conn, Deadline.__table__, deadlines)
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
    """Each list route's first page (paginate over its listing) in-process: median ms, SQLite plans."""
    with engine.connect() as conn:
        school_id = conn.execute(select(School.id)).scalars().first()
    queries = {
        "cases": listed(case_service.cases_query, CASE_COLUMNS, school_id=school_id),
        "deadlines": listed(case_service.deadlines_query, DeadlinePublic.COLUMNS, school_id=school_id),
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
