"""The project's own fuzz test: a few thousand seeded mutations of real commands, through the real path
(signed slash commands through Bolt, replies read from the stand-in).

For each: Slack gets a 200, nothing replies "Sorry, something went wrong", nothing is logged at ERROR,
and a command that was refused (an error reply) changed nothing in the database.
ECM_FUZZ_COUNT and ECM_FUZZ_SEED run more or other mutants (e.g. ECM_FUZZ_COUNT=20000 before a release);
a failure prints the commands, so it can be replayed in `ecm-bot console`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import time

import pytest
from sqlalchemy import Connection, Engine, event, select
from sqlmodel import SQLModel

from bot.offline import OfflineWorkspace
from tests.fuzz_support import commands

COUNT = int(os.environ.get("ECM_FUZZ_COUNT", "1500"))
PG_SHARE = 3  # PostgreSQL runs a third of them: the parsing is the same, the overflows are what differ
SEED = int(os.environ.get("ECM_FUZZ_SEED", "20261123"))
USERS = ["chair", "chair", "chair", "sam", "outsider"]


def _every_row_queries(engine: Engine) -> list[tuple[str, str]]:
    """Each table's `SELECT every row in key order`, compiled once for the engine's dialect."""
    return [
        (table.name, str(select(table).order_by(*table.primary_key.columns).compile(dialect=engine.dialect)))
        for table in sorted(SQLModel.metadata.sorted_tables, key=lambda t: t.name)
    ]


def fingerprint(engine: Engine, queries: list[tuple[str, str]] | None = None) -> str:
    """Every row of every table, hashed: equal fingerprints mean nothing changed."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for name, sql in queries or _every_row_queries(engine):
            # Plain tuples: a Row's repr cuts values at 300 characters (and is slow).
            rows = [tuple(row) for row in conn.exec_driver_sql(sql)]
            digest.update(f"{name}:{rows!r}".encode())
    return digest.hexdigest()


class Commits:
    """Whether anything was committed since the last look, so unchanged rows need no re-hashing. On SQLite,
    `PRAGMA data_version` on a connection of its own (it changes when any other connection commits a
    change). On PostgreSQL, which has no such counter for one schema, the engine's own commits are counted:
    the app is given this engine and makes no other (only the CLIs do), so every write it commits is one of
    them, and a refused command that committed anything is hashed and compared."""

    def __init__(self, engine: Engine) -> None:
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self.conn = sqlite3.connect(database, isolation_level=None) if database else None
        self.engine = None if database else engine
        self.commits = 0
        if self.engine is not None:
            event.listen(self.engine, "commit", self._committed)
        self.seen = self._version()

    def _committed(self, _conn: Connection) -> None:
        self.commits += 1

    def _version(self) -> int:
        return self.conn.execute("PRAGMA data_version").fetchone()[0] if self.conn else self.commits

    def since_last_look(self) -> bool:
        version = self._version()
        changed = version != self.seen
        self.seen = version
        return changed

    def close(self) -> None:
        if self.conn:
            self.conn.close()
        if self.engine is not None:
            event.remove(self.engine, "commit", self._committed)


def test_fuzzed_commands_never_crash_and_refusals_change_nothing(
    group: OfflineWorkspace, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    ws = group
    for setup in [
        "add Audit school nurse referrals @sam due:friday outcome:healthy district:chorley",
        'add "Map youth provision" @priya due:28/02/2027 outcome:enjoy',
        "add Share protocol @dev due:next friday outcome:safe",
        'meeting start "Fuzz meeting"',
        'decide "Adopt the plan"',
        "here",
        "meeting end",
        'schedule "Daily stand-up" rrule:"FREQ=DAILY" at:10:00',
    ]:
        out = ws.command(setup)
        assert not out.is_error, (setup, out.text)
    ws.user("outsider")
    mutants = commands(SEED, COUNT if engine.dialect.name == "sqlite" else max(1, COUNT // PG_SHARE))
    problems: list[str] = []
    refused = 0
    queries = _every_row_queries(engine)
    commits = Commits(engine)
    before = fingerprint(engine, queries)
    started = time.monotonic()
    with caplog.at_level(logging.ERROR):
        for i, text in enumerate(mutants):
            user = USERS[i % len(USERS)]
            out = ws.command(text, user=user)
            # Nothing committed since `before` was hashed: every row is as it was.
            after = fingerprint(engine, queries) if commits.since_last_look() else before
            if out.response.status != 200:
                problems.append(f"HTTP {out.response.status}: {text!r}")
            if "Sorry, something went wrong" in out.text:
                problems.append(f"Sorry: {text!r}")
            if out.is_error:
                refused += 1
                if after != before:
                    problems.append(f"refused but changed something: {text!r}: {out.text[:200]!r}")
            for record in caplog.records:
                problems.append(f"logged {record.levelname} {record.getMessage()[:200]!r} for {text!r}")
            caplog.clear()
            before = after
    elapsed = time.monotonic() - started
    commits.close()
    print(
        f"fuzz: {len(mutants)} commands (seed {SEED}) in {elapsed:.1f} s, {refused} refused, {len(problems)} problems"
    )
    assert not problems, "\n".join(problems[:40])
