"""Upgrades never lose data: each released schema's fixture, upgraded to head on SQLite and PostgreSQL, keeps
every row and relationship, and the bot works on it. And the models never drift from the migrations."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, select, text
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers every table)
from bot.cli import main as ecm_bot
from bot.offline import OfflineWorkspace
from bot.standin import SlackStandIn
from storage.clock import FixedClock
from storage.db import make_engine, migrate, schema_is_current
from tests.conftest import BACKENDS, LONDON, PG_URL
from tests.upgrade_support import FIXTURES, dump, load, primary_key, read_fixture, reflect

RELEASES = sorted(FIXTURES.glob("*.json"))

# A revision that changes what a column means (a data migration) says here how the old rows should read
# after it: each function takes the fixture's tables and returns them as head should hold them.
EXPECTED_CHANGES: list[Callable[[dict[str, list[dict[str, Any]]]], dict[str, list[dict[str, Any]]]]] = []


def test_models_match_the_migrations_at_head(engine: Engine) -> None:
    """A model change without its revision shows here (what `alembic revision --autogenerate` would write)."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == [], f"storage/models.py differs from the migrations at head; add a revision: {diff}"


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    """A database with nothing in it (not even alembic's table), and its URL for a separate process."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/upgrade.db"
        engine = make_engine(url)
        yield engine, url
        engine.dispose()
        return
    assert PG_URL
    schema = f"ecm_upgrade_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
    yield engine, f"{PG_URL}?options=-csearch_path%3D{schema}"
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _key(table: str, row: dict[str, Any], keys: dict[str, list[str]]) -> tuple[Any, ...]:
    return (table, *(row[k] for k in keys[table]))


@pytest.mark.parametrize("release", RELEASES, ids=[p.stem for p in RELEASES])
def test_upgrading_a_release_keeps_every_row_and_the_bot_works_on_it(
    release: Path,
    empty_database: tuple[Engine, str],
    slack: SlackStandIn,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine, url = empty_database
    fixture = read_fixture(release)
    load(engine, fixture)
    migrate(engine)
    assert schema_is_current(engine)

    # Every row is still there with every value it had (columns a revision adds are new, not compared).
    before: dict[str, list[dict[str, Any]]] = copy.deepcopy(fixture["tables"])
    for change in EXPECTED_CHANGES:
        before = change(before)
    after = dump(engine)
    metadata = reflect(engine)
    keys = {name: primary_key(table) for name, table in metadata.tables.items()}
    for table, rows in before.items():
        assert table in after, f"table {table} is gone after the upgrade"
        now_rows = {_key(table, row, keys): row for row in after[table]}
        assert len(after[table]) == len(rows), f"{table}: {len(rows)} rows before, {len(after[table])} after"
        for row in rows:
            upgraded = now_rows.get(_key(table, row, keys))
            assert upgraded is not None, f"{table} row {row} is gone"
            for column, value in row.items():
                assert column in upgraded, f"{table}.{column} is gone (data in it was lost)"
                assert upgraded[column] == value, f"{table}.{column} of {row} became {upgraded[column]!r}"
    assert sum(len(rows) for rows in before.values()) > 100, "the fixture is meant to be a realistic group"

    # Every reference still points at a row that exists.
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for fk in table.foreign_keys:
                target = fk.column
                orphans = conn.execute(
                    select(fk.parent)
                    .where(fk.parent.is_not(None))
                    .where(fk.parent.not_in(select(target).scalar_subquery()))
                ).all()
                assert not orphans, (
                    f"{table.name}.{fk.parent.name} points at missing {target.table.name} rows"
                )

    # The bot works on it: the same workspace, channel and people the fixture was made with.
    clock = FixedClock(datetime(2026, 11, 30, 9, 30, tzinfo=LONDON))
    ws = OfflineWorkspace(engine, clock, standin=slack, channel_name=fixture["channel"])
    try:
        for name, user_id in fixture["users"].items():
            assert ws.user(name) == user_id
        listing = ws.command("actions all", user="tom")
        assert not listing.is_error, listing.text
        for action in before["action"]:
            assert action["title"].replace("'", "") in listing.text.replace("&#x27;", "").replace("'", "")
        minutes = ws.command("minutes 1", user="tom")
        assert not minutes.is_error, minutes.text
        meeting_decisions = [d["text"] for d in before["decision"] if d["meeting_id"] == 1]
        assert meeting_decisions and all(t in minutes.text for t in meeting_decisions)
        added = ws.command('add "Written after the upgrade" due:friday outcome:safe', user="tom")
        assert not added.is_error, added.text
        next_number = max(a["number"] for a in before["action"]) + 1
        assert f"{next_number}" in added.text
    finally:
        ws.close()

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    capsys.readouterr()
    assert ecm_bot(["jobs", "run", "all", "--as-of", "2026-11-30", "--dry-run"]) == 0
    dry_run = capsys.readouterr().out
    assert "would send channel_digest" in dry_run, dry_run
