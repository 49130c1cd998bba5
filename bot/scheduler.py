"""The local ticker: every `ECM_TICK_SECONDS`, plan today's posts and dispatch whatever is due.

APScheduler 3.11 is used only as a timer in this process, with the in-memory job store: the outbox in the
database is what processes share (never an APScheduler job store, which cannot be shared safely). Any
number of `ecm-bot run` / `ecm-bot worker` processes may tick against one PostgreSQL database; planning is
idempotent and claiming uses SKIP LOCKED, so each post still goes out once.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, date, datetime
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from bot.jobs.dispatcher import DispatchReport, dispatch_due, dispatch_settings, local_today
from bot.jobs.planner import plan
from bot.services import Services
from storage.db import session_scope
from storage.retention import Pruned, prune

log = logging.getLogger(__name__)

TICK_JOB_ID = "ecm-tick"


def tick(services: Services) -> DispatchReport | None:
    """One round: plan today (a no-op once planned) and deliver what is due. Never raises."""
    tz = services.settings.ecm_timezone
    now = services.clock.now()
    try:
        result = plan(services.engine, local_today(now, tz), tz=tz, now=now, hold_late=True)
        if result.new:
            log.info("planned %d new posts for %s", result.new, result.day)
    except Exception:
        log.exception("planning failed; dispatching what is already planned")
    try:
        report = dispatch_due(
            services.engine,
            services.client,
            services.clock,
            tz=tz,
            # A short shared Retry-After is waited out in this tick rather than left to the next one.
            wait_backoff=min(10.0, float(services.settings.ecm_tick_seconds)),
            **dispatch_settings(services.settings),
        )
    except Exception:  # dispatch_due catches per row; this is the last line of defence for the ticker
        log.exception("dispatch failed")
        return None
    counts = report.counts
    if any(counts.values()):
        log.info("dispatched: %s", ", ".join(f"{k} {v}" for k, v in counts.items() if v))
    apply_retention(services)
    return report


_pruned_on: dict[int, date] = {}  # per Services: the local day retention last ran in this process


def apply_retention(services: Services) -> Pruned | None:
    """Once a day (per process; pruning twice is harmless), deletes what ECM_RETENTION_DAYS no longer allows."""
    days = services.settings.ecm_retention_days
    if days <= 0:
        return None
    today = local_today(services.clock.now(), services.settings.ecm_timezone)
    if _pruned_on.get(id(services)) == today:
        return None
    try:
        with session_scope(services.engine) as session:
            result = prune(session, now=services.clock.now(), days=days)
    except Exception:
        log.exception("retention pruning failed; tried again next tick")
        return None
    _pruned_on[id(services)] = today
    if result.total:
        log.info(
            "retention (%s days): deleted %d notes, %d outbox rows, %d request keys",
            days,
            result.action_notes,
            result.outbox_rows,
            result.request_keys,
        )
    return result


def start_scheduler(services: Services, *, tick_seconds: float | None = None) -> BackgroundScheduler:
    """Starts ticking in a background thread (first tick straight away); call `.shutdown()` to stop.
    ECM_TICK_SECONDS ticks once a second at the most; `tick_seconds` (a test's) may be shorter."""
    seconds = tick_seconds if tick_seconds is not None else max(1, services.settings.ecm_tick_seconds)
    scheduler = BackgroundScheduler(
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        # One tick at a time; a tick that overran is not run twice to catch up.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=UTC,
    )
    scheduler.add_job(
        tick,
        "interval",
        seconds=max(0.05, seconds),
        args=[services],
        id=TICK_JOB_ID,
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    log.info("scheduler ticking every %ss", seconds)
    return scheduler


def run_worker(
    services: Services, *, stop: threading.Event | None = None, tick_seconds: float | None = None
) -> None:
    """`ecm-bot worker`: tick until SIGTERM or SIGINT (or `stop` is set), then finish the tick and exit."""
    stop = stop or threading.Event()
    previous: dict[signal.Signals, Any] = {}

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping after the current tick", signal.Signals(signum).name)
        stop.set()

    if threading.current_thread() is threading.main_thread():  # signal handlers only go on the main thread
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, on_signal)
    scheduler = start_scheduler(services, tick_seconds=tick_seconds)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        scheduler.shutdown(wait=True)  # lets a running tick finish, so no row is left half-done
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        log.info("worker stopped")
