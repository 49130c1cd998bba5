"""Snapshots of a whole database as JSON, at one schema revision: what the upgrade fixtures are made of.

A snapshot is written by `scripts/make_upgrade_fixture.py` from a database the real app filled at a
released revision, and read back by `tests/test_upgrade.py`, which loads it at that revision, upgrades to
head and checks that nothing was lost. Tables are reflected from the database (not taken from today's
models), so a snapshot keeps the released schema's shape however the models move on.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Boolean, Date, DateTime, Engine, MetaData, Table, Time, func, insert, select, text

from storage.db import alembic_config

FIXTURES = Path(__file__).parent / "fixtures" / "upgrade"


def reflect(engine: Engine) -> MetaData:
    metadata = MetaData()
    metadata.reflect(engine)
    metadata.remove(metadata.tables["alembic_version"])
    return metadata


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        # SQLite hands back naive values; the app only ever stores UTC.
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return value


def _from_json(table: Table, column: str, value: Any) -> Any:
    if value is None:
        return None
    kind = table.c[column].type
    if isinstance(kind, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    if isinstance(kind, Time):
        return time.fromisoformat(value)
    if isinstance(kind, Boolean):
        return bool(value)
    return value


def primary_key(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns] or [c.name for c in table.columns]


def dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (except alembic's), in primary-key order, as JSON-ready dicts."""
    metadata = reflect(engine)
    out: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            order = [table.c[name] for name in primary_key(table)]
            rows = conn.execute(select(table).order_by(*order)).mappings()
            out[table.name] = [{k: _to_json(v) for k, v in row.items()} for row in rows]
    return out


def read_fixture(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def load(engine: Engine, fixture: dict[str, Any]) -> None:
    """Builds the fixture's schema revision on an empty database and inserts its rows as they were."""
    command.upgrade(alembic_config(engine), fixture["revision"])
    metadata = reflect(engine)
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            rows = fixture["tables"].get(table.name) or []
            if rows:
                conn.execute(
                    insert(table), [{k: _from_json(table, k, v) for k, v in row.items()} for row in rows]
                )
        if engine.dialect.name == "postgresql":
            # Rows came with their ids: move each id sequence past them, as the app's own inserts would have.
            for table in metadata.sorted_tables:
                if "id" in table.c and fixture["tables"].get(table.name):
                    conn.execute(
                        text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :n)"),
                        {"t": table.name, "n": conn.execute(select(func.max(table.c.id))).scalar_one()},
                    )
