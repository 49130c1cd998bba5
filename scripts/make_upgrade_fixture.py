#!/usr/bin/env python3
"""Writes the upgrade fixture of a release: a realistic task group made by the real app, dumped as JSON.

Run it from the release's own checkout (its code matches its schema), once per release:

    git worktree add /tmp/ecm-0.1.0 v0.1.0 && cd /tmp/ecm-0.1.0
    python scripts/make_upgrade_fixture.py /path/to/repo/tests/fixtures/upgrade/0.1.0.json

The group is built the way people build one: signed slash commands and button clicks through the Bolt app
against the local Slack stand-in, on an injected clock, then the scheduled jobs plan and send their posts.
`tests/test_upgrade.py` loads every fixture at its revision, upgrades it to head and checks nothing was lost.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alembic.script import ScriptDirectory  # noqa: E402

from bot.jobs.dispatcher import dispatch_due  # noqa: E402
from bot.jobs.planner import plan  # noqa: E402
from bot.offline import OfflineWorkspace  # noqa: E402
from commands.posts.common import DONE_ACTION  # noqa: E402
from storage.clock import FixedClock  # noqa: E402
from storage.db import alembic_config, make_engine, migrate  # noqa: E402
from tests.upgrade_support import dump  # noqa: E402

LONDON = ZoneInfo("Europe/London")
CHANNEL = "ecm-task-group"

# (when, who, what): a group's first month, as typed in Slack.
SCENARIO: list[tuple[datetime, str, str]] = [
    (datetime(2026, 11, 2, 9, 30), "aisha", 'setup name:"Lancashire ECM Task Group" preset:lancashire'),
    (datetime(2026, 11, 2, 9, 31), "aisha", "member @tom district:chorley"),
    (datetime(2026, 11, 2, 9, 32), "aisha", "member @nadia district:south-ribble"),
    (datetime(2026, 11, 2, 9, 33), "aisha", 'member @gareth org:"Lancashire Constabulary"'),
    (datetime(2026, 11, 2, 9, 34), "aisha", 'member @ruth org:"Central Lancashire PCT" role:chair'),
    (
        datetime(2026, 11, 2, 9, 35),
        "aisha",
        'schedule "Lancashire ECM Task Group" every:"2nd wednesday" at:10:00',
    ),
    (
        datetime(2026, 11, 2, 9, 40),
        "tom",
        'add "Map Children\'s Centre outreach" due:13/11/2026 outcome:healthy district:chorley',
    ),
    (
        datetime(2026, 11, 2, 9, 41),
        "gareth",
        'add "Share youth disorder hotspot maps" due:20/11/2026 outcome:safe district:all',
    ),
    (
        datetime(2026, 11, 2, 9, 42),
        "ruth",
        'add "School nurse drop-ins" @ruth @nadia due:31/03/2027 outcome:healthy,enjoy district:all',
    ),
    (
        datetime(2026, 11, 2, 9, 43),
        "nadia",
        'add "Free swimming for under-16s" due:16/11/2026 outcome:healthy district:south-ribble org:"South Ribble BC"',
    ),
    (datetime(2026, 11, 11, 10, 0), "aisha", 'meeting start "November task group"'),
    (datetime(2026, 11, 11, 10, 1), "tom", "here"),
    (datetime(2026, 11, 11, 10, 1), "nadia", "here as:virtual"),
    (datetime(2026, 11, 11, 10, 2), "aisha", "present @fiona for:@gareth"),
    (datetime(2026, 11, 11, 10, 2), "aisha", "apologies @ruth"),
    (datetime(2026, 11, 11, 10, 3), "aisha", "present @nadia"),
    (datetime(2026, 11, 11, 10, 10), "aisha", 'decide "Adopt the joint CAF training programme"'),
    (
        datetime(2026, 11, 11, 10, 15),
        "aisha",
        'decide "Youth council to lead the plan consultation" status:deferred',
    ),
    (
        datetime(2026, 11, 11, 10, 20),
        "tom",
        'add "Book CAF training dates" due:end of january decision:D1 outcome:safe,economic district:chorley,south-ribble',
    ),
    (
        datetime(2026, 11, 11, 10, 25),
        "nadia",
        'note "Leisure centres report more free swimming since the summer"',
    ),
    (
        datetime(2026, 11, 11, 10, 30),
        "gareth",
        'update 2 status:in-progress rag:amber "Maps shared with Chorley and Preston"',
    ),
    (datetime(2026, 11, 11, 10, 45), "aisha", "meeting end"),
    (datetime(2026, 11, 18, 14, 0), "nadia", 'done 4 "Scheme running in all three leisure centres"'),
    (datetime(2026, 11, 18, 14, 5), "aisha", 'drop 3 "Covered by the PCT\'s own programme"'),
    (datetime(2026, 11, 18, 14, 6), "aisha", "reopen 3"),
    (datetime(2026, 11, 19, 11, 0), "gareth", 'snooze 2 until:30/11/2026 "Waiting for the district data"'),
    (datetime(2026, 11, 19, 11, 5), "aisha", "schedule cancel 09/12/2026"),
    (datetime(2026, 11, 20, 15, 0), "aisha", 'meeting start "Extra meeting"'),
    (datetime(2026, 11, 20, 15, 5), "aisha", 'meeting cancel "Not quorate"'),
]


def build(path: Path) -> dict[str, object]:
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    clock = FixedClock(SCENARIO[0][0].replace(tzinfo=LONDON))
    ws = OfflineWorkspace(engine, clock, channel_name=CHANNEL)
    try:
        for when, user, text in SCENARIO:
            clock.set(when.replace(tzinfo=LONDON))
            out = ws.command(text, user=user)
            if out.is_error:
                raise SystemExit(f"/ecm {text} (as @{user}) failed:\n{out.text}")
        # Monday 23 November: the morning's chasers and digest go out; Tom clicks Done in his DM.
        clock.set(datetime(2026, 11, 23, 9, 30, tzinfo=LONDON))
        plan(engine, clock.now().date(), tz="Europe/London", now=clock.now())
        dispatch_due(engine, ws.services.client, clock, tz="Europe/London")
        tom = ws.user("tom")
        for message in list(ws.standin.messages):
            if message.channel != tom:
                continue
            for block in message.blocks:
                for element in block.get("elements") or []:
                    if element.get("action_id") == DONE_ACTION:
                        ws.click(DONE_ACTION, element["value"], "tom", message.channel, message.ts)
                        break
        users = {name: ws.user(name) for name in sorted(ws.users)}
    finally:
        ws.close()
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    tables = dump(engine)
    engine.dispose()
    return {"revision": head, "channel": CHANNEL, "users": users, "tables": tables}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "out", type=Path, help="where to write the fixture (tests/fixtures/upgrade/VERSION.json)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fixture = build(Path(tmp) / "fixture.db")
    args.out.write_text(json.dumps(fixture, indent=1, sort_keys=True, ensure_ascii=False) + "\n", "utf-8")
    counts = ", ".join(f"{name} {len(rows)}" for name, rows in fixture["tables"].items() if rows)  # type: ignore[attr-defined]
    print(f"wrote {args.out} at revision {fixture['revision']}: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
