"""Alembic environment: the engine comes from storage.db (never from an ini file)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers every table on SQLModel.metadata)

config = context.config
target_metadata = SQLModel.metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()


def run_migrations_online() -> None:
    # storage.db.migrate passes the connection holding the migration lock; other callers pass the engine.
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    with config.attributes["engine"].connect() as connection:
        run_on(connection)


run_migrations_online()
