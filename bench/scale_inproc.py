"""In-process scaling of the list commands (no HTTP, no Bolt): one group growing 1k -> 10k -> 100k actions,
each command run through `commands.dispatch.run_command` on the seeded engine, p50 and the statements each
sends; `--profile COMMAND` prints a cProfile of that command at the largest size.

    .venv/bin/python bench/scale_inproc.py [--scale 1000,10000,100000] [--repeat 20] [--profile "actions mine"]

SQLite always; PostgreSQL too when ECM_TEST_DATABASE_URL is set (a private schema, dropped afterwards).
The seeded actions are `county_bench.records`'s. The machine may be shared: the load average is printed.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, event  # noqa: E402

from bench.county_bench import DISTRICTS, NOW, TZ, analyse, records  # noqa: E402
from bench.pg_schema import each_database  # noqa: E402
from commands.context import Context  # noqa: E402
from commands.dispatch import run_command  # noqa: E402
from commands.text import slugify  # noqa: E402
from storage import actions, groups, members  # noqa: E402
from storage.clock import FixedClock  # noqa: E402
from storage.db import make_engine, migrate, refresh_statistics, session_scope  # noqa: E402
from storage.models import Role, TaskGroup  # noqa: E402

COMMANDS = [
    "actions",
    "actions outcome:safe district:chorley",
    "actions outcome:safe",
    "actions district:chorley",
    "actions mine",
    "actions overdue by:district",
    "actions by:outcome",
    "actions by:owner",
    "actions by:org",
    "show 7",
    "add Bench action outcome:safe district:chorley",
]
CHAIR, ME = "UBENCHCHAIR", "UBENCHME"


def bench_context(engine: Engine, clock: FixedClock, key: str) -> Context:
    """A command as ME sends it in the bench channel; the request key is new each time (no retry guard hit)."""
    return Context(
        engine=engine,
        clock=clock,
        team_id="T1",
        channel_id="CBENCH",
        user_id=ME,
        request_key=f"{key}-{time.monotonic_ns()}",
    )


def seed(engine: Engine, group_id: int | None, count: int, rng: random.Random) -> int:
    with session_scope(engine) as session:
        if group_id is None:
            group = groups.create_group(
                session,
                team_id="T1",
                channel_id="CBENCH",
                name="Bench",
                county="Lancashire",
                timezone=TZ,
                user_id=CHAIR,
                at=NOW,
            )
            groups.set_districts(session, group, [(d, slugify(d)) for d in DISTRICTS], user_id=CHAIR, at=NOW)
            members.upsert_member(session, group, CHAIR, by=CHAIR, at=NOW, role=Role.CHAIR)
            members.upsert_member(session, group, ME, by=CHAIR, at=NOW, organisation="Chorley")
        else:
            found = session.get(TaskGroup, group_id)
            assert found is not None
            group = found
        assert group.id is not None
        districts = [d.id for d in groups.list_districts(session, group.id) if d.id is not None]
        owners = [f"UOWNER{i:04d}" for i in rng.sample(range(1500), 30)]
        for start in range(0, count, 5000):
            batch = records(rng, min(5000, count - start), owners, districts, ME)
            actions.bulk_create_actions(session, group, batch, by=CHAIR, at=NOW)
        return group.id


def measure(engine: Engine, command: str, repeat: int, show: bool = False) -> tuple[float, float, int, str]:
    """(p50 ms, fastest ms, statements, first line of the reply); `show` prints the last run's statements
    with the time each took."""
    clock = FixedClock(NOW)
    statements: list[str] = []
    timed: list[tuple[float, str]] = []

    def count(*args: Any) -> None:
        statements.append(args[2])
        args[0].info["ecm_bench_started"] = time.perf_counter()

    def took(*args: Any) -> None:
        started = args[0].info.pop("ecm_bench_started", None)
        if started is not None:
            timed.append(((time.perf_counter() - started) * 1000, " ".join(args[2].split())[:110]))

    event.listen(engine, "after_cursor_execute", took)

    times, first = [], ""
    for i in range(repeat):
        ctx = bench_context(engine, clock, f"bench-{command}-{i}")
        event.listen(engine, "before_cursor_execute", count)
        timed.clear()
        started = time.perf_counter()
        replies = run_command(ctx, command)
        times.append(time.perf_counter() - started)
        event.remove(engine, "before_cursor_execute", count)
        if i == 0:
            first = (replies[0].text if replies else "")[:70]
            n = len(statements)
    event.remove(engine, "after_cursor_execute", took)
    if show:
        for ms, statement in timed:
            print(f"      {ms:6.2f} ms  {statement}")
    return statistics.median(times) * 1000, min(times) * 1000, n, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--profile", action="append", default=[], help="a command to cProfile at the end")
    parser.add_argument("--commands", help="comma-separated subset of the commands")
    parser.add_argument("--statements", action="store_true", help="print each statement's time (last run)")
    parser.add_argument(
        "--db", help="a SQLite file to keep (seeded once, grown to the sizes given, measured again later)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.scale.split(",")]
    commands = args.commands.split(",") if args.commands else COMMANDS
    databases = [(f"sqlite:///{args.db}", "SQLite", None)] if args.db else each_database()
    for url, label, connect_args in databases:
        if args.only and label.lower() != args.only:
            continue
        engine = make_engine(url, **({"connect_args": connect_args} if connect_args else {}))
        migrate(engine)
        rng = random.Random(7)
        group_id, have = None, 0
        with session_scope(engine) as session:
            found = groups.get_group(session, "T1", "CBENCH")
            if found is not None:
                group_id = found.id
                have = actions.count_live(session, actions.ActionFilter(group_id=group_id, statuses=None))
                rng = random.Random(have)
        results: dict[str, list[tuple[float, int]]] = {c: [] for c in commands}
        for size in sizes:
            started = time.perf_counter()
            if size > have or group_id is None:
                group_id = seed(engine, group_id, size - have, rng)
                have = size
            analyse(engine)
            refresh_statistics(engine)
            print(
                f"{label}: {size:,} actions seeded in {time.perf_counter() - started:.1f} s, "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            for command in commands:
                p50, fastest, n, first = measure(engine, command, args.repeat, args.statements)
                results[command].append((p50, n))
                print(
                    f"  {command:45} {p50:7.1f} ms (min {fastest:5.1f})  {n:3} statements  {first!r}",
                    flush=True,
                )
        print(f"\n{label}, p50 ms (statements) at " + " -> ".join(f"{s:,}" for s in sizes))
        for command, found in results.items():
            growth = found[-1][0] / found[0][0] if found and found[0][0] else 0
            print(f"  {command:45} " + " -> ".join(f"{p:.1f} ({n})" for p, n in found) + f"   ×{growth:.2f}")
        for command in args.profile:
            profile = cProfile.Profile()
            clock = FixedClock(NOW)
            for i in range(10):
                ctx = bench_context(engine, clock, f"profile-{i}")
                profile.runcall(run_command, ctx, command)
            print(f"\n{label}: cProfile of {command!r} x10")
            pstats.Stats(profile).sort_stats("cumulative").print_stats(35)
        engine.dispose()


if __name__ == "__main__":
    main()
