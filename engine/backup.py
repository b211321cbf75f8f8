"""Backup and restore of the app's database (`send-engine backup` / `restore`; docs/deploy.md).

SQLite: SQLite's online backup API, a consistent copy while the engine runs. PostgreSQL: pg_dump's custom
format and pg_restore, from PATH (the server's major version or newer). Restore goes into an empty database
only, never over one that holds anything; `send-engine migrate` then brings an older backup to the newest
schema. Passwords are handed to pg_dump and pg_restore in their environment, never on a command line.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from infra.database import make_engine

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"


class BackupError(Exception):
    """Why a backup or restore was refused or failed, in words for the administrator."""


def _is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("the database URL names no SQLite file")
    return Path(database)


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not on PATH: install PostgreSQL's client programs "
            "(the server's major version or newer)"
        )
    return found


def _pg_connection(url: str) -> tuple[str, dict[str, str]]:
    """(a libpq connection URI without the password, the environment that carries the password)."""
    parsed: URL = make_url(url)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = parsed.password
    uri = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()
        raise BackupError(f"{what} failed: {detail[-1] if detail else f'exit code {done.returncode}'}")


def is_empty(url: str) -> bool:
    """True when the database holds no table at all (a SQLite file that does not exist yet is empty)."""
    if _is_sqlite(url) and not _sqlite_path(url).exists():
        return True
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return not inspect(connection).get_table_names()
    finally:
        engine.dispose()


def backup(url: str, target: Path) -> None:
    """Write a consistent copy of the database at `url` to the new file `target` (never over a file)."""
    if target.exists():
        raise BackupError(f"{target} already exists: a backup never overwrites a file")
    target.parent.mkdir(parents=True, exist_ok=True)
    if _is_sqlite(url):
        source_path = _sqlite_path(url)
        if not source_path.exists():
            raise BackupError(f"there is no database at {source_path}")
        source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        return
    uri, env = _pg_connection(url)
    _run([_pg_tool("pg_dump"), "--format=custom", "--file", str(target), "--dbname", uri], env, "pg_dump")


def restore(source: Path, url: str) -> None:
    """Restore the backup file `source` into the empty database at `url`."""
    if not source.is_file():
        raise BackupError(f"there is no backup file at {source}")
    with source.open("rb") as f:
        header = f.read(len(SQLITE_HEADER))
    if not is_empty(url):
        raise BackupError("the database to restore into is not empty: restore into a new, empty one")
    if _is_sqlite(url):
        if header != SQLITE_HEADER:
            raise BackupError(f"{source} is not a SQLite backup: restore it into a PostgreSQL database")
        target_path = _sqlite_path(url)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        backup_file = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(target_path)
        try:
            backup_file.backup(target)
        finally:
            target.close()
            backup_file.close()
        return
    if not header.startswith(PG_DUMP_HEADER):
        raise BackupError(f"{source} is not a pg_dump backup: restore it into a SQLite database")
    uri, env = _pg_connection(url)
    restore_command = [_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
    _run([*restore_command, "--single-transaction", "--dbname", uri, str(source)], env, "pg_restore")
