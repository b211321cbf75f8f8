"""The migrations on SQLite and PostgreSQL: head matches the models, data survives, downgrades work, and a
database made by create_all before migrations is taken over. Each test gets a new, empty database."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from domain.deadline_states import DeadlineState
from engine import cli
from engine.seed import seed_demo
from infra.database import make_engine
from store.casework import Approval, ApprovalStatus, Case, Deadline
from store.migrate import ENGINE_KIT, INITIAL, current_revision, downgrade_to, head_revision, upgrade_to_head
from store.register import Pupil, Staff
from store.tokens import staff_for_token
from tests.fixtures.postgres import DATABASES, _admin, _with_database

CASE_ID = "3f0c9a8e-0000-4000-8000-000000000001"
T0 = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)
APP_TABLES = {table.name for table in SQLModel.metadata.sorted_tables}
ENUM_TYPES = {
    "agencykind",
    "senprovision",
    "role",
    "casestatus",
    "deadlinestatus",
    "outboxstatus",
    "approvalstatus",
}


@pytest.fixture(params=DATABASES)
def blank(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a new, empty database of its own: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'send.db'}"
        name = None
    else:
        server = request.getfixturevalue("postgres_url")
        name = f"send_migrate_{uuid.uuid4().hex[:12]}"
        _admin(server, f'CREATE DATABASE "{name}"')
        url = _with_database(server, name)
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        if name is not None:
            _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def differences(engine: Engine) -> list:
    """What autogenerate would write to bring the database to the models: nothing, when they agree."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, SQLModel.metadata)


