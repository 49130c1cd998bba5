"""Command latency through the real Bolt app and the local Slack stand-in, on a realistic action plan.

Seeds a Lancashire task group with N actions (default 5000) spread over outcomes, districts and owners,
then times `/ecm` commands end to end (signed request -> Bolt -> commands -> storage -> reply posted at the
stand-in). Prints p50/p95/max per command and peak RSS. SQLite always; PostgreSQL too when
ECM_TEST_DATABASE_URL is set. Stops by itself.

    .venv/bin/python bench/commands_bench.py [--actions 5000] [--repeat 30]
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from bench.pg_schema import each_database  # noqa: E402
from bot.offline import OfflineWorkspace  # noqa: E402
from storage import actions, groups  # noqa: E402
from storage.clock import FixedClock  # noqa: E402
from storage.db import make_engine, migrate, session_scope  # noqa: E402
from storage.models import Outcome  # noqa: E402

COMMANDS = [
    "actions",
    "actions outcome:safe district:chorley",
    "actions overdue by:district",
    "actions all owner:@sam page:3",
    "show 42",
    "add Benchmark action @sam due:next friday outcome:safe district:chorley",
    'update 42 "progress note" rag:amber',
]


def seed(ws: OfflineWorkspace, count: int) -> None:
    ws.command('setup name:"Bench Group" preset:lancashire')
    owners = [ws.user(n) for n in ("sam", "priya", "dev", "alex", "jo")]
    for name in ("sam", "priya", "dev", "alex", "jo"):
        ws.command(f"member @{name} district:chorley")
    rng = random.Random(7)
    now = ws.clock.now()
    with session_scope(ws.engine) as session:
        group = groups.get_group(session, ws.standin.team_id, ws.channel)
        assert group is not None
        districts = groups.list_districts(session, group.id)  # type: ignore[arg-type]
        for i in range(count):
            picked = rng.sample(districts, k=rng.randint(1, 2))
            actions.create_action(
                session,
                group,
                actions.NewActionRecord(
                    title=f"Seeded action {i}",
                    owners=[rng.choice(owners)],
                    organisation="Chorley",
                    due_date=date(2026, 11, 23) + timedelta(days=rng.randint(-60, 120)),
                    outcomes=rng.sample(list(Outcome), k=rng.randint(1, 2)),
                    district_ids=[d.id for d in picked],
                    countywide=rng.random() < 0.1,
                ),
                by=owners[0],
                at=now,
            )


def bench(url: str, label: str, count: int, repeat: int, connect_args: dict | None = None) -> None:
    engine = make_engine(url, connect_args=connect_args) if connect_args else make_engine(url)
    migrate(engine)
    clock = FixedClock(datetime(2026, 11, 23, 9, 30, tzinfo=ZoneInfo("Europe/London")))
    ws = OfflineWorkspace(engine, clock)
    try:
        started = time.perf_counter()
        seed(ws, count)
        print(f"\n{label}: seeded {count} actions in {time.perf_counter() - started:.1f}s")
        print(f"{'command':<72} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for command in COMMANDS:
            timings = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                exchange = ws.command(command, user="sam" if "update" not in command else "chair")
                timings.append((time.perf_counter() - t0) * 1000)
                assert not exchange.is_error, exchange.text
            timings.sort()
            p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
            print(f"{command:<72} {statistics.median(timings):8.1f} {p95:8.1f} {timings[-1]:8.1f}")
    finally:
        ws.close()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--actions", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    for url, label, connect_args in each_database():
        bench(url, label, args.actions, args.repeat, connect_args)
    print(f"\npeak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
