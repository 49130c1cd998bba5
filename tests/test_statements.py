"""How many SQL statements a command sends (each is a round trip to PostgreSQL): pinned, so a change that
adds a query per command shows here. Counted with a `before_cursor_execute` listener on the core tier, on
SQLite and PostgreSQL; a transaction's BEGIN (sent as a statement on SQLite only) is not counted."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, event

from tests.conftest import Core


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def listener(*args: object) -> None:
        statement = " ".join(str(args[2]).split())
        if not statement.upper().startswith("BEGIN"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def test_add_sends_ten_statements_on_sqlite_and_four_on_postgresql(core: Core) -> None:
    # The group with the caller's membership, the retry guard, the open meeting, then: on SQLite the number,
    # the action, its three kinds of link, the counters (one upsert) and the audit event; on PostgreSQL all
    # seven of those as one statement (`storage.actions._INSERT_ACTION_AT_ONCE`). The districts (for
    # `district:` and the links) were read by the first command under the group's districts token.
    core.command("add First @sam", user="sam")
    with counted(core.engine) as statements:
        out = core.command(
            "add Map provision @sam outcome:safe district:chorley,preston",
            user="sam",
            request_key="trigger-1",
        )
    assert not out.is_error, out.text
    postgresql = core.engine.dialect.name == "postgresql"
    assert len(statements) == (4 if postgresql else 10), "\n".join(statements)
    assert sum(s.startswith("SELECT member.") or "FROM member" in s for s in statements) == 0, statements
    assert not any(s.startswith("SELECT district.") for s in statements), statements
    assert any(s.startswith("INSERT INTO processed_request") for s in statements), statements


def test_a_list_sends_the_group_the_page_its_links_and_the_counters(core: Core) -> None:
    for i in range(3):
        core.command(f"add Item {i} @sam outcome:safe district:chorley", user="sam")
    for command in ("actions", "actions mine", "actions outcome:safe district:chorley"):
        with counted(core.engine) as statements:
            out = core.command(command, user="sam")
        assert "Item 2" in out.text, out.text
        # group + caller, the page, its owners, outcomes and districts (read with the links; a filter's
        # districts are read to parse it): a short page needs no count.
        assert len(statements) <= 6, (command, statements)
        if "district:" in command:  # the districts came with the group: no statement of their own
            assert not any(s.startswith("SELECT district.") for s in statements), statements


def test_a_filtered_list_tests_the_masks_in_the_index_district_first(core: Core) -> None:
    """The page walks the due-date index and tests each action it passes on the masks that index carries
    (no probe of a link table); the district (one of a dozen) turns more away than the outcome (one of five),
    so it is tested first. (A filter whose districts the transaction does not hold reads their bits, and the
    link rows of one without a bit: tests/test_action_masks.py.)"""
    core.command("add Item @sam outcome:safe district:chorley", user="sam")
    with counted(core.engine) as statements:
        out = core.command("actions outcome:safe district:chorley", user="sam")
    assert "Item" in out.text, out.text
    page = next(s for s in statements if s.startswith("SELECT page."))
    walk = page[page.index("FROM action WHERE") :]
    assert walk.index("action.district_mask &") < walk.index("action.outcome_mask &"), walk
    # The command's group's districts are held, bits and all: their mask is bound, and nothing else is read.
    assert "FROM action_outcome" not in walk and "FROM action_district" not in walk, walk
    assert "FROM district" not in walk, walk


def test_a_district_list_on_postgresql_probes_each_action_instead_of_hashing_the_district(
    core: Core,
) -> None:
    """Under `countywide OR …` PostgreSQL would hash every link row of the district before the first row of
    the page (11,000 rows at 100,000 actions); the filter is written so it probes one action at a time."""
    if core.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner")
    from sqlalchemy import text

    from storage.models import Outcome
    from tests.support import make_actions

    for district in ("chorley", "preston", "wyre"):
        make_actions(core, 150, district=district, outcomes=[Outcome.STAY_SAFE])
    with core.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    seen: list[tuple[str, object]] = []

    def listener(_conn: object, _cursor: object, statement: str, parameters: object, *_args: object) -> None:
        seen.append((statement, parameters))

    event.listen(core.engine, "before_cursor_execute", listener)
    try:
        out = core.command("actions outcome:safe district:chorley", user="sam")
    finally:
        event.remove(core.engine, "before_cursor_execute", listener)
    assert not out.is_error, out.text
    statement, parameters = next((s, p) for s, p in seen if s.lstrip().startswith("SELECT page."))
    with core.engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute("EXPLAIN " + statement, parameters)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using ix_action_group_due_key" in plan, plan
    assert "hashed" not in plan, plan


def test_a_district_in_a_group_without_districts_says_so(engine: Engine, clock: object) -> None:
    """The districts read with the group are none at all: the command says how to add them."""
    bare = Core(engine, clock, channel_id="C0BARE")  # type: ignore[arg-type]
    assert not bare.command('setup name:"No districts yet"').is_error
    for command in ("actions district:chorley", "add Map provision district:chorley"):
        out = bare.command(command)
        assert out.is_error and "no districts yet" in out.text, (command, out.text)
