"""Revision 0003 fills action.due_key for rows written by 0.1.0 (SQLite always; PostgreSQL too)."""

from __future__ import annotations

from datetime import date

from alembic import command
from sqlalchemy import Engine, text

from storage.db import alembic_config, migrate, schema_is_current
from storage.models import DUE_NEVER


def test_upgrade_fills_due_key(engine: Engine) -> None:
    command.downgrade(alembic_config(engine), "0002")  # just before 0003_action_due_key
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO task_group (id, team_id, channel_id, name, timezone, settings, next_action_number, "
                "next_decision_number, created_by, created_at, updated_at) VALUES (1, 'T', 'C', 'G', "
                "'Europe/London', '{}', 3, 1, 'U', :at, :at)"
            ),
            {"at": "2026-11-23 09:00:00+00:00"},
        )
        for number, due in [(1, date(2026, 12, 1)), (2, None)]:
            conn.execute(
                text(
                    "INSERT INTO action (group_id, number, title, organisation, countywide, due_date, status, "
                    "created_by, created_at, updated_at) VALUES (1, :n, 't', '', false, :due, 'open', 'U', :at, :at)"
                ),
                {"n": number, "due": due, "at": "2026-11-23 09:00:00+00:00"},
            )
    migrate(engine)
    assert schema_is_current(engine)
    with engine.connect() as conn:
        keys = conn.execute(text("SELECT number, due_key FROM action ORDER BY number")).all()
    assert [(n, date.fromisoformat(str(k))) for n, k in keys] == [(1, date(2026, 12, 1)), (2, DUE_NEVER)]
