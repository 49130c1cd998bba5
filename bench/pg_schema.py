"""Where a benchmark runs: a fresh SQLite file, then (with ECM_TEST_DATABASE_URL) a private PostgreSQL schema,
so benches never meet the tests or each other."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import text

from storage.db import make_engine


@contextmanager
def private_schema(pg_url: str) -> Iterator[str]:
    """Creates a fresh schema, yields its name, and drops it (with everything in it) afterwards."""
    schema = f"ecm_bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def each_database() -> Iterator[tuple[str, str, dict[str, Any] | None]]:
    """(url, label, connect_args) for each database a bench runs on: SQLite in a temporary folder, then
    PostgreSQL in a private schema when ECM_TEST_DATABASE_URL is set. Each is cleaned up once its turn ends."""
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{tmp}/bench.db", "SQLite", None
    pg = os.environ.get("ECM_TEST_DATABASE_URL")
    if pg:
        with private_schema(pg) as schema:
            yield pg, "PostgreSQL", {"options": f"-csearch_path={schema}"}