def tables(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def columns(engine: Engine, table: str) -> dict[str, sa.types.TypeEngine]:
    return {c["name"]: c["type"] for c in sa.inspect(engine).get_columns(table)}


def enum_types(engine: Engine) -> set[str]:
    if engine.dialect.name != "postgresql":
        return set()
    with engine.connect() as conn:
        return set(conn.scalars(sa.text("SELECT typname FROM pg_type WHERE typtype = 'e'")))


def revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return current_revision(conn)


def insert_case_as_of_0001(engine: Engine, *, deadline_status: str = "missed") -> None:
    """A case with a deadline and an approval, written with the SQL of the 0001 schema (no ORM)."""
    at = sa.bindparam("at", T0, type_=sa.DateTime(timezone=True))
    due = sa.bindparam("due", dt.date(2026, 1, 2), type_=sa.Date())
    with engine.begin() as conn:
        pupil_id, school_id = conn.execute(sa.text("SELECT id, school_id FROM pupil ORDER BY id")).first()
        staff_id = conn.scalar(sa.text("SELECT id FROM staff ORDER BY id"))
        ids = {"case_id": CASE_ID, "pupil": pupil_id, "school": school_id, "staff": staff_id}
        conn.execute(
            sa.text(
                'INSERT INTO "case" (id, process, workflow_id, pupil_id, school_id, status, step,'
                " next_action, flags, facts, started_by, started_at, updated_at)"
                " VALUES (:case_id, 'annual_review', :workflow_id, :pupil, :school, 'open', 'invite',"
                " 'Send the invitations', '[]', '{\"plan_issued\": \"2025-03-01\"}', :staff, :at, :at)"
            ).bindparams(at),
            ids | {"workflow_id": f"annual_review-{CASE_ID}"},
        )
        conn.execute(
            sa.text(
                "INSERT INTO deadline (case_id, school_id, key, step, rule_id, owner, due, status, missed_at)"
                " VALUES (:case_id, :school, 'invite-1', 'invite', 'AR-INVITE', 'sendco', :due, :status, :at)"
            ).bindparams(at, due),
            ids | {"status": deadline_status},
        )
        conn.execute(
            sa.text(
                "INSERT INTO approval (case_id, key, step, summary, status, requested_at)"
                " VALUES (:case_id, 'approve-1', 'approve', 'Approve the report', 'pending', :at)"
            ).bindparams(at),
            ids,
        )


def seed(engine: Engine, tmp_path: Path) -> dict[str, str]:
    """The demo data, as the database's revision holds it: seeded at head, then copied column by column
    into an older schema (the models have columns a database before a later revision does not)."""
    if revision(engine) == head_revision():
        with Session(engine) as session:
            tokens = seed_demo(session, tmp_path / "demo-tokens.json")
        assert tokens
        return tokens
    scratch = make_engine(f"sqlite:///{tmp_path / 'seed-at-head.db'}")
    upgrade_to_head(scratch)
    with Session(scratch) as session:
        tokens = seed_demo(session, tmp_path / "demo-tokens.json")
    held = sa.inspect(engine)
    present = {name: {c["name"] for c in held.get_columns(name)} for name in held.get_table_names()}
    with scratch.connect() as source, engine.begin() as target:
        for table in SQLModel.metadata.sorted_tables:
            rows = [dict(row._mapping) for row in source.execute(table.select())]
            if rows and table.name in present:
                kept = [{k: v for k, v in row.items() if k in present[table.name]} for row in rows]
                target.execute(table.insert(), kept)
                if engine.dialect.name == "postgresql" and "id" in present[table.name]:
                    sequence = f"pg_get_serial_sequence('\"{table.name}\"', 'id')"
                    target.execute(sa.text(f'SELECT setval({sequence}, max(id)) FROM "{table.name}"'))
    scratch.dispose()
    assert tokens
    return tokens


def test_an_empty_database_upgraded_to_head_matches_the_models(blank: Engine) -> None:
    assert upgrade_to_head(blank) == (None, head_revision())
    assert differences(blank) == []
    assert tables(blank) >= APP_TABLES
    # Once at head, upgrading again changes nothing.
    assert upgrade_to_head(blank) == (head_revision(), head_revision())


def test_demo_data_and_a_missed_deadline_survive_the_upgrade_from_0001(blank: Engine, tmp_path: Path) -> None:
    upgrade_to_head(blank, INITIAL)
    assert revision(blank) == INITIAL
    assert "view" not in columns(blank, "case")
    tokens = seed(blank, tmp_path)
    insert_case_as_of_0001(blank, deadline_status="missed")

    upgrade_to_head(blank)

    assert revision(blank) == head_revision()
    assert differences(blank) == []
    with Session(blank) as session:
        assert len(session.exec(select(Pupil)).all()) == 5
        assert {s.email for s in session.exec(select(Staff))} >= {"sendco@oakfield.example.org"}
        for token in tokens.values():  # every demo sign-in still works
            assert staff_for_token(session, token) is not None
        case = session.get(Case, CASE_ID)
        assert case is not None
        assert case.view == {}
        assert case.facts == {"plan_issued": "2025-03-01"}
        assert case.recorded_at is None
        assert case.started_at == T0
        deadline = session.exec(select(Deadline).where(Deadline.case_id == CASE_ID)).one()
        assert deadline.status is DeadlineState.missed
        assert deadline.missed_at == T0
        assert deadline.recorded_at is None
        approval = session.exec(select(Approval).where(Approval.case_id == CASE_ID)).one()
        assert approval.status is ApprovalStatus.pending
        assert approval.recorded_at is None

        # The new status can be written and read back.
        deadline.status = DeadlineState.met_late
        deadline.completed_at = deadline.recorded_at = T0 + dt.timedelta(days=3)
        session.add(deadline)
        session.commit()
    with blank.connect() as conn:
        stored = conn.scalar(sa.text("SELECT status FROM deadline WHERE case_id = :c"), {"c": CASE_ID})
    assert stored == "met_late"
    with Session(blank) as session:
        again = session.exec(select(Deadline).where(Deadline.case_id == CASE_ID)).one()
        assert again.status is DeadlineState.met_late
        assert again.recorded_at == T0 + dt.timedelta(days=3)
    assert "deadlinestatus" not in enum_types(blank)


def test_downgrades_go_from_head_to_0001_to_an_empty_database(blank: Engine, tmp_path: Path) -> None:
    upgrade_to_head(blank)
    seed(blank, tmp_path)
    with Session(blank) as session:
        pupil = session.exec(select(Pupil)).first()
        staff = session.exec(select(Staff)).first()
        assert pupil is not None and staff is not None
        session.add(
            Case(
                id=CASE_ID,
                process="annual_review",
                workflow_id=f"annual_review-{CASE_ID}",
                pupil_id=pupil.id,
                school_id=pupil.school_id,
                started_by=staff.id,
                started_at=T0,
                updated_at=T0,
                view={"step": "invite"},
            )
        )
        session.add(
            Deadline(
                case_id=CASE_ID,
                school_id=pupil.school_id,
                key="invite-1",
                step="invite",
                rule_id="AR-INVITE",
                owner="sendco",
                due=dt.date(2026, 1, 2),
                status=DeadlineState.met_late,
                recorded_at=T0,
            )
        )
        session.commit()

    downgrade_to(blank, INITIAL)

    assert revision(blank) == INITIAL
    assert "view" not in columns(blank, "case") and "recorded_at" not in columns(blank, "case")
    assert "recorded_at" not in columns(blank, "deadline")
    assert "recorded_at" not in columns(blank, "approval")
    with blank.connect() as conn:
        # The old statuses have no met_late: done late is kept as done.
        assert conn.scalar(sa.text("SELECT status FROM deadline")) == "met"
        assert conn.scalar(sa.text('SELECT count(*) FROM "case"')) == 1
        assert conn.scalar(sa.text("SELECT count(*) FROM pupil")) == 5
    if blank.dialect.name == "postgresql":
        assert enum_types(blank) >= ENUM_TYPES
        assert columns(blank, "deadline")["status"].name == "deadlinestatus"

    downgrade_to(blank, "base")

    assert tables(blank) - {"alembic_version"} == set()
    assert revision(blank) is None
    assert enum_types(blank) == set()
    # And back up again from nothing.
    upgrade_to_head(blank)
    assert differences(blank) == []


def test_a_database_made_by_create_all_is_stamped_and_upgraded(blank: Engine, tmp_path: Path) -> None:
    # What a developer's var/send.db looks like: the 0001 tables, with data, and no alembic_version.
    upgrade_to_head(blank, INITIAL)
    seed(blank, tmp_path)
    insert_case_as_of_0001(blank)
    with blank.begin() as conn:
        conn.execute(sa.text("DROP TABLE alembic_version"))
    assert "alembic_version" not in tables(blank)

    assert upgrade_to_head(blank.url.render_as_string(hide_password=False)) == (INITIAL, head_revision())

    assert differences(blank) == []
    with Session(blank) as session:
        case = session.get(Case, CASE_ID)
        assert case is not None and case.view == {}
        assert session.exec(select(Deadline)).one().status is DeadlineState.missed


def test_send_engine_migrate_reports_the_test_database_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["migrate"]) == 0
    assert capsys.readouterr().out.strip() == f"the database is up to date at {head_revision()}"


def test_a_database_made_by_create_all_with_the_engine_kit_models_is_stamped_at_0002(blank: Engine) -> None:
    # create_all from the engine kit's models, before migrations: the 0002 columns are already there.
    upgrade_to_head(blank, ENGINE_KIT)
    with blank.begin() as conn:
        conn.execute(sa.text("DROP TABLE alembic_version"))

    assert upgrade_to_head(blank)[0] == ENGINE_KIT
    assert revision(blank) == head_revision()
