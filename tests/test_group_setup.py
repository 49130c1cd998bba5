"""The `group` fixture's commands through Slack: the fixture runs them through the core (no Bolt round trip
each, so the many tests that start from a group start fast); here they go through Bolt, and what they write
is what the fixture writes."""

from __future__ import annotations

from sqlalchemy import Engine, select, text
from sqlmodel import SQLModel

from bot.offline import OfflineWorkspace
from tests.conftest import GROUP_SETUP, Core, restore_group, set_up_core, set_up_group

# The retry guard's keys: a signed request has one, a core call has none. Everything else must match.
NOT_COMPARED = {"processed_request"}


def _rows(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table but the random districts token (a new one each time districts are set)."""
    with engine.connect() as conn:
        return {
            table.name: [
                tuple(v for k, v in r._mapping.items() if k != "districts_token")
                for r in conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in SQLModel.metadata.sorted_tables
            if table.name not in NOT_COMPARED
        }


def _empty(engine: Engine) -> None:
    """Every table emptied and its numbering restarted, as a fresh database has it."""
    names = [t.name for t in SQLModel.metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(SQLModel.metadata.sorted_tables):
                conn.execute(table.delete())
            if conn.execute(text("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'")).first():
                conn.execute(text("DELETE FROM sqlite_sequence"))


def test_the_group_setup_through_slack_writes_what_the_fixture_writes(
    ws: OfflineWorkspace, engine: Engine
) -> None:
    for command in GROUP_SETUP:
        out = ws.command(command, user="chair")
        assert not out.is_error, (command, out.text)
    posts = [m for m in ws.standin.messages if not m.ephemeral]
    assert posts and "Lancashire ECM Task Group" in ws.readable(posts[0].text)
    through_slack = _rows(engine)
    assert len(through_slack["member"]) == 4 and through_slack["district"] and through_slack["audit_event"]

    _empty(engine)
    set_up_group(ws)
    assert _rows(engine) == through_slack


def test_the_group_fixture_copies_in_exactly_what_the_commands_write(
    ws: OfflineWorkspace, engine: Engine
) -> None:
    """`group` runs the commands once per worker and copies their rows in after that: the copy (rows and
    numbering) is what running them writes."""
    set_up_group(ws)
    ran = _rows(engine)
    for _ in range(2):  # the first may be the one that takes the copy; the second is always restored
        _empty(engine)
        restore_group(ws)
        assert _rows(engine) == ran
    # The numbering goes on where the commands left it: the next action is #1, the next audit event follows.
    out = ws.command("add Check the numbering @sam due:friday")
    assert not out.is_error and "#1" in out.text, out.text
    assert _rows(engine)["audit_event"][-1][0] == ran["audit_event"][-1][0] + 1


def test_the_core_fixture_copies_in_exactly_what_the_commands_write(core: Core, engine: Engine) -> None:
    restored = _rows(engine)
    _empty(engine)
    set_up_core(core)
    assert _rows(engine) == restored
