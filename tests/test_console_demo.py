"""`ecm-bot console --demo`: a newcomer's first run shows a working Lancashire plan (through the console)."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from bot import cli
from bot.demo import demo_script


def run_demo(tmp_path: Path, as_of: str, script: str) -> int:
    path = tmp_path / "session.ecm"
    path.write_text(script, encoding="utf-8")
    return cli.main(
        [
            "console",
            "--demo",
            "--database",
            f"sqlite:///{tmp_path}/demo.db",
            "--as-of",
            as_of,
            "--script",
            str(path),
            "--strict",
        ]
    )


def test_demo_loads_a_working_lancashire_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run_demo(
        tmp_path,
        "2026-11-23",
        "/ecm districts\n/ecm members\n/ecm actions all\n/ecm actions overdue\n/ecm minutes\n/ecm decisions\n",
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("Loaded the demo: Lancashire ECM Task Group")
    for district in ("Burnley", "Chorley", "Fylde", "Hyndburn", "Lancaster", "Pendle", "Preston",
                     "Ribble Valley", "Rossendale", "South Ribble", "West Lancashire", "Wyre"):  # fmt: skip
        assert district in out
    for org in ("Lancashire County Council", "Lancashire Constabulary", "NHS Lancashire and South Cumbria"):
        assert org in out
    assert "Actions (12)" in out or "12 actions" in out
    overdue = re.search(r"Overdue actions \((\d+)\)", out)
    assert overdue and int(overdue.group(1)) >= 3, out
    for outcome in ("_healthy", "_safe", "_enjoy", "_positive", "_economic"):
        assert outcome in out
    assert "Minutes: Task group meeting" in out and "*D1*" in out and "*D3* _(deferred)_" in out


def test_demo_people_are_roles_not_names() -> None:
    handles = set()
    for _day, who, command in demo_script(date(2026, 11, 23)):
        handles.add(who)
        handles.update(re.findall(r"@([a-z][\w.\-]*)", command))
    assert handles and all(h == "chair" or "." in h for h in handles), handles


@pytest.mark.parametrize("as_of", ["2026-12-29", "2027-04-06"])  # just after Christmas; Easter Tuesday
def test_demo_loads_on_any_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], as_of: str, sqlite_template: Path
) -> None:
    shutil.copy(sqlite_template, tmp_path / "demo.db")  # migrated: the test above loads into a new one
    assert run_demo(tmp_path, as_of, "/ecm status\n") == 0, capsys.readouterr()
