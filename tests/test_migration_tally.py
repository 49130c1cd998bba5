"""Revision 0007 fills the owner, organisation and outcome × district counters from existing actions: the
counters it writes equal those storage.actions keeps in step (SQLite always; PostgreSQL too)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from alembic import command
from sqlalchemy import Engine, text

from storage import actions as store
from storage import tally
from storage.actions import NewActionRecord
from storage.db import alembic_config, migrate, schema_is_current, session_scope
from storage.models import ActionStatus, Outcome
from tests.support import storage_group

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
NEW = (tally.OWNER, tally.ORGANISATION, tally.PAIR)


def test_upgrade_fills_the_new_counters(engine: Engine) -> None:
    rng = random.Random(3)
    with session_scope(engine) as s:
        group, districts = storage_group(s, "C", ("Chorley", "Wyre"), at=NOW, county=None)
        store.bulk_create_actions(
            s,
            group,
            [
                NewActionRecord(
                    title=f"A {i}",
                    owners=rng.sample(["U1", "U2", "U3"], k=rng.randint(1, 2)),
                    organisation=rng.choice(["", "Chorley", "NHS"]),
                    due_date=None if i % 5 == 0 else date(2026, 11, 20) + timedelta(days=i % 7),
                    outcomes=rng.sample(list(Outcome), k=rng.randint(0, 2)),
                    district_ids=rng.sample(districts, k=rng.randint(0, 2)),  # type: ignore[arg-type]
                    countywide=i % 6 == 0,
                    status=rng.choice(list(ActionStatus)),
                )
                for i in range(60)
            ],
            by="U",
            at=NOW,
        )
    with session_scope(engine) as s:
        kept = tally.snapshot(s)
    assert {cell[1] for cell in kept} >= set(NEW)

    command.downgrade(alembic_config(engine), "0006")  # just before 0007
    with engine.connect() as conn:
        dimensions = {d for (d,) in conn.execute(text("SELECT DISTINCT dimension FROM action_tally"))}
    assert dimensions == {tally.ALL, tally.OUTCOME, tally.DISTRICT}
    migrate(engine)
    assert schema_is_current(engine)
    with session_scope(engine) as s:
        assert tally.snapshot(s) == kept
