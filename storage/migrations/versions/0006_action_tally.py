"""action_tally: per-group counters of the action register (by status and due key, outcome, district)

Counts and `by:outcome` / `by:district` groupings read these instead of every matching action. The table
is filled from the register here; from then on storage.actions keeps it in step with every change.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INSERT = "INSERT INTO action_tally (group_id, dimension, status, due_key, bucket, n) "
# The counters recounted from the register (as storage.tally.REBUILD, copied: a revision never changes).
BACKFILL = [
    _INSERT + "SELECT group_id, 'all', status, due_key, '', count(*) FROM action "
    "GROUP BY group_id, status, due_key",
    _INSERT + "SELECT a.group_id, 'outcome', a.status, a.due_key, o.outcome, count(*) FROM action a "
    "JOIN action_outcome o ON o.action_id = a.id GROUP BY a.group_id, a.status, a.due_key, o.outcome",
    _INSERT + "SELECT group_id, 'outcome', status, due_key, '*any', count(*) FROM action a "
    "WHERE EXISTS (SELECT 1 FROM action_outcome o WHERE o.action_id = a.id) GROUP BY group_id, status, due_key",
    _INSERT + "SELECT group_id, 'outcome', status, due_key, '*many', count(*) FROM action a "
    "WHERE (SELECT count(*) FROM action_outcome o WHERE o.action_id = a.id) > 1 "
    "GROUP BY group_id, status, due_key",
    _INSERT + "SELECT group_id, 'district', status, due_key, 'countywide', count(*) FROM action a "
    "WHERE a.countywide GROUP BY group_id, status, due_key",
    _INSERT + "SELECT a.group_id, 'district', a.status, a.due_key, CAST(d.district_id AS VARCHAR(32)), "
    "count(*) FROM action a JOIN action_district d ON d.action_id = a.id WHERE NOT a.countywide "
    "GROUP BY a.group_id, a.status, a.due_key, d.district_id",
    _INSERT + "SELECT group_id, 'district', status, due_key, '*any', count(*) FROM action a "
    "WHERE NOT a.countywide AND EXISTS (SELECT 1 FROM action_district d WHERE d.action_id = a.id) "
    "GROUP BY group_id, status, due_key",
    _INSERT + "SELECT group_id, 'district', status, due_key, '*many', count(*) FROM action a "
    "WHERE NOT a.countywide AND (SELECT count(*) FROM action_district d WHERE d.action_id = a.id) > 1 "
    "GROUP BY group_id, status, due_key",
]


def upgrade() -> None:
    op.create_table(
        "action_tally",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("dimension", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "in-progress",
                "blocked",
                "done",
                "dropped",
                name="actionstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("due_key", sa.Date(), nullable=False),
        sa.Column("bucket", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["task_group.id"]),
        sa.PrimaryKeyConstraint("group_id", "dimension", "status", "due_key", "bucket"),
    )
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("action_tally")
