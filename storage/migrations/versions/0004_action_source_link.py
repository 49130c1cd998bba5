"""Actions remember the Slack message they were made from (the "Make this an action" shortcut).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("action") as batch:
        batch.add_column(
            sa.Column("source_link", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("action") as batch:
        batch.drop_column("source_link")
