"""Alembic's environment: the app's tables as the target; the database from the settings or a caller.

`store.migrate.upgrade_to_head` passes its own connection in `config.attributes["connection"]`; the
`alembic` command line (alembic.ini at the root) opens one from SEND_DATABASE_URL or the SQLite default.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import store.case_files
import store.casework
import store.ep_allocation
import store.funding
import store.links
import store.provision
import store.register  # noqa: F401  (every table registers itself on SQLModel.metadata)
from infra.database import make_engine
from infra.settings import get_settings

config = context.config
if config.config_file_name is not None:  # the command line: its log lines as alembic.ini sets them
    fileConfig(config.config_file_name, disable_existing_loggers=False)
target_metadata = SQLModel.metadata


def render_item(kind: str, obj: object, autogen_context: AutogenContext) -> bool:
    """Autogenerate writes sqlmodel's column types by their module: import it in the new revision."""
    if kind == "type" and type(obj).__module__.startswith("sqlmodel"):
        autogen_context.imports.add("import sqlmodel.sql.sqltypes")
    return False  # and render the item as usual


def run_on(connection: Connection) -> None:
    """Run the migrations on one connection; SQLite's table rebuilds run with foreign keys off."""
    sqlite = connection.dialect.name == "sqlite"
    connection.commit()  # whatever the caller read first: the migrations run in a transaction of their own
    if sqlite:
        # A rebuilt table is dropped and renamed: with foreign keys on, dropping `case` would fail. The
        # pragma is ignored inside a transaction, hence the commits around it.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # revisions run on SQLite too: autogenerate writes batch operations everywhere
        compare_type=True,
        compare_server_default=True,
        render_item=render_item,
    )
    try:
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                tables = sorted({row[0] for row in broken})
                raise RuntimeError(f"the migration left rows without their parent in: {', '.join(tables)}")
    finally:
        if sqlite:
            connection.commit()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or get_settings().database_url)
    try:
        with engine.connect() as connection:
            run_on(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run them against a database")
run_migrations_online()
