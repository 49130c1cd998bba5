"""One dispatching process, as a replica runs it: its own engine, its own retrying Slack client, the outbox
shared through the database. The replica tests and bench/dispatch_bench.py start these with
multiprocessing's "spawn", so the entry point takes only plain, picklable arguments."""

from __future__ import annotations

import logging
import os
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.jobs.dispatcher import dispatch_due
from bot.slack_api import make_client
from storage.clock import FixedClock
from storage.db import make_engine


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
) -> dict[str, int]:
    """Dispatches everything due at 09:30 on `as_of`; returns this process's counts (and its pid).

    `start_at` (a time.time() value) lines the processes up so they really do compete for the same rows.
    """
    logging.basicConfig(level=logging.WARNING)
    engine = make_engine(database_url)
    client = make_client(token, api_url)
    day = date.fromisoformat(as_of)
    clock = FixedClock(datetime(day.year, day.month, day.day, 9, 30, tzinfo=ZoneInfo(tz)))
    try:
        if start_at is not None:
            time.sleep(max(0.0, start_at - time.time()))
        report = dispatch_due(engine, client, clock, tz=tz, batch=batch, workers=workers)
    finally:
        engine.dispose()
    return {**report.counts, "pid": os.getpid()}
