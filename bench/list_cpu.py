"""CPU per list command, in-process: `commands.dispatch.run_command` timed with `time.process_time()`.

Seeds one task group of 2,000 actions as bench/county_bench.py's `County.add_group` does, then runs each
command `--repeat` times (after a warm-up) and prints CPU ms per command: SQLite always, PostgreSQL too when
ECM_TEST_DATABASE_URL is set (in a private schema, dropped afterwards). No HTTP, no Slack: the work the
server does per request between reading the command and having its reply (issue 10: CPU-bound clients).

    .venv/bin/python bench/list_cpu.py [--repeat 300] [--actions 2000] [--only sqlite|postgresql] [--profile]

--profile prints a cProfile top 30 (by tottime) per command and database.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.county_bench import NOW, County, analyse  # noqa: E402
from bench.pg_schema import each_database  # noqa: E402
from bot.standin import SlackStandIn  # noqa: E402
from commands.context import Context  # noqa: E402
from commands.dispatch import run_command  # noqa: E402
from storage.clock import FixedClock  # noqa: E402
from storage.db import make_engine, migrate, refresh_statistics  # noqa: E402

COMMANDS = [
    "actions outcome:safe district:chorley",
    "actions",
    "actions mine",
    "actions overdue by:district",
    "show 17",
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--actions", type=int, default=2000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    for url, label, connect_args in each_database():
        if not args.only or label.lower() == args.only:
            results[label] = run_on(url, label, connect_args, args)
    labels = list(results)
    print(
        f"\nCPU ms per run_command ({args.actions} actions, {args.repeat} runs, load {os.getloadavg()[0]:.1f})"
    )
    print(f"{'command':42}" + "".join(f"{label:>12}" for label in labels))
    for command in COMMANDS:
        print(f"{command:42}" + "".join(f"{results[label][command]:12.3f}" for label in labels))


def run_on(
    url: str, label: str, connect_args: dict[str, Any] | None, args: argparse.Namespace
) -> dict[str, float]:
    """CPU ms per command on one database, seeded as `County.add_group` seeds a group."""
    engine = make_engine(url, pool_size=4, **({"connect_args": connect_args} if connect_args else {}))
    try:
        migrate(engine)
        with SlackStandIn(signing_secret=uuid.uuid4().hex) as standin:
            county = County(engine, standin)
            channel, _ = county.add_group("Task group 00", args.actions)
            if engine.dialect.name == "sqlite":
                refresh_statistics(engine)  # as the server does at start-up
            else:
                analyse(engine)
            clock = FixedClock(NOW)

            def run(command: str) -> object:
                ctx = Context(
                    engine=engine, clock=clock, team_id=standin.team_id, channel_id=channel, user_id=county.me
                )
                return run_command(ctx, command)

            found = {}
            for command in COMMANDS:
                found[command] = measure(lambda c=command: run(c), args.repeat)  # type: ignore[misc]
                if args.profile:
                    profile(label, command, lambda c=command: run(c), args.repeat)  # type: ignore[misc]
            return found
    finally:
        engine.dispose()


def measure(fn: Callable[[], object], repeat: int) -> float:
    for _ in range(max(10, repeat // 10)):  # warm-up: statement caches, the connection pool
        fn()
    best = float("inf")
    for _ in range(3):  # the least of three rounds: a shared machine only ever adds time
        started = time.process_time()
        for _ in range(repeat // 3):
            fn()
        best = min(best, (time.process_time() - started) * 1000 / (repeat // 3))
    return best


def profile(label: str, command: str, fn: Callable[[], object], repeat: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        fn()
    profiler.disable()
    print(f"\n=== {label}: {command} (cProfile, {repeat} runs, tottime) ===")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
