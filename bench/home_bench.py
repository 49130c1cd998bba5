"""Home tab and form latency through the real Bolt app and the local Slack stand-in, on a realistic plan.

Seeds the task group of bench/commands_bench.py (N actions, default 5000, over five owners), then times,
end to end (signed payload -> Bolt -> core -> storage -> views.* at the stand-in): opening the Home tab as an
owner and as the chair, opening the New action form (global shortcut), and submitting it (which also posts
in the channel and republishes the Homes it affects). Prints p50/p95/max. SQLite always; PostgreSQL too when
ECM_TEST_DATABASE_URL is set. Stops by itself.

    .venv/bin/python bench/home_bench.py [--actions 5000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from bench.commands_bench import seed  # noqa: E402
from bench.pg_schema import each_database  # noqa: E402
from bot.offline import OfflineWorkspace  # noqa: E402
from storage.clock import FixedClock  # noqa: E402
from storage.db import make_engine, migrate  # noqa: E402


def timed(label: str, repeat: int, step: Callable[[], None]) -> None:
    timings = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        step()
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    print(f"{label:<48} {statistics.median(timings):8.1f} {p95:8.1f} {timings[-1]:8.1f}")


def bench(url: str, label: str, count: int, repeat: int, connect_args: dict | None = None) -> None:
    engine = make_engine(url, connect_args=connect_args) if connect_args else make_engine(url)
    migrate(engine)
    clock = FixedClock(datetime(2026, 11, 23, 9, 30, tzinfo=ZoneInfo("Europe/London")))
    ws = OfflineWorkspace(engine, clock)
    try:
        seed(ws, count)
        print(f"\n{label}: {count} actions")
        print(f"{'':<48} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")

        def home(user: str) -> Callable[[], None]:
            def step() -> None:
                view = ws.open_home(user)
                assert view is not None and len(view.view["blocks"]) <= 100

            return step

        timed("Home tab, an owner of ~1/5 of the plan", repeat, home("sam"))
        timed("Home tab, the chair", repeat, home("chair"))

        def open_form() -> None:
            ws.shortcut("ecm_new_action", user="sam")
            assert ws.modal("sam") is not None
            ws.standin.close_views(ws.user("sam"))

        timed("New action form opened (shortcut -> views.open)", repeat, open_form)

        def submit() -> None:
            ws.shortcut("ecm_new_action", user="sam")
            modal = ws.modal("sam")
            assert modal is not None
            out = ws.submit(modal, {"title": "Benchmark action", "due": "2026-12-18"})
            assert not out.errors, out.errors

        timed("New action submitted (+ channel post, Homes)", repeat, submit)
    finally:
        ws.close()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--actions", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    for url, label, connect_args in each_database():
        bench(url, label, args.actions, args.repeat, connect_args)


if __name__ == "__main__":
    main()
