"""reports made (report_run) and action-plan imports awaiting confirmation (plan_import)

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("made_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("made_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("formats", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["task_group.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("report_run", schema=None) as batch_op:
        batch_op.create_index("ix_report_run_group_made", ["group_id", "made_at"], unique=False)

    op.create_table(
        "plan_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "imported", "cancelled", name="importstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("action_numbers", sa.JSON(), nullable=False),
        sa.Column("created_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("imported_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["group_id"], ["task_group.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("plan_import", schema=None) as batch_op:
        batch_op.create_index("ix_plan_import_group_sha", ["group_id", "sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("plan_import", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_import_group_sha")
    op.drop_table("plan_import")
    with op.batch_alter_table("report_run", schema=None) as batch_op:
        batch_op.drop_index("ix_report_run_group_made")
    op.drop_table("report_run")
