"""storage.actions on its own: filters, ordering, bulk loading, numbering, updates and the audit trail
(SQLite always; PostgreSQL too with ECM_TEST_DATABASE_URL)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, col, select

from storage import actions as store
from storage import groups
from storage.actions import ActionFilter
from storage.db import session_scope
from storage.models import (
    DUE_NEVER,
    ActionNote,
    ActionStatus,
    AuditEvent,
    Decision,
    Meeting,
    MeetingStatus,
    Outcome,
    Rag,
)
from tests.support import storage_group

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
TODAY = date(2026, 11, 23)


@pytest.fixture
def setup(engine: Engine) -> dict[str, Any]:
    with session_scope(engine) as s:
        g, _ = storage_group(s, "C1", at=NOW, name="Lancs")
        other, _ = storage_group(s, "C2", (), at=NOW, name="Leics", county=None)
        d = {x.slug: x.id for x in groups.list_districts(s, g.id)}  # type: ignore[arg-type]

        def add(
            title: str,
            *,
            owners: list[str],
            due: date | None = None,
            outcomes: list[Outcome] | None = None,
            districts: list[str] | None = None,
            countywide: bool = False,
            group: Any = g,
            at: datetime = NOW,
        ) -> store.ActionRow:
            return store.create_action(
                s,
                group,
                store.NewActionRecord(
                    title=title,
                    owners=owners,
                    organisation="Org",
                    due_date=due,
                    outcomes=outcomes or [],
                    district_ids=[d[x] for x in districts or []],
                    countywide=countywide,
                ),
                by="UCHAIR",
                at=at,
            )

        add(
            "overdue chorley safe",
            owners=["U1"],
            due=TODAY - timedelta(days=3),
            outcomes=[Outcome.STAY_SAFE],
            districts=["chorley"],
        )
        add(
            "soon preston healthy+safe",
            owners=["U2", "U1"],
            due=TODAY + timedelta(days=2),
            outcomes=[Outcome.BE_HEALTHY, Outcome.STAY_SAFE],
            districts=["preston"],
        )
        add("no date countywide", owners=["U2"], outcomes=[Outcome.ECONOMIC_WELLBEING], countywide=True)
        add(
            "later wyre",
            owners=["U3"],
            due=TODAY + timedelta(days=40),
            districts=["wyre"],
            at=NOW + timedelta(hours=1),
        )
        done = add("done chorley", owners=["U1"], due=TODAY - timedelta(days=10), districts=["chorley"])
        store.update_action(s, done, {"status": ActionStatus.DONE}, by="U1", at=NOW, verb="done")
        add("other group", owners=["U1"], due=TODAY - timedelta(days=1), group=other)
        return {"group_id": g.id, "other_id": other.id, "districts": d}


def numbers(session: Session, f: ActionFilter, **kw: Any) -> list[int]:
    return [r.action.number for r in store.list_actions(session, f, **kw)]


def test_default_filter_is_live_actions_by_due_date_no_date_last(
    engine: Engine, setup: dict[str, Any]
) -> None:
    with session_scope(engine) as s:
        assert numbers(s, ActionFilter(group_id=setup["group_id"])) == [1, 2, 4, 3]
        assert store.count_actions(s, ActionFilter(group_id=setup["group_id"])) == 4
        assert numbers(s, ActionFilter(group_id=setup["group_id"], statuses=None)) == [5, 1, 2, 4, 3]
        assert numbers(s, ActionFilter(group_id=setup["group_id"], statuses=(ActionStatus.DONE,))) == [5]
        assert numbers(s, ActionFilter(group_id=setup["group_id"]), order="number") == [1, 2, 3, 4]


def test_filters(engine: Engine, setup: dict[str, Any]) -> None:
    g, d = setup["group_id"], setup["districts"]
    with session_scope(engine) as s:
        assert numbers(s, ActionFilter(group_id=g, due_before=TODAY)) == [1]
        assert numbers(
            s, ActionFilter(group_id=g, due_from=TODAY, due_on_or_before=TODAY + timedelta(days=7))
        ) == [2]
        assert numbers(s, ActionFilter(group_id=g, owner="U1")) == [1, 2]
        assert numbers(s, ActionFilter(group_id=g, owner="U1", statuses=None)) == [5, 1, 2]
        assert numbers(s, ActionFilter(group_id=g, outcomes=[Outcome.STAY_SAFE])) == [1, 2]
        assert numbers(
            s, ActionFilter(group_id=g, outcomes=[Outcome.BE_HEALTHY, Outcome.ECONOMIC_WELLBEING])
        ) == [2, 3]
        # Countywide actions match any district filter.
        assert numbers(s, ActionFilter(group_id=g, district_ids=[d["chorley"]])) == [1, 3]
        assert numbers(s, ActionFilter(group_id=g, district_ids=[d["wyre"], d["preston"]])) == [2, 4, 3]
        assert numbers(s, ActionFilter(group_id=g, created_before=NOW + timedelta(minutes=30))) == [1, 2, 3]
        assert numbers(
            s, ActionFilter(group_id=g, outcomes=[Outcome.STAY_SAFE], district_ids=[d["preston"]], owner="U2")
        ) == [2]
        assert store.count_actions(s, ActionFilter(group_id=g, outcomes=[Outcome.STAY_SAFE])) == 2


def test_every_group_and_paging(engine: Engine, setup: dict[str, Any]) -> None:
    with session_scope(engine) as s:
        rows = store.list_actions(s, ActionFilter(due_before=TODAY))
        assert sorted((r.action.group_id, r.action.number) for r in rows) == [
            (setup["group_id"], 1),
            (setup["other_id"], 1),
        ]
        assert numbers(s, ActionFilter(group_id=setup["group_id"]), limit=2) == [1, 2]
        assert numbers(s, ActionFilter(group_id=setup["group_id"]), limit=2, offset=2) == [4, 3]
        assert numbers(s, ActionFilter(group_id=setup["group_id"]), limit=2, offset=4) == []


def test_rows_carry_owners_outcomes_districts(engine: Engine, setup: dict[str, Any]) -> None:
    with session_scope(engine) as s:
        row = store.get_action(s, setup["group_id"], 2)
        assert row is not None
        assert row.owners == ["U1", "U2"]
        assert row.outcomes == [Outcome.BE_HEALTHY, Outcome.STAY_SAFE]
        assert [x.name for x in row.districts] == ["Preston"]
        county = store.get_action(s, setup["group_id"], 3)
        assert county is not None and county.action.countywide and county.districts == []
        assert store.get_action(s, setup["group_id"], 99) is None
        assert store.get_action(s, setup["other_id"], 2) is None
        assert store.get_action_by_id(s, row.action.id).action.number == 2  # type: ignore[arg-type, union-attr]


def test_no_n_plus_one(engine: Engine, setup: dict[str, Any]) -> None:
    with session_scope(engine) as s:
        g = groups.get_group(s, "T1", "C1")
        for i in range(30):
            store.create_action(
                s,
                g,
                store.NewActionRecord(
                    title=f"bulk {i}",
                    owners=["U1", "U2"],
                    outcomes=[Outcome.STAY_SAFE],
                    district_ids=[setup["districts"]["wyre"]],
                ),
                by="U1",
                at=NOW,
            )
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        with session_scope(engine) as s:
            rows = store.list_actions(s, ActionFilter(group_id=setup["group_id"]))
            assert len(rows) == 34
            assert all(r.owners for r in rows)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    selects = [q for q in statements if q.lstrip().upper().startswith("SELECT")]
    # The actions, their owner/outcome/district links (one UNION ALL), the districts: not one per action.
    assert len(selects) == 3, selects


def test_numbers_are_per_group_and_safe_under_concurrency(engine: Engine, setup: dict[str, Any]) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(5):
                with session_scope(engine) as s:
                    g = groups.get_group(s, "T1", "C1")
                    store.create_action(
                        s,
                        g,
                        store.NewActionRecord(
                            title=f"t{n}-{i}",
                            owners=[f"U{n}"],
                        ),
                        by=f"U{n}",
                        at=NOW,
                    )
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with session_scope(engine) as s:
        got = numbers(s, ActionFilter(group_id=setup["group_id"], statuses=None), order="number")
        assert got == list(range(1, 26))
        assert groups.get_group(s, "T1", "C2").next_action_number == 2  # type: ignore[union-attr]


def test_update_diff_audit_and_notes(engine: Engine, setup: dict[str, Any]) -> None:
    g, d = setup["group_id"], setup["districts"]
    later = NOW + timedelta(days=1)
    with session_scope(engine) as s:
        row = store.get_action(s, g, 1)
        assert row is not None
        diff = store.update_action(
            s,
            row,
            {
                "due_date": TODAY + timedelta(days=5),
                "status": ActionStatus.IN_PROGRESS,
                "rag": Rag.AMBER,
                "owners": ["U3", "U1"],
                "outcomes": [Outcome.ENJOY_AND_ACHIEVE],
                "district_ids": [d["wyre"], d["preston"]],
                "title": "overdue chorley safe",  # unchanged: not in the diff
            },
            by="U1",
            at=later,
            note="Moving on",
        )
        assert diff == {
            "due_date": [(TODAY - timedelta(days=3)).isoformat(), (TODAY + timedelta(days=5)).isoformat()],
            "status": ["open", "in-progress"],
            "rag": [None, "amber"],
            "owners": [["U1"], ["U1", "U3"]],
            "outcomes": [["stay-safe"], ["enjoy-and-achieve"]],
            "districts": [["Chorley"], ["Preston", "Wyre"]],
        }
        assert row.owners == ["U1", "U3"] and [x.name for x in row.districts] == ["Preston", "Wyre"]
    with session_scope(engine) as s:
        fresh = store.get_action(s, g, 1)
        assert fresh is not None
        assert fresh.action.status == ActionStatus.IN_PROGRESS and fresh.action.rag == Rag.AMBER
        assert fresh.owners == ["U1", "U3"] and fresh.outcomes == [Outcome.ENJOY_AND_ACHIEVE]
        assert fresh.action.updated_at == later
        assert [n.text for n in store.notes(s, fresh.action.id)] == ["Moving on"]  # type: ignore[arg-type]
        events = list(
            s.exec(
                select(AuditEvent)
                .where(AuditEvent.entity == "action", AuditEvent.entity_id == fresh.action.id)
                .order_by(col(AuditEvent.id))
            )
        )
        assert [e.verb for e in events] == ["created", "updated"]
        assert events[0].changes["title"] == [None, "overdue chorley safe"]
        assert events[1].changes["rag"] == [None, "amber"] and events[1].note == "Moving on"
        assert events[1].user_id == "U1"

        # Nothing changed: empty diff, no audit row.
        assert (
            store.update_action(s, fresh, {"rag": Rag.AMBER, "owners": ["U3", "U1"]}, by="U1", at=later) == {}
        )
        # Done stamps completed_at; reopening clears it.
        store.update_action(s, fresh, {"status": ActionStatus.DONE}, by="U1", at=later, verb="done")
        assert fresh.action.completed_at == later
        store.update_action(s, fresh, {"status": ActionStatus.OPEN}, by="U1", at=later, verb="reopened")
        assert fresh.action.completed_at is None
        # Countywide and back.
        diff = store.update_action(s, fresh, {"countywide": True}, by="U1", at=later)
        assert diff == {"districts": [["Preston", "Wyre"], "countywide"]} and fresh.districts == []
        note = store.add_note(s, fresh, "Only a note", by="U3", at=later)
        assert note.id is not None
    with session_scope(engine) as s:
        fresh = store.get_action(s, g, 1)
        assert fresh is not None and fresh.action.countywide
        assert numbers(s, ActionFilter(group_id=g, district_ids=[d["chorley"]])) == [1, 3]
        events = list(
            s.exec(
                select(AuditEvent)
                .where(AuditEvent.entity == "action", AuditEvent.entity_id == fresh.action.id)
                .order_by(col(AuditEvent.id))
            )
        )
        assert [e.verb for e in events] == ["created", "updated", "done", "reopened", "updated", "note"]
        assert len(list(s.exec(select(ActionNote)))) == 2


def _meeting_and_decision(
    s: Session, group_id: int, title: str, number: int, text: str
) -> tuple[Meeting, Decision]:
    """An open meeting (flushed, for its id) and a decision recorded in it (added, not flushed)."""
    meeting = Meeting(
        group_id=group_id, title=title, status=MeetingStatus.OPEN, created_at=NOW, started_at=NOW
    )
    s.add(meeting)
    s.flush()
    decision = Decision(
        group_id=group_id,
        number=number,
        meeting_id=meeting.id,
        text=text,
        recorded_by="UCHAIR",
        created_at=NOW,
    )
    s.add(decision)
    return meeting, decision


def test_note_only_update_and_links(engine: Engine, setup: dict[str, Any]) -> None:
    g = setup["group_id"]
    with session_scope(engine) as s:
        meeting, decision = _meeting_and_decision(s, g, "November meeting", 3, "Agree the pathway")
        s.flush()
        row = store.create_action(
            s,
            groups.get_group(s, "T1", "C1"),
            store.NewActionRecord(
                title="linked",
                owners=["U1"],
            ),
            by="U1",
            at=NOW,
            meeting_id=meeting.id,
            decision_id=decision.id,
        )
        assert store.links(s, row.action) == (decision, meeting)
        assert (
            store.list_actions(s, ActionFilter(group_id=g, meeting_id=meeting.id))[0].action.title == "linked"
        )
        diff = store.update_action(s, row, {}, by="U1", at=NOW, note="just saying")
        assert diff == {}
        diff = store.update_action(s, row, {"decision_id": None}, by="U1", at=NOW)
        assert diff == {"decision": ["D3", None]}
        events = list(
            s.exec(
                select(AuditEvent)
                .where(AuditEvent.entity == "action", AuditEvent.entity_id == row.action.id)
                .order_by(col(AuditEvent.id))
            )
        )
        assert [e.verb for e in events] == ["created", "note", "updated"]
        assert events[0].changes["decision"] == [None, "D3"]
        assert events[0].changes["meeting_id"] == [None, meeting.id]
        assert events[1].note == "just saying"
        with pytest.raises(ValueError):
            store.update_action(s, row, {"colour": "red"}, by="U1", at=NOW)


def test_due_key_follows_due_date_and_no_date_sorts_last(engine: Engine, setup: dict[str, Any]) -> None:
    g = setup["group_id"]
    with session_scope(engine) as s:
        row = store.get_action(s, g, 1)
        assert row is not None and row.action.due_key == row.action.due_date
        assert store.get_action(s, g, 3).action.due_key == DUE_NEVER  # type: ignore[union-attr]
        store.update_action(s, row, {"due_date": None}, by="U1", at=NOW)
    with session_scope(engine) as s:
        assert numbers(s, ActionFilter(group_id=g)) == [2, 4, 1, 3]  # both undated ones last, by number
        # A date-range filter never picks up the undated ones through their sort key.
        assert numbers(s, ActionFilter(group_id=g, due_from=TODAY)) == [2, 4]
        row = store.get_action(s, g, 1)
        store.update_action(s, row, {"due_date": TODAY + timedelta(days=1)}, by="U1", at=NOW)  # type: ignore[arg-type]
    with session_scope(engine) as s:
        assert numbers(s, ActionFilter(group_id=g)) == [1, 2, 4, 3]
        assert numbers(s, ActionFilter(group_id=g, due_before=TODAY + timedelta(days=2))) == [1]


def test_page_of_actions_counts_only_when_the_page_cannot_tell(engine: Engine, setup: dict[str, Any]) -> None:
    g = setup["group_id"]
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    for limit, offset, expected in [
        (40, 0, [1, 2, 4, 3]),
        (2, 0, [1, 2]),
        (2, 2, [4, 3]),
        (3, 3, [3]),
        (2, 6, []),
    ]:
        with session_scope(engine) as s:  # one request each (a transaction remembers counts it read)
            statements.clear()
            rows, total = store.page_of_actions(s, ActionFilter(group_id=g), limit=limit, offset=offset)
            assert [r.number for r in rows] == expected and total == 4
            counted = any("count(" in q.lower() or "action_tally" in q for q in statements)
            assert counted == (len(rows) in (0, limit) and not (offset == 0 and not rows)), (limit, offset)


def test_group_counts_and_slices(engine: Engine, setup: dict[str, Any]) -> None:
    g, d = setup["group_id"], setup["districts"]
    f = ActionFilter(group_id=g)
    with session_scope(engine) as s:
        outcomes = {c.key: c.count for c in store.group_counts(s, f, "outcome")}
        assert outcomes == {"stay-safe": 2, "be-healthy": 1, "economic-wellbeing": 1, None: 1}
        districts = {
            c.key: (c.count, c.district.name if c.district else None)
            for c in store.group_counts(s, f, "district")
        }
        assert districts == {
            d["chorley"]: (1, "Chorley"),
            d["preston"]: (1, "Preston"),
            d["wyre"]: (1, "Wyre"),
            store.COUNTYWIDE: (1, None),
        }
        owners = {c.key: c.count for c in store.group_counts(s, f, "owner")}
        assert owners == {"U1": 2, "U2": 2, "U3": 1}
        assert {c.key: c.count for c in store.group_counts(s, f, "organisation")} == {"Org": 4}
        assert store.group_summary(s, f, "outcome") == store.GroupSummary(actions=4, repeated=1)
        assert store.group_summary(s, f, "owner") == store.GroupSummary(actions=4, repeated=1)
        assert store.group_summary(s, f, "district") == store.GroupSummary(actions=4, repeated=0)
        assert store.repeated_numbers(s, f, "owner", limit=10) == [2]

        def slice_of(by: str, key: Any, limit: int = 10, offset: int = 0) -> list[int]:
            return [a.number for a in store.actions_in_group(s, f, by, [key], limit=limit, offset=offset)]

        assert slice_of("outcome", "stay-safe") == [1, 2]
        assert slice_of("outcome", "stay-safe", limit=1, offset=1) == [2]
        assert slice_of("outcome", None) == [4]
        assert slice_of("district", store.COUNTYWIDE) == [3]
        assert slice_of("district", d["wyre"]) == [4]
        assert slice_of("owner", "U2") == [2, 3]
        assert slice_of("organisation", "Org", limit=2, offset=1) == [2, 4]
        # Filters still apply inside a group, and a filtered list counts only what matches.
        safe = ActionFilter(group_id=g, outcomes=[Outcome.STAY_SAFE])
        assert {c.key: c.count for c in store.group_counts(s, safe, "outcome")} == {
            "stay-safe": 2,
            "be-healthy": 1,
        }
        assert {
            c.key: c.count for c in store.group_counts(s, ActionFilter(group_id=g, owner="U1"), "owner")
        } == {
            "U1": 2,
            "U2": 1,
        }


def test_bulk_create_numbers_links_and_audits_like_create(engine: Engine, setup: dict[str, Any]) -> None:
    g, d = setup["group_id"], setup["districts"]
    with session_scope(engine) as s:
        group = groups.get_group(s, "T1", "C1")
        ids = store.bulk_create_actions(
            s,
            group,  # type: ignore[arg-type]
            [
                store.NewActionRecord(
                    title="bulk one",
                    owners=["U7", "U8"],
                    due_date=TODAY,
                    outcomes=[Outcome.STAY_SAFE],
                    district_ids=[d["wyre"]],
                ),
                store.NewActionRecord(title="bulk two", owners=["U7"], countywide=True),
            ],
            by="UCHAIR",
            at=NOW,
        )
        assert len(ids) == 2
    with session_scope(engine) as s:
        one, two = store.get_action(s, g, 6), store.get_action(s, g, 7)
        assert one is not None and two is not None
        assert (one.owners, one.outcomes, [x.name for x in one.districts]) == (
            ["U7", "U8"],
            [Outcome.STAY_SAFE],
            ["Wyre"],
        )
        assert two.action.countywide and two.action.due_key == DUE_NEVER
        created = s.exec(
            select(AuditEvent).where(AuditEvent.entity == "action", AuditEvent.entity_id == one.action.id)
        ).one()
        assert created.verb == "created" and created.changes["districts"] == [None, ["Wyre"]]
        added = store.create_action(
            s,
            groups.get_group(s, "T1", "C1"),
            store.NewActionRecord(
                title="next",
                owners=["U1"],
            ),
            by="U1",
            at=NOW,
        )
        assert added.number == 8


def test_create_stores_what_it_returns_audits_once_and_tells_the_watchers(
    engine: Engine, setup: dict[str, Any]
) -> None:
    # On PostgreSQL the action, its links, counters and audit event go in as one statement and the returned
    # action joins the session unread: what it returns, what is stored and what a watcher hears must match
    # the ORM path's (SQLite) exactly.
    from storage import audit, tally

    g, d = setup["group_id"], setup["districts"]
    with session_scope(engine) as s:
        # The decision is left pending: the add must flush it before the rows that refer to it.
        meeting, decision = _meeting_and_decision(s, g, "December", 4, "Map it")
        group = groups.get_group(s, "T1", "C1")
        assert group is not None
        before = group.next_action_number
        with audit.watching() as heard:
            row = store.create_action(
                s,
                group,
                store.NewActionRecord(
                    title='Map provision\'s "gaps" \\ 100%',
                    owners=["U2", "U1", "U2"],
                    organisation="Wyre Council",
                    due_date=TODAY + timedelta(days=9),
                    outcomes=[Outcome.STAY_SAFE, Outcome.BE_HEALTHY],
                    district_ids=[d["wyre"], d["chorley"]],
                ),
                by="U1",
                at=NOW,
                meeting_id=meeting.id,
                decision_id=decision.id,
                source_link="https://example.slack.com/archives/C1/p1",
            )
        assert row.number == before and group.next_action_number == before + 1
        assert [(t.entity, t.entity_id, t.user_id, sorted(t.owners)) for t in heard] == [
            ("action", row.action.id, "U1", ["U1", "U2"])
        ]
        # The returned action is the session's own: a change to it in the same transaction is written.
        store.update_action(s, row, {"rag": Rag.GREEN}, by="U1", at=NOW)
        number, action_id = row.number, row.action.id
    with session_scope(engine) as s:
        stored = store.get_action(s, g, number)
        assert stored is not None and stored.action.id == action_id
        a = stored.action
        assert (a.title, a.organisation, a.due_date, a.due_key, a.status, a.rag) == (
            'Map provision\'s "gaps" \\ 100%',
            "Wyre Council",
            TODAY + timedelta(days=9),
            TODAY + timedelta(days=9),
            ActionStatus.OPEN,
            Rag.GREEN,
        )
        assert (a.meeting_id, a.decision_id, a.source_link, a.created_by) == (
            meeting.id,
            decision.id,
            "https://example.slack.com/archives/C1/p1",
            "U1",
        )
        assert a.created_at == NOW and a.completed_at is None and a.snoozed_until is None
        assert stored.owners == ["U1", "U2"]
        assert stored.outcomes == [Outcome.BE_HEALTHY, Outcome.STAY_SAFE]
        assert [x.name for x in stored.districts] == ["Chorley", "Wyre"]
        events = list(
            s.exec(
                select(AuditEvent)
                .where(AuditEvent.entity == "action", AuditEvent.entity_id == action_id)
                .order_by(col(AuditEvent.id))
            )
        )
        assert [e.verb for e in events] == ["created", "updated"]
        assert events[0].at == NOW and events[0].user_id == "U1" and events[0].group_id == g
        assert events[0].changes == {
            "title": [None, 'Map provision\'s "gaps" \\ 100%'],
            "owners": [None, ["U1", "U2"]],
            "organisation": [None, "Wyre Council"],
            "due_date": [None, (TODAY + timedelta(days=9)).isoformat()],
            "outcomes": [None, ["be-healthy", "stay-safe"]],
            "districts": [None, ["Chorley", "Wyre"]],
            "meeting_id": [None, meeting.id],
            "decision": [None, "D4"],
            "source_link": [None, "https://example.slack.com/archives/C1/p1"],
        }
        kept = tally.snapshot(s)
        tally.rebuild(s)
        assert tally.snapshot(s) == kept
