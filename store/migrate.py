"""Schema migrations: bring a database to the newest revision of store/migrations (Alembic).

Every schema change is a revision there; `make run` and `send-engine migrate` call `upgrade_to_head`.
A database made by `create_all` before migrations existed (a `case` table, no `alembic_version`) holds
revision 0001_initial: it is stamped so, then upgraded like any other.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

from infra.database import make_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
INITIAL = "0001_initial"
ENGINE_KIT = "0002_engine_kit"


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration from code (no alembic.ini needed), on the given connection if any."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision in store/migrations."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "store/migrations has no revision"
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at; None for an empty database (or one made by create_all)."""
    revision = MigrationContext.configure(connection).get_current_revision()
    connection.rollback()
    return revision


def _made_by_create_all(connection: Connection) -> str | None:
    """The revision a database made by create_all holds (None if migrations made it, or it is empty).

    Before this change create_all made the 0001 schema; for a short while before that, the engine kit's
    models already had `case.view`, which is what 0002 adds.
    """
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    made = None
    if "case" in tables and "alembic_version" not in tables:
        has_view = any(column["name"] == "view" for column in inspector.get_columns("case"))
        made = ENGINE_KIT if has_view else INITIAL
    connection.rollback()
    return made


def _with(engine_or_url: Engine | str) -> tuple[Engine, bool]:
    if isinstance(engine_or_url, Engine):
        return engine_or_url, False
    return make_engine(engine_or_url), True


def upgrade_to_head(engine_or_url: Engine | str, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade the database to `revision` (the newest by default); (revision before, revision after)."""
    engine, own = _with(engine_or_url)
    try:
        with engine.connect() as connection:
            if stamp := _made_by_create_all(connection):
                command.stamp(alembic_config(connection), stamp)
            before = current_revision(connection)
            command.upgrade(alembic_config(connection), revision)
            return before, current_revision(connection)
    finally:
        if own:
            engine.dispose()


def downgrade_to(engine_or_url: Engine | str, revision: str) -> None:
    """Downgrade the database to `revision` ("base": no table at all)."""
    engine, own = _with(engine_or_url)
    try:
        with engine.connect() as connection:
            command.downgrade(alembic_config(connection), revision)
    finally:
        if own:
            engine.dispose()
