"""storage.actions.bulk_create_actions (COPY on PostgreSQL, driver-level executemany on SQLite) leaves the
same actions, links, "created" audit events and counters as adding the same actions one by one through
`create_action` (and `update_action` for a status other than open), audited "created" or, as a
spreadsheet import does, "imported" with a note, on top of actions already there
(SQLite always; PostgreSQL too with ECM_TEST_DATABASE_URL)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from storage import actions as store
from storage import tally
from storage.db import session_scope
from storage.models import (
    Action,
    ActionDistrict,
    ActionOutcome,
    ActionOwner,
    ActionStatus,
    AuditEvent,
    Outcome,
    TaskGroup,
)
from tests.support import storage_group

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
TODAY = date(2026, 11, 23)
# Text a COPY or an array literal must escape: tabs, newlines, backslashes, quotes, braces, commas, "\N".
AWKWARD = ["Tab\there", "two\nlines\r\n", "back\\slash \\N", "quote ' \" {a,b}", "Café ✓ — naïve", ""]


class _Undo(Exception):
    """Raised inside a unit of work to roll it back after looking at what it wrote."""


def _records(districts: list[int]) -> list[store.NewActionRecord]:
    rng = random.Random(11)
    out = []
    for i in range(60):
        out.append(
            store.NewActionRecord(
                title=f"{rng.choice(AWKWARD)} action {i}" if i % 3 else f"Action {i}",
                # Duplicates and several owners; outcomes and districts out of order and repeated.
                owners=rng.choice([["U1"], ["U2", "U1"], ["U3", "U3"], ["U1", "U2", "U3"]]),
                organisation=rng.choice(["", "Chorley", *AWKWARD]),
                due_date=None if i % 4 == 0 else TODAY + timedelta(days=rng.randint(-3, 3)),
                outcomes=rng.sample(list(Outcome), k=rng.randint(0, 3)) * rng.randint(1, 2),
                # A district id that does not exist is left out, as create_action leaves it out.
                district_ids=rng.sample([*districts, 999_999], k=rng.randint(0, 3)),
                countywide=i % 7 == 0,
                status=rng.choice(list(ActionStatus)) if i % 2 else ActionStatus.OPEN,
            )
        )
    return out


def _state(session: Session, group_id: int) -> dict[str, Any]:
    """Everything the register holds for the group's actions, keyed by number (ids differ between runs)."""
    number = {a.id: a.number for a in session.exec(select(Action).where(col(Action.group_id) == group_id))}
    actions = {
        a.number: {k: v for k, v in a.model_dump().items() if k not in ("id", "group_id")}
        for a in session.exec(select(Action).where(col(Action.group_id) == group_id))
    }
    links: dict[str, set[tuple[int, Any]]] = {
        "owners": {(number[o.action_id], o.user_id) for o in session.exec(select(ActionOwner))},
        "outcomes": {(number[o.action_id], o.outcome) for o in session.exec(select(ActionOutcome))},
        "districts": {(number[d.action_id], d.district_id) for d in session.exec(select(ActionDistrict))},
    }
    created = {
        number[e.entity_id]: (e.user_id, e.at, e.verb, e.changes, e.note)  # type: ignore[index]
        for e in session.exec(
            select(AuditEvent).where(
                col(AuditEvent.entity) == "action", col(AuditEvent.verb).in_(["created", "imported"])
            )
        )
    }
    # As stored, read past the column types (SQLite keeps dates and times as text: the same text, or SQL
    # comparing them would order them differently).
    connection = session.connection()
    stored = {
        "action": sorted(
            r[1:]
            for r in connection.exec_driver_sql(
                "SELECT id, number, title, organisation, countywide, due_date, due_key, status, rag, "
                "snoozed_until, meeting_id, decision_id, source_link, created_by, created_at, updated_at, "
                f"completed_at FROM action WHERE group_id = {group_id}"
            )
        ),
        "audit": sorted(
            (number[r[0]], *r[1:])
            for r in connection.exec_driver_sql(
                "SELECT entity_id, user_id, at, verb, changes, note FROM audit_event "
                f"WHERE entity = 'action' AND verb IN ('created', 'imported') AND group_id = {group_id}"
            )
        ),
    }
    return {
        "actions": actions,
        "links": links,
        "created": created,
        "tally": tally.snapshot(session),
        "stored": stored,
    }


def _setup(engine: Engine) -> tuple[int, list[int]]:
    with session_scope(engine) as s:
        group, districts = storage_group(s, "C1", ("Wyre", "Chorley", "Preston"), at=NOW, name="Lancs")
        for title in ("Already here", "And this"):  # the bulk's counters add to existing ones
            store.create_action(
                s,
                group,
                store.NewActionRecord(
                    title=title,
                    owners=["U1"],
                    organisation="Chorley",
                    due_date=TODAY,
                    outcomes=[Outcome.STAY_SAFE],
                    district_ids=districts[:1],
                ),
                by="UCHAIR",
                at=NOW,
            )
        assert group.id is not None
        return group.id, districts  # type: ignore[return-value]


@pytest.mark.parametrize(("verb", "note"), [("created", None), ("imported", "Imported from plan.xlsx")])
def test_bulk_create_leaves_what_one_by_one_creates_leave(
    engine: Engine, verb: str, note: str | None
) -> None:
    group_id, districts = _setup(engine)
    records = _records(districts)
    assert {r.status for r in records} == set(ActionStatus)
    later = NOW + timedelta(hours=1)

    with pytest.raises(_Undo), session_scope(engine) as s:
        group = s.get(TaskGroup, group_id)
        assert group is not None
        ids = store.bulk_create_actions(s, group, records, by="UCHAIR", at=later, verb=verb, note=note)
        numbered = {a.id: a.number for a in s.exec(select(Action).where(col(Action.id).in_(ids)))}
        assert [numbered[i] for i in ids] == list(range(3, 3 + len(records)))
        bulk = _state(s, group_id)
        raise _Undo

    with pytest.raises(_Undo), session_scope(engine) as s:
        group = s.get(TaskGroup, group_id)
        assert group is not None
        for r in records:
            row = store.create_action(
                s,
                group,
                store.NewActionRecord(
                    title=r.title,
                    owners=r.owners,
                    organisation=r.organisation,
                    due_date=r.due_date,
                    outcomes=r.outcomes,
                    district_ids=r.district_ids,
                    countywide=r.countywide,
                ),
                by="UCHAIR",
                at=later,
                verb=verb,
                note=note,
            )
            if r.status != ActionStatus.OPEN:
                store.update_action(s, row, {"status": r.status}, by="UCHAIR", at=later)
        one_by_one = _state(s, group_id)
        raise _Undo

    assert len(bulk["actions"]) == len(records) + 2
    assert sum(1 for n, e in bulk["created"].items() if n > 2 and (e[2], e[4]) == (verb, note)) == len(
        records
    )
    for part in ("actions", "links", "created", "tally", "stored"):
        assert bulk[part] == one_by_one[part], part
    # And the counters kept in step equal a recount from the register.
    with pytest.raises(_Undo), session_scope(engine) as s:
        group = s.get(TaskGroup, group_id)
        assert group is not None
        store.bulk_create_actions(s, group, records, by="UCHAIR", at=later)
        kept = tally.snapshot(s)
        tally.rebuild(s)
        assert tally.snapshot(s) == kept
        raise _Undo
