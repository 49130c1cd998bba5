"""action.due_key and list-order indexes

A sortable due key (no due date = 9999-12-31) so one ascending index gives the action lists' order, NULLs
last, on SQLite as on PostgreSQL; the per-group/status indexes move from due_date to it.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DUE_NEVER = date(9999, 12, 31)


def upgrade() -> None:
    # NOT NULL with a server default: SQLite adds it in place (no table copy, which its foreign keys forbid).
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("due_key", sa.Date(), nullable=False, server_default=DUE_NEVER.isoformat())
        )
    action = sa.table("action", sa.column("due_date", sa.Date()), sa.column("due_key", sa.Date()))
    op.execute(action.update().where(action.c.due_date.is_not(None)).values(due_key=action.c.due_date))
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.drop_index("ix_action_group_status_due")
        batch_op.drop_index("ix_action_status_due")
        batch_op.create_index(
            "ix_action_group_due_key", ["group_id", "due_key", "number", "status"], unique=False
        )
        batch_op.create_index(
            "ix_action_group_status_due_key", ["group_id", "status", "due_key", "number"], unique=False
        )
        batch_op.create_index("ix_action_status_due_key", ["status", "due_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.drop_index("ix_action_status_due_key")
        batch_op.drop_index("ix_action_group_status_due_key")
        batch_op.drop_index("ix_action_group_due_key")
        batch_op.create_index("ix_action_status_due", ["status", "due_date"], unique=False)
        batch_op.create_index("ix_action_group_status_due", ["group_id", "status", "due_date"], unique=False)
        batch_op.drop_column("due_key")
