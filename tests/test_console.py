"""`ecm-bot console`: the real app offline, driven by a script."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import cli


@pytest.fixture
def migrated(sqlite_template: Path, tmp_path: Path) -> None:
    """The console's database already at the newest schema, for the tests about something else: the first
    test below starts on an empty one, as `ecm-bot console` does the first time."""
    shutil.copy(sqlite_template, tmp_path / "console.db")


def run_console(tmp_path: Path, script: str, *extra: str) -> int:
    path = tmp_path / "session.ecm"
    path.write_text(script, encoding="utf-8")
    return cli.main(
        [
            "console",
            "--database",
            f"sqlite:///{tmp_path}/console.db",
            "--script",
            str(path),
            "--as-of",
            "2026-11-23",
            *extra,
        ]
    )


def test_script_runs_commands_and_prints_what_slack_would_show(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_console(
        tmp_path,
        """
# a chair sets the group up
/ecm setup name:"Fylde & Wyre <Group>" preset:lancashire
/ecm member @sam district:chorley
as:@sam
/ecm districts
""",
        "--strict",
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "#ecm-task-group" in out and "Fylde & Wyre <Group> is set up" in out
    assert "(now acting as @sam)" in out and "only you can see this" in out and "West Lancashire" in out
    assert "@sam — Chorley" in out  # mentions shown as names, not raw ids


@pytest.mark.usefixtures("migrated")
def test_typed_angle_brackets_are_escaped_as_slack_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_console(tmp_path, '/ecm setup name:"<b>Bold</b> & <!channel>"\n/ecm setup\n', "--strict")
    out = capsys.readouterr().out
    assert code == 0
    assert "*Name:* <b>Bold</b> & <!channel>" in out


@pytest.mark.usefixtures("migrated")
def test_strict_script_stops_at_first_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_console(tmp_path, "/ecm districts\n/ecm help\n", "--strict")
    out = capsys.readouterr().out
    assert code == 1
    assert "not a task group yet" in out and "Stopping" in out
    assert "ECM task group bot" not in out  # help never ran


@pytest.mark.usefixtures("migrated")
def test_non_strict_script_carries_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_console(tmp_path, "/ecm frobnicate\n/ecm outcomes\n") == 0
    out = capsys.readouterr().out
    assert "Did you mean" in out or "don't know the command" in out
    assert "Stay Safe" in out


def test_as_of_clock_starts_at_half_past_nine_and_ticks() -> None:
    from datetime import date, timedelta

    from storage.clock import FixedClock, clock_for

    clock = clock_for(date(2026, 11, 23), "Europe/London", ticking=True)
    first = clock.now()
    assert first.isoformat().startswith("2026-11-23T09:30")
    assert isinstance(clock_for(date(2026, 11, 23), "Europe/London"), FixedClock)
    assert timedelta(0) <= clock.now() - first < timedelta(seconds=5)


@pytest.mark.usefixtures("migrated")
def test_people_keep_their_names_when_the_console_is_reopened(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run_console(tmp_path, "/ecm setup preset:lancashire\n/ecm member @sam district:chorley\n", "--strict")
        == 0
    )
    capsys.readouterr()
    assert run_console(tmp_path, "/ecm members\n", "--strict") == 0  # a new console, the same database
    out = capsys.readouterr().out
    assert "@sam — Chorley" in out and "@chair" in out


def test_console_shows_channel_references_as_names(tmp_path: Path, sqlite_template: Path) -> None:
    from bot.offline import OfflineWorkspace
    from storage.clock import FixedClock
    from storage.db import make_engine, migrate
    from tests.conftest import london

    shutil.copy(sqlite_template, tmp_path / "c.db")
    engine = make_engine(f"sqlite:///{tmp_path}/c.db")
    migrate(engine)
    ws = OfflineWorkspace(engine, FixedClock(london(2026, 11, 23, 9, 30)), channel_name="ecm-task-group")
    try:
        assert (
            ws.readable(f"See <#{ws.channel}> and <#C0OTHER|planning>") == "See #ecm-task-group and #planning"
        )
    finally:
        ws.close()
        engine.dispose()
