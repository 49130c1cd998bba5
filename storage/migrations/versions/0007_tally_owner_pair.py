"""action_tally: counters per owner, per organisation and per outcome × district

So `actions mine`, `actions outcome:X district:Y` (either alone, or both), `by:owner` and `by:org` are counted
from the counters instead of every matching action. The bucket widens to an organisation's 200 characters,
and `ix_action_tally_bucket` reads one bucket's counters directly. The new counters are filled from the
register here; from then on storage.actions keeps them in step with every change.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_DIMENSIONS = ("owner", "organisation", "outcome-district")
_INSERT = "INSERT INTO action_tally (group_id, dimension, status, due_key, bucket, n) "
# The new counters recounted from the register (as storage.tally.NEWER, copied: a revision never changes).
BACKFILL = [
    _INSERT + "SELECT a.group_id, 'owner', a.status, a.due_key, o.user_id, count(*) FROM action a "
    "JOIN action_owner o ON o.action_id = a.id GROUP BY a.group_id, a.status, a.due_key, o.user_id",
    _INSERT + "SELECT group_id, 'owner', status, due_key, '*many', count(*) FROM action a "
    "WHERE (SELECT count(*) FROM action_owner o WHERE o.action_id = a.id) > 1 GROUP BY group_id, status, due_key",
    _INSERT + "SELECT group_id, 'organisation', status, due_key, organisation, count(*) FROM action "
    "GROUP BY group_id, status, due_key, organisation",
    _INSERT
    + "SELECT a.group_id, 'outcome-district', a.status, a.due_key, o.outcome || '|countywide', count(*) "
    "FROM action a JOIN action_outcome o ON o.action_id = a.id WHERE a.countywide "
    "GROUP BY a.group_id, a.status, a.due_key, o.outcome",
    _INSERT + "SELECT a.group_id, 'outcome-district', a.status, a.due_key, "
    "o.outcome || '|' || CAST(d.district_id AS VARCHAR(32)), count(*) FROM action a "
    "JOIN action_outcome o ON o.action_id = a.id JOIN action_district d ON d.action_id = a.id "
    "WHERE NOT a.countywide GROUP BY a.group_id, a.status, a.due_key, o.outcome, d.district_id",
]


def upgrade() -> None:
    with op.batch_alter_table("action_tally") as batch:
        batch.alter_column(
            "bucket",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=32),
            type_=sqlmodel.sql.sqltypes.AutoString(length=200),
            existing_nullable=False,
        )
    op.create_index(
        "ix_action_tally_bucket",
        "action_tally",
        ["group_id", "dimension", "bucket", "status", "due_key", "n"],
        unique=False,
    )
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    tally = sa.table("action_tally", sa.column("dimension", sa.String()))
    op.execute(tally.delete().where(tally.c.dimension.in_(NEW_DIMENSIONS)))
    op.drop_index("ix_action_tally_bucket", table_name="action_tally")
    with op.batch_alter_table("action_tally") as batch:
        batch.alter_column(
            "bucket",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=200),
            type_=sqlmodel.sql.sqltypes.AutoString(length=32),
            existing_nullable=False,
        )
