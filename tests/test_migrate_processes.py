"""Migrating with real processes: replicas starting together on PostgreSQL migrate once (the others wait
for the lock), and code older than the database's schema refuses to start in one line, touching nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.standin import SlackStandIn
from storage import db
from storage.db import make_engine, migrate, schema_is_current
from tests.conftest import BACKENDS, PG_URL
from tests.test_run_process import bot_env, free_port


@pytest.fixture
def fresh_pg_url() -> Iterator[str]:
    """An empty private PostgreSQL schema, as a URL a separate process can use."""
    if not PG_URL:
        pytest.skip("replicas share a PostgreSQL database: set ECM_TEST_DATABASE_URL")
    schema = f"ecm_replicas_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
    env.update({"DATABASE_URL": url, "LOG_LEVEL": "INFO", **extra})
    return env


def test_replicas_starting_together_migrate_once(fresh_pg_url: str, tmp_path: Path) -> None:
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "migrate"],
            env=_env(fresh_pg_url),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], outputs
    migrated = [out for out in outputs if "Running upgrade" in out]
    assert len(migrated) == 1, outputs
    engine = make_engine(fresh_pg_url)
    try:
        assert schema_is_current(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS, scope="module")
def newer_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[str]:
    """A database a newer ecm-bot upgraded: alembic_version names a revision this code doesn't have.
    One per backend for the three commands: each test checks that its command left it untouched."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("newer") / "newer.db"
        shutil.copy(sqlite_template, path)  # already migrated: only the revision is made newer
        url = f"sqlite:///{path}"
        schema = None
    else:
        assert PG_URL
        schema = f"ecm_newer_{uuid.uuid4().hex[:10]}"
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    if schema:
        migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    yield url
    if schema:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.parametrize("command", [["run", "--no-scheduler"], ["worker"], ["migrate"]])
def test_older_code_refuses_a_newer_schema_in_one_line(
    newer_database: str, command: list[str], slack: SlackStandIn, tmp_path: Path
) -> None:
    env = bot_env(slack, tmp_path)
    env["DATABASE_URL"] = newer_database
    if command[0] == "run":
        command = [*command, "--port", str(free_port())]
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *command],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "schema revision 9999" in lines[0] and "newer version" in lines[0]
    engine = make_engine(newer_database)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "9999"
    finally:
        engine.dispose()
    assert not slack.calls_to("auth.test"), "it stops before talking to Slack"


def test_the_newest_revision_read_from_the_files_is_alembics() -> None:
    """`migrate` skips alembic when the database is at `head_revisions()`: it must be alembic's own head."""
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config, head_revisions

    script = ScriptDirectory.from_config(alembic_config(make_engine("sqlite://")))
    assert head_revisions() == set(script.get_heads())
    assert len(script.get_heads()) == 1
    # ... and what it refuses without alembic (a revision no file defines) is what alembic doesn't know.
    found = db._revision_files()
    assert found is not None and found[0] == {r.revision for r in script.walk_revisions()}


def test_without_readable_revision_files_alembic_still_refuses_a_newer_schema(
    newer_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fallback when the files can't be read line by line: alembic itself finds the unknown revision."""
    monkeypatch.setattr(db, "_revision_files", lambda: None)
    engine = make_engine(newer_database)
    try:
        with pytest.raises(db.SchemaError, match="schema revision 9999.*newer version"):
            db.migrate(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "9999"
    finally:
        engine.dispose()
