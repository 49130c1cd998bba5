"""The outbox records where each delivery stands: whether the last attempt's outcome is unknown (so the
post is looked for in Slack before it is sent again), when it was first tried, and how many pages of a
multi-page post Slack has accepted.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.add_column(
            sa.Column(
                "attempt_state",
                sqlmodel.sql.sqltypes.AutoString(length=16),
                nullable=False,
                server_default="",
            )
        )
        batch.add_column(
            sa.Column("first_tried_at", storage.models.UtcDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("pages_sent", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("pages_sent")
        batch.drop_column("first_tried_at")
        batch.drop_column("attempt_state")
