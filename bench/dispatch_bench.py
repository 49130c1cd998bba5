"""Chaser throughput: plan N overdue actions' owner digests and dispatch them against the local Slack stand-in.

Seeds one task group with N overdue actions, each owned by a different person (so N owner digest DMs),
plans the `chasers` job for Mon 23 Nov 2026, then dispatches everything through the real retrying Slack
client to the stand-in, and checks at the stand-in that each DM arrived exactly once. Prints planning and
dispatch rows/second and peak RSS (this process, and the worker processes).

SQLite with 1 process always; PostgreSQL with 1 and with 3 worker processes when ECM_TEST_DATABASE_URL is
set (a private schema, dropped afterwards). Stops by itself.

Then a rate-limited run: the stand-in enforces a limit on chat.postMessage (`--limit`, default 25 a
second, workspace-wide, answering 429 with Retry-After past it) and 1,500 DMs (`--limited-count`) are
dispatched through it; it prints how many were planned, sent, duplicated and lost, the 429s the stand-in
answered, and the time taken against the least time the limit allows.

    .venv/bin/python bench/dispatch_bench.py [--count 2000] [--limited-count 1500] [--limit 100]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, delete, update  # noqa: E402
from sqlmodel import col  # noqa: E402

from bench.pg_schema import private_schema  # noqa: E402
from bot.jobs.planner import plan  # noqa: E402
from bot.jobs.replica import dispatch_process  # noqa: E402
from bot.standin import SlackStandIn  # noqa: E402
from commands.posts.settings import update_chaser_settings  # noqa: E402
from storage import actions, groups  # noqa: E402
from storage import members as member_store  # noqa: E402
from storage.db import make_engine, migrate, session_scope  # noqa: E402
from storage.models import Notification, NotificationStatus, ProcessedRequest, Role  # noqa: E402

DAY = date(2026, 11, 23)
TZ = "Europe/London"
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=ZoneInfo(TZ))
TIMEOUT = 600  # seconds: the whole run gives up rather than hang


def seed(engine: Engine, standin: SlackStandIn, count: int) -> list[str]:
    owners = [standin.add_user(f"owner{i:05d}") for i in range(count)]
    chair = standin.add_user("bench-chair")
    channel = standin.add_channel("bench-group")
    with session_scope(engine) as session:
        group = groups.create_group(
            session,
            team_id=standin.team_id,
            channel_id=channel,
            name="Bench Group",
            county="Lancashire",
            timezone=TZ,
            user_id=chair,
            at=NOW,
        )
        member_store.upsert_member(session, group, chair, by=chair, at=NOW, role=Role.CHAIR)
        # Owner digests only: no escalation section or channel digest in the measured rows.
        update_chaser_settings(
            session, group, {"escalate_after": 0, "digest_day": "off"}, user_id=chair, at=NOW
        )
        for i, owner in enumerate(owners):
            actions.create_action(
                session,
                group,
                actions.NewActionRecord(
                    title=f"Bench action {i}",
                    owners=[owner],
                    organisation="Chorley",
                    due_date=date(2026, 11, 16),
                    countywide=True,
                ),
                by=chair,
                at=NOW,
            )
    return owners


def url_of(engine: Engine, schema: str | None) -> str:
    url = engine.url
    if schema:
        url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def _child(results: Any, *args: Any, **kwargs: Any) -> None:
    results.put(dispatch_process(*args, **kwargs))


def dispatch(
    url: str, standin: SlackStandIn, processes: int, **options: Any
) -> tuple[float, list[dict[str, int]]]:
    if processes == 1:
        started = time.perf_counter()
        counts = [dispatch_process(url, standin.api_url, standin.bot_token, DAY.isoformat(), **options)]
        return time.perf_counter() - started, counts
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    start_at = time.time() + 5  # after every process has imported and connected
    procs = [
        spawn.Process(
            target=_child,
            args=(results, url, standin.api_url, standin.bot_token, DAY.isoformat()),
            kwargs={"start_at": start_at, **options},
        )
        for _ in range(processes)
    ]
    for proc in procs:
        proc.start()
    counts = [results.get(timeout=TIMEOUT) for _ in procs]
    elapsed = time.time() - start_at
    for proc in procs:
        proc.join(30)
        if proc.is_alive():
            proc.kill()
    return elapsed, counts


def reset_outbox(engine: Engine) -> None:
    """Every row pending again, and no shared back-off left over: each run's clock starts at 09:30 again, so
    the last run's Retry-After (recorded at, say, 09:31) would hold every worker of the next run for a
    minute."""
    with session_scope(engine) as session:
        session.exec(delete(ProcessedRequest).where(col(ProcessedRequest.key).startswith("backoff:")))
        session.exec(
            update(Notification).values(
                status=NotificationStatus.PENDING,
                attempts=0,
                lease_until=None,
                sent_at=None,
                last_error=None,
                attempt_state="",
                first_tried_at=None,
                pages_sent=0,
            )
        )


def measure(
    label: str, engine: Engine, url: str, standin: SlackStandIn, owners: list[str], process_counts: list[int]
) -> None:
    started = time.perf_counter()
    planned = plan(engine, DAY, tz=TZ, now=NOW, job="chasers")
    plan_s = time.perf_counter() - started
    print(
        f"{label}: planned {planned.new} owner digests in {plan_s:.2f}s ({planned.new / plan_s:,.0f} rows/s)"
    )
    for processes in process_counts:
        reset_outbox(engine)
        standin.reset()
        elapsed, counts = dispatch(url, standin, processes)
        sent = sum(c["sent"] for c in counts)
        posted = Counter(c.params["channel"] for c in standin.calls_to("chat.postMessage") if c.ok)
        exact = len(posted) == len(owners) and set(posted.values()) == {1}
        per_proc = ", ".join(str(c["sent"]) for c in counts)
        print(
            f"{label}: {processes} process{'es' if processes > 1 else ''}: sent {sent} in {elapsed:.2f}s "
            f"({sent / elapsed:,.0f} rows/s; per process {per_proc}); each DM exactly once at the stand-in: "
            f"{'yes' if exact else 'NO'}"
        )


def measure_limited(
    label: str,
    engine: Engine,
    url: str,
    standin: SlackStandIn,
    owners: list[str],
    process_counts: list[int],
    per_second: float,
) -> None:
    """Dispatch through a stand-in that rate-limits chat.postMessage: every DM once, in about the time the
    limit allows (every 429's Retry-After holds all workers of all processes: the back-off is shared)."""
    plan(engine, DAY, tz=TZ, now=NOW, job="chasers")
    burst = max(1, int(per_second))
    for processes in process_counts:
        reset_outbox(engine)
        standin.reset()
        limit = standin.rate_limit("chat.postMessage", per_second, burst=burst)
        elapsed, counts = dispatch(url, standin, processes, drain_seconds=TIMEOUT / 4)
        received = Counter(m.channel for m in standin.messages if not m.ephemeral)
        sent = sum(1 for o in owners if received[o])
        duplicated = sum(max(0, received[o] - 1) for o in owners)
        lost = len(owners) - sent
        least = max(0.0, (len(owners) - burst) / per_second)
        print(
            f"{label}: {processes} process{'es' if processes > 1 else ''} through a limit of "
            f"{per_second:.0f} posts/s: planned {len(owners)}, sent {sent}, duplicated {duplicated}, lost {lost} "
            f"in {elapsed:.1f}s (the limit allows it in {least:.1f}s: {elapsed / max(least, 0.001):.2f}x); "
            f"429s answered {limit.refused}, rows rescheduled {sum(c['retry'] for c in counts)}"
        )


def peak_rss() -> str:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return f"peak RSS: this process {own:.0f} MiB, largest worker process {children:.0f} MiB"


def run_sqlite(count: int, limited: int, per_second: float) -> None:
    with tempfile.TemporaryDirectory() as tmp, SlackStandIn(signing_secret=uuid.uuid4().hex) as standin:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        migrate(engine)
        started = time.perf_counter()
        owners = seed(engine, standin, count)
        print(f"sqlite: seeded {count} overdue actions in {time.perf_counter() - started:.1f}s")
        measure("sqlite", engine, url_of(engine, None), standin, owners, [1])
        engine.dispose()
    if limited:
        with tempfile.TemporaryDirectory() as tmp, SlackStandIn(signing_secret=uuid.uuid4().hex) as standin:
            engine = make_engine(f"sqlite:///{tmp}/limited.db")
            migrate(engine)
            owners = seed(engine, standin, limited)
            measure_limited("sqlite", engine, url_of(engine, None), standin, owners, [1], per_second)
            engine.dispose()


def run_postgres(pg_url: str, count: int, limited: int, per_second: float) -> None:
    with private_schema(pg_url) as schema:
        engine = make_engine(pg_url, connect_args={"options": f"-csearch_path={schema}"})
        migrate(engine)
        with SlackStandIn(signing_secret=uuid.uuid4().hex) as standin:
            started = time.perf_counter()
            owners = seed(engine, standin, count)
            print(f"postgresql: seeded {count} overdue actions in {time.perf_counter() - started:.1f}s")
            measure("postgresql", engine, url_of(engine, schema), standin, owners, [1, 3])
        engine.dispose()
    if limited:
        with private_schema(pg_url) as schema:
            engine = make_engine(pg_url, connect_args={"options": f"-csearch_path={schema}"})
            migrate(engine)
            with SlackStandIn(signing_secret=uuid.uuid4().hex) as standin:
                owners = seed(engine, standin, limited)
                url = url_of(engine, schema)
                measure_limited("postgresql", engine, url, standin, owners, [1, 3], per_second)
            engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--count", type=int, default=2000, help="overdue actions, one owner each (default 2000)"
    )
    parser.add_argument(
        "--limited-count", type=int, default=1500, help="DMs in the rate-limited run (0 skips it)"
    )
    parser.add_argument(
        "--limit", type=float, default=25.0, help="the stand-in's chat.postMessage limit, posts a second"
    )
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # A hung run stops itself: SIGALRM ends the process if anything blocks far longer than it should.
    import signal

    signal.signal(signal.SIGALRM, lambda *_: (print("bench: timed out", file=sys.stderr), os._exit(2)))
    signal.alarm(TIMEOUT)
    run_sqlite(args.count, args.limited_count, args.limit)
    pg_url = os.environ.get("ECM_TEST_DATABASE_URL")
    if pg_url:
        run_postgres(pg_url, args.count, args.limited_count, args.limit)
    else:
        print("postgresql: skipped (set ECM_TEST_DATABASE_URL to include it)")
    print(peak_rss())
    signal.alarm(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
