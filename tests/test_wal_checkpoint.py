"""SQLite's WAL checkpoints off the requests' path (`storage.db.WalCheckpointer`): a server's commits never
copy the log back into the database file themselves; its own thread does, PASSIVE, every interval."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from storage.db import WalCheckpointer, checkpoint_in_background, make_engine, session_scope

# One row's text: 200 rows of it fill about 200 pages, so 1,200 rows are past SQLite's 1,000-page checkpoint.
FILLER = "x" * 3500


def _engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path}/wal.db")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT)")
    return engine


def _write(engine: Engine, rows: int) -> None:
    for start in range(0, rows, 50):  # many commits, as many commands make
        with session_scope(engine) as session:
            for i in range(start, min(rows, start + 50)):
                session.execute(text("INSERT INTO filler (body) VALUES (:b)"), {"b": f"{i}{FILLER}"})


def _autocheckpoint(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())


def _rows_in_the_database_file(path: Path, copy: Path) -> int:
    """Rows the main database file holds by itself (a copy without its -wal: what was checkpointed)."""
    import sqlite3

    copy.write_bytes(path.read_bytes())
    with sqlite3.connect(f"file:{copy}?immutable=1", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM filler").fetchone()[0])


def test_without_it_a_commit_checkpoints_once_the_log_passes_a_thousand_pages(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    assert _autocheckpoint(engine) == 1000
    _write(engine, 1200)
    # Some commit copied the log back itself: the file alone already holds most rows.
    assert _rows_in_the_database_file(tmp_path / "wal.db", tmp_path / "copy.db") >= 900
    engine.dispose()


def test_with_it_no_commit_checkpoints_and_its_own_run_copies_everything(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    with engine.connect() as held:  # a connection from before: it would still checkpoint at commit
        held.exec_driver_sql("SELECT 1")
    checkpointer = WalCheckpointer(engine, 3600).start()  # its thread stays asleep: runs by hand
    try:
        assert _autocheckpoint(engine) == 0
        _write(engine, 1200)
        assert _rows_in_the_database_file(tmp_path / "wal.db", tmp_path / "copy.db") == 0
        busy, logged, copied = checkpointer.run_once()
        assert busy == 0 and logged > 1000 and copied == logged
        assert _rows_in_the_database_file(tmp_path / "wal.db", tmp_path / "copy.db") == 1200
        # The log starts again from its beginning after a whole checkpoint: it does not grow without end.
        _write(engine, 50)
        _, logged_again, _ = checkpointer.run_once()
        assert 0 < logged_again < 200
    finally:
        checkpointer.stop()
        engine.dispose()


def test_its_thread_checkpoints_by_itself_and_stops_after_a_last_one(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    checkpointer = checkpoint_in_background(engine, 0.05)
    assert checkpointer is not None
    _write(engine, 300)
    deadline = time.monotonic() + 10
    while _rows_in_the_database_file(tmp_path / "wal.db", tmp_path / "copy.db") < 300:
        assert time.monotonic() < deadline, checkpointer.last
        time.sleep(0.05)
    assert checkpointer.runs >= 1
    _write(engine, 10)
    checkpointer.stop()  # the last commits are in the file once it has stopped
    assert _rows_in_the_database_file(tmp_path / "wal.db", tmp_path / "copy.db") == 310
    engine.dispose()


def test_not_for_postgresql_nor_with_an_interval_of_zero(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    assert checkpoint_in_background(engine, 0) is None
    assert _autocheckpoint(engine) == 1000
    postgresql = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")  # never connected
    assert checkpoint_in_background(postgresql, 1.0) is None
    with pytest.raises(ValueError):
        WalCheckpointer(postgresql, 1.0)
    engine.dispose()
