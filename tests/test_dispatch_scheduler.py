"""The local ticker (APScheduler, in-memory job store) and the worker's clean shutdown on a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path

from apscheduler.events import EVENT_JOB_EXECUTED

from bot.jobs.planner import plan
from bot.offline import OfflineWorkspace
from bot.scheduler import TICK_JOB_ID, run_worker, start_scheduler, tick
from bot.standin import SlackStandIn
from storage.clock import FixedClock
from tests.conftest import london
from tests.support import add_directly


def delivered(ws: OfflineWorkspace) -> Counter[str]:
    return Counter(c.params["channel"] for c in ws.standin.calls_to("chat.postMessage") if c.ok)


def test_the_ticker_plans_and_sends_once_however_often_it_ticks(group: OfflineWorkspace) -> None:
    ws = group
    add_directly(ws, "Audit referrals @sam due:18/11/2026")
    ws.standin.calls.clear()
    ticks = threading.Semaphore(0)
    scheduler = start_scheduler(ws.services, tick_seconds=0.2)
    scheduler.add_listener(lambda _event: ticks.release(), EVENT_JOB_EXECUTED)
    try:
        job = scheduler.get_job(TICK_JOB_ID)
        assert job is not None and type(scheduler._jobstores["default"]).__name__ == "MemoryJobStore"
        assert ws.standin.wait_for(lambda: len(delivered(ws)) >= 2, timeout=20)
        for _ in range(4):  # a few more ticks, counted rather than slept for
            assert ticks.acquire(timeout=20)
    finally:
        scheduler.shutdown(wait=True)
    assert delivered(ws) == Counter({ws.user("sam"): 1, ws.channel: 1})


def test_a_tick_never_raises(group: OfflineWorkspace) -> None:
    ws = group
    add_directly(ws, "Audit referrals @sam due:18/11/2026")
    engine = ws.services.engine
    ws.services.engine = None  # type: ignore[assignment]  # every database call now fails
    try:
        report = tick(ws.services)  # logged, never raised: the ticker must keep ticking
    finally:
        ws.services.engine = engine
    assert report is None or report.deliveries == []
    assert tick(ws.services) is not None and len(delivered(ws)) == 2  # and the next tick does the work


def test_the_worker_stops_cleanly_on_sigterm(group: OfflineWorkspace) -> None:
    ws = group
    add_directly(ws, "Audit referrals @sam due:18/11/2026")
    ws.standin.calls.clear()
    before = signal.getsignal(signal.SIGTERM)

    def stop_when_sent() -> None:
        ws.standin.wait_for(lambda: len(delivered(ws)) >= 2, timeout=20)
        os.kill(os.getpid(), signal.SIGTERM)

    killer = threading.Thread(target=stop_when_sent, daemon=True)
    killer.start()
    started = time.monotonic()
    run_worker(ws.services, tick_seconds=1)  # returns once SIGTERM arrives
    assert time.monotonic() - started < 30
    killer.join(5)
    assert delivered(ws) == Counter({ws.user("sam"): 1, ws.channel: 1})
    assert signal.getsignal(signal.SIGTERM) == before  # handlers restored


def test_the_worker_stops_when_asked(group: OfflineWorkspace) -> None:
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    started = time.monotonic()
    run_worker(group.services, stop=stop, tick_seconds=1)
    assert time.monotonic() - started < 10


def test_ecm_bot_worker_process_ticks_and_exits_cleanly_on_sigterm(
    slack: SlackStandIn, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "ECM_"))}
    env.update(
        {
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": slack.signing_secret,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": f"sqlite:///{tmp_path}/worker.db",
            "ECM_TICK_SECONDS": "1",
            "LOG_LEVEL": "INFO",
        }
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # Wait for the scheduler to be ticking (start-up takes a few seconds on a busy machine), then stop it.
        assert process.stdout is not None
        seen: list[str] = []
        deadline = time.monotonic() + 60
        for line in process.stdout:
            seen.append(line)
            if "scheduler ticking every 1s" in line or time.monotonic() > deadline:
                break
        assert process.poll() is None, "".join(seen)
        time.sleep(1.5)  # a tick or two
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=20)
        output = "".join(seen) + rest
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "scheduler ticking every 1s" in output and "worker stopped" in output
    assert "Traceback" not in output


def test_posts_that_only_become_due_after_the_morning_run_wait_for_the_next_morning(
    group: OfflineWorkspace, clock: FixedClock
) -> None:
    ws = group
    add_directly(ws, "Audit referrals @sam due:18/11/2026")
    ws.standin.calls.clear()
    tick(ws.services)  # Monday's first run (09:30: the bot came up late, so it catches up once)
    assert delivered(ws) == Counter({ws.user("sam"): 1, ws.channel: 1})

    # 14:00: a new group is set up and an already-overdue action is added for someone new.
    clock.set(london(2026, 11, 23, 14, 0))
    other = ws.standin.add_channel("ecm-other")
    assert not ws.command('setup name:"Other group" preset:leicestershire', channel=other).is_error
    add_directly(ws, "Backdated review @priya due:16/11/2026", channel=other)
    ws.standin.calls.clear()
    result = plan(ws.services.engine, date(2026, 11, 23), tz="Europe/London", now=clock.now(), hold_late=True)
    assert result.new == 0 and result.held >= 2  # Priya's DM and the new group's Monday digest
    tick(ws.services)
    assert delivered(ws) == Counter(), "nothing new in the afternoon"

    clock.set(london(2026, 11, 24, 9, 0, 30))  # Tuesday morning: Priya is chased; digests wait for Monday
    tick(ws.services)
    assert delivered(ws)[ws.user("priya")] == 1
    assert delivered(ws)[other] == 0


def test_the_first_run_of_the_day_catches_up_after_downtime(
    group: OfflineWorkspace, clock: FixedClock
) -> None:
    ws = group
    add_directly(ws, "Audit referrals @sam due:18/11/2026")
    ws.standin.calls.clear()
    clock.set(london(2026, 11, 23, 15, 0))  # down all morning; first run at 15:00 sends the day's posts once
    tick(ws.services)
    tick(ws.services)
    assert delivered(ws) == Counter({ws.user("sam"): 1, ws.channel: 1})
