"""A consistent copy of a live SQLite database, by SQLite's online backup API.

The copy is one snapshot (WAL content included) taken while the bot keeps reading and writing: it is written
next to the destination and renamed into place only once checked, so a crash never leaves half a backup
where a good one was. PostgreSQL is backed up with its own tools (pg_dump), not here.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.db import SchemaError, is_sqlite


@dataclass(frozen=True)
class BackupResult:
    source: Path
    destination: Path
    size: int
    revision: str | None
    actions: int


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not is_sqlite(url) or not database or database == ":memory:":
        raise SchemaError(
            "ecm-bot backup copies an SQLite database file; for PostgreSQL use pg_dump "
            "(see README, Backups and restore)."
        )
    return Path(database)


def backup_sqlite(url: str, destination: Path) -> BackupResult:
    source = sqlite_path(url)
    if not source.is_file():
        raise SchemaError(f"there is no database at {source} (DATABASE_URL={url}).")
    if destination.resolve() == source.resolve():
        raise SchemaError("the backup must go to another file than the database itself.")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    # The backup only reads the source; a busy timeout rides out the bot's short write transactions.
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)  # all pages in one step: one consistent snapshot
        dst.execute("PRAGMA journal_mode=DELETE")  # the copy is one self-contained file
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise SchemaError(f"the copy failed SQLite's integrity check ({check}); nothing was replaced.")
        tables = {r[0] for r in dst.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        revision = (
            dst.execute("SELECT version_num FROM alembic_version").fetchone()[0]
            if "alembic_version" in tables
            else None
        )
        actions = dst.execute("SELECT count(*) FROM action").fetchone()[0] if "action" in tables else 0
    except BaseException:
        dst.close()
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    dst.close()
    os.replace(partial, destination)
    return BackupResult(source, destination, destination.stat().st_size, revision, actions)
