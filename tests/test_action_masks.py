"""Each action's outcome and district masks (`Action.outcome_mask`, `Action.district_mask` by `District.bit`),
which a list's filter tests instead of the link tables: after random creates, bulk creates and updates they
equal the masks of the action's link rows, and every outcome and district filter finds exactly the actions
its link rows say, also for a group's districts past the 63 that have a bit. Revision 0008 fills them from
existing actions (SQLite always; PostgreSQL too with ECM_TEST_DATABASE_URL)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from alembic import command
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, col, select

from storage import actions as store
from storage.actions import ActionFilter, NewActionRecord
from storage.db import alembic_config, migrate, schema_is_current, session_scope
from storage.groups import hold_group_districts, list_districts, set_districts
from storage.models import (
    DISTRICT_BITS,
    Action,
    ActionStatus,
    District,
    Outcome,
    TaskGroup,
    district_mask,
    outcome_mask,
)
from tests.support import storage_group

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
TODAY = date(2026, 11, 23)


def _record(rng: random.Random, i: int, districts: list[int]) -> NewActionRecord:
    return NewActionRecord(
        title=f"A {i}",
        owners=["U1"],
        due_date=None if i % 5 == 0 else TODAY + timedelta(days=i % 9 - 4),
        outcomes=rng.sample(list(Outcome), k=rng.randint(0, 3)),
        district_ids=rng.sample(districts, k=rng.randint(0, min(3, len(districts)))),
        countywide=rng.random() < 0.15,
        status=rng.choice(list(ActionStatus)),
    )


def _masks_of_links(session: Session, group_id: int) -> dict[int, tuple[int, int, int, int]]:
    """Per action id: (outcome_mask, district_mask) as stored, and as its link rows make them."""
    rows = store.list_actions(session, ActionFilter(group_id=group_id, statuses=None))
    stored = {a.id: (a.outcome_mask, a.district_mask) for a in session.exec(select(Action))}
    return {
        r.action.id: (*stored[r.action.id], outcome_mask(r.outcomes), district_mask(r.districts))
        for r in rows
        if r.action.id is not None
    }


def _assert_filters_match_links(session: Session, group_id: int, districts: list[int]) -> int:
    """Every one-outcome, one-district, two-district and outcome × district filter lists exactly the actions
    whose link rows match; returns how many (filter, action) matches there were (so a test sees some)."""
    every = store.list_actions(session, ActionFilter(group_id=group_id))
    found = 0
    outcome_choices: list[list[Outcome]] = [
        [],
        *([o] for o in Outcome),
        [Outcome.STAY_SAFE, Outcome.BE_HEALTHY],
    ]
    district_choices: list[list[int]] = [[], *([d] for d in districts), districts[:2]]
    for outcomes in outcome_choices:
        for wanted_districts in district_choices:
            if not outcomes and not wanted_districts:
                continue
            f = ActionFilter(group_id=group_id, outcomes=outcomes, district_ids=wanted_districts)
            expected = [
                (
                    r.number,
                    r.outcomes,
                )  # a page's outcomes come from the mask, the whole list's from the links
                for r in every
                if (not outcomes or set(outcomes) & set(r.outcomes))
                and (
                    not wanted_districts
                    or r.action.countywide
                    or set(wanted_districts) & {d.id for d in r.districts}
                )
            ]
            listed = [(r.number, r.outcomes) for r in store.list_actions(session, f, limit=500)]
            assert listed == expected, (outcomes, wanted_districts)
            assert store.count_live(session, f) == len(expected), (outcomes, wanted_districts)
            found += len(expected)
    return found


def test_masks_follow_every_change_and_filters_match_the_links(engine: Engine) -> None:
    rng = random.Random(11)
    with session_scope(engine) as s:
        group, districts = storage_group(s, "C1", ("Chorley", "Preston", "Wyre", "Fylde"), at=NOW)
        assert group.id is not None
        store.bulk_create_actions(s, group, [_record(rng, i, districts) for i in range(40)], by="U1", at=NOW)
        for i in range(20):
            one = _record(rng, 40 + i, districts)
            one.status = ActionStatus.OPEN  # as every new action starts
            store.create_action(s, group, one, by="U1", at=NOW)
    for step in range(100):
        with session_scope(engine) as s:
            row = store.get_action(s, group.id, rng.randint(1, 60))
            assert row is not None
            pick = rng.randrange(3)
            changes: dict[str, object]
            if pick == 0:
                changes = {"outcomes": rng.sample(list(Outcome), k=rng.randint(0, 3))}
            elif pick == 1:
                changes = {"district_ids": rng.sample(districts, k=rng.randint(0, 3))}
            else:
                changes = {"countywide": rng.random() < 0.5}
                if not changes["countywide"]:
                    changes["district_ids"] = rng.sample(districts, k=rng.randint(0, 2))
            store.update_action(s, row, changes, by="U1", at=NOW + timedelta(minutes=step))
    with session_scope(engine) as s:
        masks = _masks_of_links(s, group.id)
        assert len(masks) == 60
        for action_id, (
            stored_outcomes,
            stored_districts,
            linked_outcomes,
            linked_districts,
        ) in masks.items():
            assert (stored_outcomes, stored_districts) == (linked_outcomes, linked_districts), action_id
        assert any(m[0] for m in masks.values()) and any(m[1] for m in masks.values())
        assert _assert_filters_match_links(s, group.id, districts) > 50
    with session_scope(engine) as s:  # as a command reads them: the districts held, their mask bound
        held = s.get(TaskGroup, group.id)
        assert held is not None
        hold_group_districts(s, held)
        assert _assert_filters_match_links(s, group.id, districts) > 50


def test_districts_take_bits_in_the_order_made_and_keep_them(engine: Engine) -> None:
    with session_scope(engine) as s:
        group, _ = storage_group(s, "C1", ("Chorley", "Preston"), at=NOW)
        # Preston removed, Wyre added, Preston back: Wyre gets a new bit, Preston its old one.
        set_districts(s, group, [("Chorley", "chorley"), ("Wyre", "wyre")], user_id="U", at=NOW)
        set_districts(
            s, group, [("Preston", "preston"), ("Chorley", "chorley"), ("Wyre", "wyre")], user_id="U", at=NOW
        )
        assert group.id is not None
        bits = {d.slug: d.bit for d in list_districts(s, group.id)}
    assert bits == {"chorley": 0, "preston": 1, "wyre": 2}


def test_districts_past_the_bits_are_found_by_their_links(engine: Engine) -> None:
    names = tuple(f"District {i:02d}" for i in range(DISTRICT_BITS + 3))
    with session_scope(engine) as s:
        group, districts = storage_group(s, "C1", names, at=NOW)
        assert group.id is not None
        by_slug = {d.slug: d for d in list_districts(s, group.id)}
        assert by_slug["district 62"].bit == DISTRICT_BITS - 1
        assert by_slug["district 63"].bit is None and by_slug["district 65"].bit is None
        late, early = by_slug["district 64"].id, by_slug["district 05"].id
        assert late is not None and early is not None
        rng = random.Random(2)
        wanted = [early, late, by_slug["district 63"].id or 0]
        records = [_record(rng, i, wanted) for i in range(40)]
        store.bulk_create_actions(s, group, records, by="U1", at=NOW)
    for held in (False, True):  # the districts read by the statement, or held (a command's group)
        with session_scope(engine) as s:
            if held:
                row = s.get(TaskGroup, group.id)
                assert row is not None
                hold_group_districts(s, row)
            in_late = store.list_actions(s, ActionFilter(group_id=group.id, district_ids=[late]), limit=100)
            assert any(not r.action.countywide for r in in_late)  # some by their links, not only countywide
            assert all(r.action.countywide or late in {d.id for d in r.districts} for r in in_late)
            assert _assert_filters_match_links(s, group.id, [early, late]) > 20


def test_upgrade_gives_bits_and_fills_the_masks(engine: Engine) -> None:
    rng = random.Random(3)
    with session_scope(engine) as s:
        group, districts = storage_group(s, "C1", ("Chorley", "Wyre", "Fylde"), at=NOW)
        other, other_districts = storage_group(s, "C2", ("Pendle",), at=NOW)
        assert group.id is not None and other.id is not None
        store.bulk_create_actions(s, group, [_record(rng, i, districts) for i in range(50)], by="U", at=NOW)
        store.bulk_create_actions(
            s, other, [_record(rng, i, other_districts) for i in range(10)], by="U", at=NOW
        )
        kept = {**_masks_of_links(s, group.id), **_masks_of_links(s, other.id)}
        bits = {d.id: d.bit for d in s.exec(select(District).order_by(col(District.id)))}
    assert sorted(bits.values()) == [0, 0, 1, 2]

    command.downgrade(alembic_config(engine), "0007")  # just before 0008
    assert "outcome_mask" not in {c["name"] for c in inspect(engine).get_columns("action")}
    migrate(engine)
    assert schema_is_current(engine)
    with session_scope(engine) as s:
        assert {**_masks_of_links(s, group.id), **_masks_of_links(s, other.id)} == kept
        assert {d.id: d.bit for d in s.exec(select(District))} == bits
        assert _assert_filters_match_links(s, group.id, districts) > 20
    with engine.connect() as conn:
        indexed = {
            tuple(i["column_names"])
            for i in inspect(conn).get_indexes("action")
            if i["name"] == "ix_action_group_due_key"
        }
        assert conn.execute(text("SELECT count(*) FROM action WHERE outcome_mask <> 0")).scalar_one() > 0
    assert indexed == {
        ("group_id", "due_key", "number", "status", "countywide", "outcome_mask", "district_mask")
    }
