"""One dispatching process, as a replica runs it: its own engine, its own retrying Slack client, the outbox
shared through the database. The replica and fault tests and bench/dispatch_bench.py start these with
multiprocessing's "spawn", so the entry point takes only plain, picklable arguments."""

from __future__ import annotations

import logging
import os
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from bot.jobs.dispatcher import DEFAULT_PACE, DispatchReport, dispatch_due, unknown_pause_for
from bot.slack_api import make_client
from storage import notifications
from storage.clock import ShiftedClock
from storage.db import make_engine, session_scope


def dispatch_process(
    database_url: str,
    api_url: str,
    token: str,
    as_of: str,
    *,
    tz: str = "Europe/London",
    start_at: float | None = None,
    batch: int = 20,
    workers: int = 4,
    timeout: int = 30,
    unknown_pause: float | None = None,
    lease_seconds: float = notifications.DEFAULT_LEASE.total_seconds(),
    heartbeat_seconds: float | None = None,
    pace: float = DEFAULT_PACE,
    drain_seconds: float = 0.0,
    tick_seconds: float = 0.5,
    wait_backoff: float = 10.0,
    clock_anchor: float | None = None,
) -> dict[str, int]:
    """Dispatches everything due at 09:30 on `as_of` (a clock that starts there and keeps ticking in real
    time, so leases and back-offs run out); returns this process's counts, the rows it handed back untried,
    and its pid.

    `start_at` (a time.time() value) lines the processes up so they really do compete for the same rows.
    The clock reads 09:30 at `clock_anchor` (a time.time() value; default `start_at`, else now): processes
    given the same anchor agree on the time, as replicas' synchronised clocks do (leases depend on it).
    `drain_seconds`: keep ticking (every `tick_seconds`, as a worker does) until nothing is pending or this
    long has passed: rows rescheduled for a retry, or held by a process that died, are taken too.
    `unknown_pause` (seconds) replaces the pause before looking for a post that got no answer, which is
    otherwise the deployment's (`unknown_pause_for(timeout)`, at least 5 s): a fault test that is about the
    look-up, not its timing, need not wait it out. `heartbeat_seconds`: how often held leases are renewed
    (default a third of the lease, as ECM_HEARTBEAT_SECONDS=0).
    """
    logging.basicConfig(level=logging.WARNING)
    engine = make_engine(database_url)
    client = make_client(token, api_url, timeout=timeout)
    day = date.fromisoformat(as_of)
    anchor = clock_anchor if clock_anchor is not None else start_at if start_at is not None else time.time()
    at_anchor = datetime(day.year, day.month, day.day, 9, 30, tzinfo=ZoneInfo(tz))
    clock = ShiftedClock(at_anchor + timedelta(seconds=time.time() - anchor))
    total = DispatchReport()
    pause = unknown_pause_for(timeout) if unknown_pause is None else timedelta(seconds=unknown_pause)
    try:
        if start_at is not None:
            time.sleep(max(0.0, start_at - time.time()))
        deadline = time.monotonic() + drain_seconds
        while True:
            report = dispatch_due(
                engine,
                client,
                clock,
                tz=tz,
                batch=batch,
                workers=workers,
                lease=timedelta(seconds=lease_seconds),
                heartbeat=timedelta(seconds=heartbeat_seconds) if heartbeat_seconds else None,
                pace=pace,
                unknown_pause=pause,
                wait_backoff=wait_backoff,
            )
            total.deliveries += report.deliveries
            total.stale_skipped += report.stale_skipped
            total.handed_back += report.handed_back
            if time.monotonic() >= deadline or not _pending(engine):
                break
            time.sleep(tick_seconds)
    finally:
        engine.dispose()
    return {**total.counts, "handed_back": total.handed_back, "pid": os.getpid()}


def _pending(engine: Engine) -> int:
    with session_scope(engine, write=False) as session:
        return notifications.pending_count(session)
