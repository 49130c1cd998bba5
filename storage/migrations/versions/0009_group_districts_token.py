"""task_group.districts_token: a new value each time a group's districts change

A process reads a group's districts once per token and reuses them while the group row shows that token
(storage.groups.hold_group_districts). Groups that have districts get a token here; a group with none is
left without one, which says it has none.

Revision ID: 0009
Revises: 0008
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("task_group", sa.Column("districts_token", sa.String(length=32), nullable=True))
    bind = op.get_bind()
    with_districts = bind.execute(sa.text("SELECT DISTINCT group_id FROM district")).scalars().all()
    for group_id in with_districts:  # a token of its own each (never one another database may hold)
        bind.execute(
            sa.text("UPDATE task_group SET districts_token = :token WHERE id = :id"),
            {"token": uuid.uuid4().hex, "id": group_id},
        )


def downgrade() -> None:
    op.execute("ALTER TABLE task_group DROP COLUMN districts_token")
