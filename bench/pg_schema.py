"""A private PostgreSQL schema for one benchmark run, so benches never meet the tests or each other."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

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
