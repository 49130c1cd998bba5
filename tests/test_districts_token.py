"""A group's districts are read once per `TaskGroup.districts_token` and reused by later commands in the same
process: changing them (through `/ecm setup`, or by any other process) gives the group a new token, so the
next command reads and uses the new ones. Revision 0009 gives a token to each group that has districts."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import Engine, event, text

from storage.db import alembic_config, migrate, schema_is_current, session_scope
from storage.groups import get_group, set_districts
from tests.conftest import Core
from tests.support import storage_group

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def _district_reads(core: Core, command: str, user: str = "sam") -> tuple[str, int]:
    statements: list[str] = []

    def listener(*args: object) -> None:
        statements.append(str(args[2]).lstrip())

    event.listen(core.engine, "before_cursor_execute", listener)
    try:
        out = core.command(command, user=user)
    finally:
        event.remove(core.engine, "before_cursor_execute", listener)
    return out.text, sum(s.startswith("SELECT district.") for s in statements)


def test_districts_changed_by_another_process_are_used_by_the_next_command(core: Core) -> None:
    assert not core.command("add Map provision @sam district:chorley", user="sam").is_error
    _text, reads = _district_reads(core, "actions district:chorley")
    assert reads == 0  # read under this token already, by the add
    with session_scope(core.engine) as s:  # as another replica would, on the same database
        group = get_group(s, core.team_id, core.channel_id)
        assert group is not None
        set_districts(s, group, [("Wyre", "wyre"), ("Fylde", "fylde")], user_id="UOTHER", at=NOW)

    said, reads = _district_reads(core, "actions district:chorley")
    assert reads == 1 and "chorley" in said.lower() and "Wyre" in said, said  # unknown now: says which are
    said, reads = _district_reads(core, "actions district:fylde")
    assert reads == 0 and "district Fylde" in said, said
    said, _ = _district_reads(core, "add Beach safety @sam district:fylde")
    assert "Fylde" in said, said


def test_setup_gives_a_new_token_and_the_next_list_uses_the_new_districts(core: Core) -> None:
    assert not core.command("actions district:preston").is_error
    assert not core.command('setup districts:"Preston, Ribble Valley"', user="chair").is_error
    said, reads = _district_reads(core, "add Walk to school @sam district:ribble-valley")
    assert reads == 1 and "Ribble Valley" in said, said
    said, reads = _district_reads(core, "actions district:ribble-valley")
    assert reads == 0 and "Walk to school" in said, said


def test_upgrade_gives_a_token_to_each_group_with_districts(engine: Engine) -> None:
    with session_scope(engine) as s:
        storage_group(s, "C1", ("Chorley", "Wyre"), at=NOW)
        storage_group(s, "C2", ("Pendle",), at=NOW)
        storage_group(s, "C3", (), at=NOW)
    command.downgrade(alembic_config(engine), "0008")  # just before 0009
    migrate(engine)
    assert schema_is_current(engine)
    with engine.connect() as conn:
        tokens = dict(
            conn.execute(text("SELECT channel_id, districts_token FROM task_group ORDER BY channel_id")).all()
        )
    assert tokens["C3"] is None
    assert tokens["C1"] and tokens["C2"] and tokens["C1"] != tokens["C2"]
