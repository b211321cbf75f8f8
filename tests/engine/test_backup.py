"""`send-engine backup` and `restore` refuse what would lose data: an existing file, a database that holds
anything, a backup of the other kind of database. (The restore that works: tests/engine/test_run.py.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pgserver._commands import POSTGRES_BIN_PATH

from engine.backup import BackupError, backup, restore
from infra.database import make_engine
from store.migrate import upgrade_to_head
from tests.fixtures.postgres import new_database


def migrated_sqlite(path: Path) -> str:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    engine.dispose()
    return url


def test_a_backup_never_overwrites_a_file_and_a_restore_never_goes_over_a_database(tmp_path: Path) -> None:
    url = migrated_sqlite(tmp_path / "send.db")
    target = tmp_path / "send.backup"
    target.write_text("an earlier backup")
    with pytest.raises(BackupError, match="already exists: a backup never overwrites a file"):
        backup(url, target)
    assert target.read_text() == "an earlier backup"

    fresh = tmp_path / "backup-2.db"
    backup(url, fresh)
    with pytest.raises(BackupError, match="not empty: restore into a new, empty one"):
        restore(fresh, url)
    with pytest.raises(BackupError, match="there is no backup file"):
        restore(tmp_path / "missing.backup", f"sqlite:///{tmp_path / 'new.db'}")
    with pytest.raises(BackupError, match="there is no database"):
        backup(f"sqlite:///{tmp_path / 'nothing.db'}", tmp_path / "x.backup")


def test_a_backup_goes_back_only_into_its_own_kind_of_database(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqlite_backup = tmp_path / "sqlite.backup"
    backup(migrated_sqlite(tmp_path / "send.db"), sqlite_backup)
    monkeypatch.setenv("PATH", os.pathsep.join([str(POSTGRES_BIN_PATH), os.environ.get("PATH", "")]))
    with new_database(postgres_url) as source, new_database(postgres_url) as target:
        upgrade_to_head(engine := make_engine(source))
        engine.dispose()
        pg_backup = tmp_path / "pg.backup"
        backup(source, pg_backup)
        assert pg_backup.read_bytes().startswith(b"PGDMP")
        with pytest.raises(BackupError, match="is not a pg_dump backup"):
            restore(sqlite_backup, target)
        with pytest.raises(BackupError, match="not empty"):
            restore(pg_backup, source)
    with pytest.raises(BackupError, match="is not a SQLite backup"):
        restore(pg_backup, f"sqlite:///{tmp_path / 'new.db'}")
    assert not (tmp_path / "new.db").exists()  # refused before anything was written
