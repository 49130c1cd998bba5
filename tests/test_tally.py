"""storage.tally, the register's counters: after random creates, bulk creates and updates (status, due date,
outcomes, districts, countywide, owners, organisation), the counters kept in step equal a recount from the
register, and the counts (one outcome, one district, both, one owner) and `by:` groupings read from them equal
the live ones (SQLite; PostgreSQL too with ECM_TEST_DATABASE_URL)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from storage import actions as store
from storage import tally
from storage.actions import ActionFilter, NewActionRecord
from storage.db import session_scope
from storage.models import LIVE_STATUSES, ActionStatus, Outcome, TaskGroup
from tests.support import storage_group

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
TODAY = date(2026, 11, 23)


def _group(session: Session, channel: str) -> tuple[TaskGroup, list[int]]:
    return storage_group(session, channel, at=NOW)


def _due(rng: random.Random) -> date | None:
    return None if rng.random() < 0.2 else TODAY + timedelta(days=rng.randint(-5, 5))


OWNERS = ["U1", "U2", "U3"]
ORGS = ["", "Chorley", "chorley", "Lancashire Constabulary"]


def _owners(rng: random.Random) -> list[str]:
    return rng.sample(OWNERS, k=rng.randint(1, 2))


def _filters(group_id: int) -> list[ActionFilter]:
    return [
        ActionFilter(group_id=group_id),
        ActionFilter(group_id=group_id, statuses=None),
        ActionFilter(group_id=group_id, statuses=(ActionStatus.DONE,)),
        ActionFilter(group_id=group_id, due_before=TODAY),
        ActionFilter(group_id=group_id, statuses=None, due_before=TODAY),
        ActionFilter(group_id=group_id, due_from=TODAY, due_on_or_before=TODAY + timedelta(days=3)),
    ]


def _counted_filters(group_id: int, districts: list[int]) -> list[ActionFilter]:
    """Filters the counters answer beyond statuses and due dates: one outcome, one district, both, one owner."""
    out = []
    for base in _filters(group_id):
        for outcomes, district_ids, owner in [
            ([Outcome.STAY_SAFE], [], None),
            ([], [districts[0]], None),
            ([Outcome.BE_HEALTHY], [districts[1]], None),
            ([], [], "U2"),
        ]:
            f = ActionFilter(**{**base.__dict__})
            f.outcomes, f.district_ids, f.owner = outcomes, district_ids, owner
            out.append(f)
    return out


def test_counters_follow_every_change_and_answer_as_the_live_queries(engine: Engine) -> None:
    rng = random.Random(5)
    with session_scope(engine) as s:
        group, districts = _group(s, "C1")
        other, other_districts = _group(s, "C2")
        assert group.id is not None and other.id is not None
        for g, ds in ((group, districts), (other, other_districts)):
            store.bulk_create_actions(
                s,
                g,
                [
                    NewActionRecord(
                        title=f"Bulk {i}",
                        owners=_owners(rng),
                        organisation=rng.choice(ORGS),
                        due_date=_due(rng),
                        outcomes=rng.sample(list(Outcome), k=rng.randint(0, 2)),
                        district_ids=rng.sample(ds, k=rng.randint(0, 2)),
                        countywide=rng.random() < 0.2,
                        status=rng.choice(list(ActionStatus)),
                    )
                    for i in range(40)
                ],
                by="U1",
                at=NOW,
            )
        for i in range(20):
            store.create_action(
                s,
                group,
                store.NewActionRecord(
                    title=f"One {i}",
                    owners=_owners(rng),
                    organisation=rng.choice(ORGS),
                    due_date=_due(rng),
                    outcomes=rng.sample(list(Outcome), k=rng.randint(0, 3)),
                    district_ids=rng.sample(districts, k=rng.randint(0, 3)),
                    countywide=rng.random() < 0.2,
                ),
                by="U2",
                at=NOW,
            )
    for step in range(120):
        with session_scope(engine) as s:
            row = store.get_action(s, group.id, rng.randint(1, 60))
            assert row is not None
            changes: dict[str, object] = {}
            pick = rng.randrange(7)
            if pick == 0:
                changes["status"] = rng.choice(list(ActionStatus))
            elif pick == 1:
                changes["due_date"] = _due(rng)
            elif pick == 2:
                changes["outcomes"] = rng.sample(list(Outcome), k=rng.randint(0, 3))
            elif pick == 3:
                changes["district_ids"] = rng.sample(districts, k=rng.randint(0, 3))
            elif pick == 4:
                changes["owners"] = _owners(rng)
            elif pick == 5:
                changes["organisation"] = rng.choice(ORGS)
            else:
                changes["countywide"] = rng.random() < 0.5
                if not changes["countywide"]:
                    changes["district_ids"] = rng.sample(districts, k=rng.randint(0, 2))
            store.update_action(s, row, changes, by="U2", at=NOW + timedelta(minutes=step))

    with session_scope(engine) as s:
        kept = tally.snapshot(s)
        assert len({cell[0] for cell in kept}) == 2  # both groups counted
        for f in _filters(group.id) + _filters(other.id):
            assert store.count_actions(s, f) == store.count_live(s, f)
            for by in ("outcome", "district", "owner", "organisation"):
                counted = sorted((str(c.key), c.count) for c in store.group_counts(s, f, by))
                live = sorted((str(c.key), c.count) for c in store.group_counts_live(s, f, by))
                assert counted == live, (f, by)
                assert store.group_summary(s, f, by) == store.group_summary_live(s, f, by)
        counted_filters = _counted_filters(group.id, districts) + _counted_filters(other.id, other_districts)
        for f in counted_filters:
            assert store.count_actions(s, f) == store.count_live(s, f), f
        assert sum(store.count_live(s, f) > 0 for f in counted_filters) > len(counted_filters) // 2
        tally.rebuild(s)
        assert tally.snapshot(s) == kept


def test_a_filter_the_counters_cannot_answer_is_counted_live(engine: Engine) -> None:
    with session_scope(engine) as s:
        group, districts = _group(s, "C1")
        assert group.id is not None
        store.create_action(
            s,
            group,
            store.NewActionRecord(
                title="Safe in Chorley",
                owners=["U1"],
                due_date=TODAY,
                outcomes=[Outcome.STAY_SAFE],
                district_ids=[districts[0]],
            ),
            by="U1",
            at=NOW,
        )
        # Counters that disagree with the register: only filters they can answer may read them.
        tally.apply(s, tally.contribution(group.id, ActionStatus.OPEN, TODAY, True, [Outcome.STAY_SAFE], []))
        f = ActionFilter(group_id=group.id, statuses=LIVE_STATUSES)
        assert store.count_actions(s, f) == 2 and store.count_live(s, f) == 1
        by_outcome = ActionFilter(group_id=group.id, outcomes=[Outcome.STAY_SAFE])
        assert store.count_actions(s, by_outcome) == 2  # one outcome: the counters answer
        two_outcomes = ActionFilter(group_id=group.id, outcomes=[Outcome.STAY_SAFE, Outcome.BE_HEALTHY])
        assert store.count_actions(s, two_outcomes) == 1  # an action with both would be counted twice
        owner_and_outcome = ActionFilter(group_id=group.id, owner="U1", outcomes=[Outcome.STAY_SAFE])
        assert store.count_actions(s, owner_and_outcome) == 1
        by_owner = ActionFilter(group_id=group.id, owner="U1")
        assert [(c.key, c.count) for c in store.group_counts(s, by_owner, "district")] == [(districts[0], 1)]
