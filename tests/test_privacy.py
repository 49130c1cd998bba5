"""UK GDPR: `ecm-bot person export` (subject access), `ecm-bot person forget` (erasure) and retention."""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from bot.cli import main as ecm_bot
from bot.jobs.dispatcher import dispatch_due
from bot.jobs.planner import plan
from bot.offline import OfflineWorkspace
from bot.scheduler import apply_retention
from storage.clock import FixedClock
from tests.conftest import LONDON, PG_URL, prepare
from tests.upgrade_support import dump


@pytest.fixture
def cli(
    engine: Engine, pg_schema: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """Runs `ecm-bot ARGS` in-process on the test's database; returns (exit code, stdout and stderr)."""
    url = (
        str(engine.url)
        if engine.dialect.name == "sqlite"
        else f"{PG_URL}?options=-csearch_path%3D{pg_schema}"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)

    def run(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
        capsys.readouterr()
        code = ecm_bot(list(args))
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    yield run


def _busy_group(ws: OfflineWorkspace, clock: FixedClock) -> None:
    """Sam owns, writes, attends and gets DMs; Priya too, so we can see her data is left alone."""
    steps = [
        ("sam", "add Map youth provision in Chorley due:20/11/2026 outcome:enjoy district:chorley"),
        ("chair", "add Joint leaflet @sam @priya due:friday outcome:safe"),
        ("sam", 'update 2 "Draft sent to <@SAM> and <@PRIYA> for comments"'),
        ("priya", 'update 2 "Priya\'s comments back"'),
        ("chair", 'meeting start "December"'),
        ("sam", "here"),
        ("priya", "here as:virtual"),
        ("chair", "apologies @dev"),
        ("chair", 'decide "Sam to lead the leaflet"'),
        ("sam", 'note "Chorley youth forum meets in January"'),
        ("chair", "meeting end"),
    ]
    for user, command in steps:  # through the core: the tests look at what is stored, not these replies
        prepare(ws, command.replace("<@SAM>", "@sam").replace("<@PRIYA>", "@priya"), user=user)
    plan(ws.engine, clock.now().date(), tz="Europe/London", now=clock.now())
    dispatch_due(ws.engine, ws.services.client, clock, tz="Europe/London")
    assert any(m.channel == ws.user("sam") for m in ws.standin.messages), "sam got his chaser DM"


def _mentions(tables: dict[str, list[dict[str, Any]]], user_id: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for name, rows in tables.items():
        hits = sum(1 for row in rows if user_id in json.dumps(row))
        if hits:
            found[name] = hits
    return found


def test_export_writes_everything_about_a_person_as_json_and_csv(
    group: OfflineWorkspace, clock: FixedClock, cli: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _busy_group(group, clock)
    sam = group.user("sam")
    code, out = cli("person", "export", sam, "--out", str(tmp_path / "sar"), capsys=capsys)
    assert code == 0, out
    document = json.loads((tmp_path / "sar" / f"person-{sam}.json").read_text())
    sections = document["sections"]
    for section in ("member", "action_owner", "action_note", "attendance", "audit_event", "notification"):
        assert sections.get(section), f"no {section} in the export: {sorted(sections)}"
    # Everything the database holds that names sam is in the export, and nothing that doesn't.
    assert {k: v for k, v in _mentions(dump(group.engine), sam).items()} == {
        name: len(rows) for name, rows in sections.items() if name != "actions_owned"
    }
    for rows in sections.values():
        for row in rows:
            assert sam in json.dumps(row) or "title" in row
    assert [a["title"] for a in sections["actions_owned"]] == [
        "Map youth provision in Chorley",
        "Joint leaflet",
    ]
    assert any(n["recipient"] == sam for n in sections["notification"])
    for name, rows in sections.items():
        with (tmp_path / "sar" / f"person-{sam}-{name}.csv").open(encoding="utf-8") as handle:
            assert len(list(csv.DictReader(handle))) == len(rows)
    assert "person-" in out and "action_note" in out

    code, out = cli("person", "export", "sam", capsys=capsys)
    assert code == 2 and "'sam' is not a Slack user id" in out


def test_forget_pseudonymises_everywhere_and_keeps_records_adding_up(
    group: OfflineWorkspace, clock: FixedClock, cli: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _busy_group(group, clock)
    sam, priya = group.user("sam"), group.user("priya")
    before = dump(group.engine)
    minutes_before = group.command("minutes 1", user="priya").text
    listing_before = group.command("actions all", user="priya").text

    code, out = cli("person", "forget", sam, capsys=capsys)
    assert code == 0 and "Would forget" in out and "--yes" in out
    assert dump(group.engine) == before, "without --yes nothing changes"

    code, out = cli("person", "forget", sam, "--yes", capsys=capsys)
    assert code == 0, out
    assert f"Forgot {sam}" in out and "action_owner.user_id" in out and "audit_event.user_id" in out
    after = dump(group.engine)
    assert _mentions(after, sam) == {}, "the person's id is gone from every table"
    assert _mentions(after, priya) == _mentions(before, priya), "nobody else's data changed"
    # Same rows everywhere (one more audit event: the erasure itself), same numbering.
    assert {t: len(r) for t, r in after.items() if t != "audit_event"} == {
        t: len(r) for t, r in before.items() if t != "audit_event"
    }
    assert len(after["audit_event"]) == len(before["audit_event"]) + 1
    erasure = after["audit_event"][-1]
    assert erasure["entity"] == "person" and erasure["verb"] == "forgotten" and sam not in json.dumps(erasure)
    assert [a["number"] for a in after["action"]] == [a["number"] for a in before["action"]]
    pseudonym = erasure["changes"]["pseudonym"][1]
    assert {o["user_id"] for o in after["action_owner"]} == {pseudonym, priya}
    assert all(m["display_name"] == "Former member" for m in after["member"] if m["user_id"] == pseudonym)

    # The records still read: minutes, the register, attendance.
    minutes = group.command("minutes 1", user="priya")
    assert not minutes.is_error and "Sam to lead the leaflet" in minutes.text
    assert minutes.text.count("\n") == minutes_before.count("\n")
    listing = group.command("actions all", user="priya")
    assert not listing.is_error and listing.text.count("\n") == listing_before.count("\n")
    assert not group.command("attendance by:member", user="priya").is_error

    code, out = cli("person", "forget", sam, "--yes", capsys=capsys)
    assert code == 0 and "nothing to forget" in out


def test_forget_is_all_or_nothing(
    group: OfflineWorkspace, clock: FixedClock, cli: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _busy_group(group, clock)
    sam = group.user("sam")
    # The database refuses one of the many updates, part-way through.
    with group.engine.begin() as conn:
        if group.engine.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE UPDATE ON attendance BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'disk trouble'; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE UPDATE ON attendance FOR EACH ROW EXECUTE FUNCTION refuse()"
                )
            )
    before = dump(group.engine)
    try:
        code, out = cli("person", "forget", sam, "--yes", capsys=capsys)
        assert code == 1 and "nothing was changed" in out and "disk trouble" in out
        assert dump(group.engine) == before
    finally:
        with group.engine.begin() as conn:
            if group.engine.dialect.name == "sqlite":
                conn.execute(text("DROP TRIGGER refuse"))
            else:
                conn.execute(text("DROP TRIGGER refuse ON attendance"))
                conn.execute(text("DROP FUNCTION refuse()"))


def test_retention_prunes_closed_actions_notes_and_finished_posts_daily(
    group: OfflineWorkspace, clock: FixedClock, cli: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Early 2025: an action is done (with notes) and a chaser DM goes out.
    clock.set(datetime(2025, 1, 13, 9, 30, tzinfo=LONDON))
    for user, command in [
        ("sam", "add Old survey due:10/01/2025 outcome:healthy"),
        ("chair", 'meeting start "January"'),
        ("chair", 'decide "Run the survey every year"'),
        ("chair", "meeting end"),
    ]:
        prepare(group, command, user=user)
    plan(group.engine, clock.now().date(), tz="Europe/London", now=clock.now())
    dispatch_due(group.engine, group.services.client, clock, tz="Europe/London")
    prepare(group, 'update 1 "Fieldwork started"', 'done 1 "Survey published"', user="sam")
    # Now: a live action with a note, and today's DM.
    clock.set(datetime(2026, 11, 23, 9, 30, tzinfo=LONDON))
    prepare(
        group, "add New survey due:20/11/2026 outcome:healthy", 'update 2 "Questions drafted"', user="sam"
    )
    plan(group.engine, clock.now().date(), tz="Europe/London", now=clock.now())
    dispatch_due(group.engine, group.services.client, clock, tz="Europe/London")
    before = dump(group.engine)
    old_posts = [n for n in before["notification"] if n["for_date"] < "2026-01-01"]
    new_posts = [n for n in before["notification"] if n["for_date"] >= "2026-01-01"]
    assert old_posts and new_posts and all(n["status"] == "sent" for n in before["notification"])

    code, out = cli("prune", "--days", "365", "--dry-run", capsys=capsys)
    assert code == 0 and "Would delete" in out and "2 notes of closed actions" in out
    assert dump(group.engine) == before

    services = dataclasses.replace(
        group.services, settings=group.services.settings.model_copy(update={"ecm_retention_days": 365})
    )
    pruned = apply_retention(services)
    assert pruned is not None and pruned.action_notes == 2 and pruned.outbox_rows == len(old_posts)
    after = dump(group.engine)
    old_id = next(a["id"] for a in after["action"] if a["number"] == 1)
    assert [n for n in after["action_note"] if n["action_id"] == old_id] == []
    assert [n["text"] for n in after["action_note"]] == ["Questions drafted"]
    assert after["notification"] == new_posts
    # The register and decisions stay; the audit trail keeps the events, without the pruned note text.
    assert [a["title"] for a in after["action"]] == ["Old survey", "New survey"]
    assert after["decision"] == before["decision"]
    assert not any(
        e["note"] for e in after["audit_event"] if e["entity"] == "action" and e["entity_id"] == old_id
    )
    assert after["audit_event"][-1]["verb"] == "pruned"
    show = group.command("show 1", user="sam")
    assert not show.is_error and "Old survey" in show.text and "Survey published" not in show.text
    assert apply_retention(services) is None, "once a day"
