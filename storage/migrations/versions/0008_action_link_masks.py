"""action.outcome_mask and action.district_mask (by district.bit), carried by the list order index

A list's outcome and district filters are then tested on the index entry of each action the walk passes,
instead of probing the link tables for it. Districts take bits in the order they were made, per group (the
first 63); the masks are filled from the link rows here, and from then on storage.actions keeps them in step
with every change.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The outcomes' bits (as storage.models.outcome_mask, copied: a revision never changes).
_OUTCOME_BITS = (
    "CASE outcome WHEN 'be-healthy' THEN 1 WHEN 'stay-safe' THEN 2 WHEN 'enjoy-and-achieve' THEN 4 "
    "WHEN 'positive-contribution' THEN 8 WHEN 'economic-wellbeing' THEN 16 ELSE 0 END"
)
BACKFILL = [
    "UPDATE district SET bit = (SELECT count(*) FROM district earlier "
    "WHERE earlier.group_id = district.group_id AND earlier.id < district.id)",
    "UPDATE district SET bit = NULL WHERE bit >= 63",
    f"UPDATE action SET outcome_mask = (SELECT coalesce(sum({_OUTCOME_BITS}), 0) FROM action_outcome "
    "WHERE action_outcome.action_id = action.id)",
    "UPDATE action SET district_mask = (SELECT coalesce(sum(CAST(1 AS BIGINT) << district.bit), 0) "
    "FROM action_district JOIN district ON district.id = action_district.district_id "
    "WHERE action_district.action_id = action.id AND district.bit IS NOT NULL)",
]
_OLD_ORDER = ["group_id", "due_key", "number", "status"]
_NEW_ORDER = [*_OLD_ORDER, "countywide", "outcome_mask", "district_mask"]


def upgrade() -> None:
    op.add_column("district", sa.Column("bit", sa.Integer(), nullable=True))
    op.add_column("action", sa.Column("outcome_mask", sa.Integer(), server_default="0", nullable=False))
    op.add_column("action", sa.Column("district_mask", sa.BigInteger(), server_default="0", nullable=False))
    for statement in BACKFILL:
        op.execute(statement)
    op.drop_index("ix_action_group_due_key", table_name="action")
    op.create_index("ix_action_group_due_key", "action", _NEW_ORDER, unique=False)


def downgrade() -> None:
    op.drop_index("ix_action_group_due_key", table_name="action")
    op.create_index("ix_action_group_due_key", "action", _OLD_ORDER, unique=False)
    # ALTER TABLE … DROP COLUMN on both (SQLite since 3.35): a batch copy of `action` would drop the table
    # its link rows refer to, which SQLite refuses with foreign keys on.
    for table, column in (("action", "district_mask"), ("action", "outcome_mask"), ("district", "bit")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
