"""`ecm-bot jobs run JOB --as-of DATE` run again for the same date, as real processes against the Slack
stand-in: a re-run retries what is due for retry (an earlier run's transient failures, the rows a killed run
left `sending` once their lease ran out) and reports every row of the date with its state, by name. Each test
prints its counts: posts planned, sent, duplicated, lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from sqlmodel import col, update

from bot.offline import OfflineWorkspace
from storage.clock import DayShiftedClock
from storage.models import Notification, NotificationStatus
from tests.support import TZ, add_directly, database_url, db, outbox

DAY = date(2026, 11, 23)
ROOT = Path(__file__).resolve().parent.parent


def _env(ws: OfflineWorkspace) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "ECM_"))}
    env.update(
        DATABASE_URL=database_url(ws),
        SLACK_API_URL=ws.standin.api_url,
        SLACK_BOT_TOKEN=ws.standin.bot_token,
        LOG_LEVEL="WARNING",
    )
    return env


def _jobs_run(ws: OfflineWorkspace, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "jobs", "run", "all", "--as-of", DAY.isoformat(), *extra],
        env=_env(ws),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _start(ws: OfflineWorkspace) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "jobs", "run", "all", "--as-of", DAY.isoformat()],
        env=_env(ws),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _actions(ws: OfflineWorkspace) -> None:
    add_directly(ws, "Audit referrals @sam due:18/11/2026 outcome:safe district:chorley")
    add_directly(ws, "Map provision @priya due:19/11/2026 outcome:enjoy district:south-ribble")
    add_directly(ws, "Long overdue @dev due:02/11/2026 outcome:economic district:all")
    ws.standin.messages.clear()
    ws.standin.calls.clear()


def _delivered(ws: OfflineWorkspace) -> Counter[str]:
    """Posts Slack accepted, per conversation (what people saw)."""
    return Counter(c.params["channel"] for c in ws.standin.calls_to("chat.postMessage") if c.ok)


def _counts(ws: OfflineWorkspace) -> tuple[int, int, int, int]:
    rows = outbox(ws)
    seen = _delivered(ws)
    planned = len(rows)
    duplicated = sum(n - 1 for n in seen.values() if n > 1)
    lost = sum(1 for r in rows if seen[r.recipient] == 0)
    return planned, sum(seen.values()), duplicated, lost


def _outbox_lines(out: str) -> list[str]:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Outbox for "))
    return [line for line in lines[start + 1 :] if line.startswith("  ")]


def test_a_rerun_retries_the_first_runs_transient_failures_and_reports_every_row(
    group: OfflineWorkspace,
) -> None:
    ws = group
    _actions(ws)
    flaky = {ws.user("sam"), ws.user("priya")}
    for user in flaky:
        ws.standin.inject(
            "chat.postMessage", error="internal_error", times=1, match=lambda p, u=user: p.get("channel") == u
        )

    first = _jobs_run(ws)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "sent 3, skipped 0, failed 0, to retry 2" in first.stdout, first.stdout
    assert "Outbox for Mon 23 Nov 2026 (all): 5 posts: sent 3, retrying 2" in first.stdout, first.stdout
    rows = _outbox_lines(first.stdout)
    retrying = [line for line in rows if line.split()[0] == "retrying"]
    assert len(retrying) == 2 and all("Slack said internal_error" in line for line in retrying), rows
    assert all("attempt 1 of 8" in line for line in retrying), rows
    assert {line.split()[2] for line in retrying} == {"@sam", "@priya"}, rows  # names, not ids
    assert not any(uid in first.stdout for uid in ws.standin.users), first.stdout

    second = _jobs_run(ws)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "retrying 2 earlier transient failures now" in second.stdout, second.stdout
    assert "sent 2, skipped 0, failed 0" in second.stdout, second.stdout
    assert "Outbox for Mon 23 Nov 2026 (all): 5 posts: sent 5" in second.stdout, second.stdout
    assert len(_outbox_lines(second.stdout)) == 5

    third = _jobs_run(ws, "--no-rows")  # nothing left to do, and it says so
    assert "sent 0, skipped 0, failed 0" in third.stdout and "posts: sent 5" in third.stdout
    assert _outbox_lines(third.stdout) == []

    planned, sent, duplicated, lost = _counts(ws)
    print(
        f"transient failures then a re-run: planned {planned}, sent {sent}, duplicated {duplicated}, lost {lost}"
    )
    assert (planned, sent, duplicated, lost) == (5, 5, 0, 0)
    assert {r.status for r in outbox(ws)} == {NotificationStatus.SENT}


def test_a_rerun_after_a_killed_run_sends_its_rows_once_their_lease_has_run_out(
    group: OfflineWorkspace,
) -> None:
    ws = group
    _actions(ws)
    # Slack hangs on every post, then fails it: the run is killed with all its rows claimed and none sent.
    hang = 2.0  # far past the moment the run is killed: its first post has reached Slack
    arrived: list[str] = []  # posts that reached the stand-in (recorded there once answered, `hang` later)
    ws.standin.inject(
        "chat.postMessage",
        delay=hang,
        status=503,
        times=-1,
        match=lambda p: arrived.append(str(p.get("channel"))) is None,
    )
    process = _start(ws)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            rows = outbox(ws)
            if len(rows) == 5 and all(r.status == NotificationStatus.SENDING for r in rows) and arrived:
                break
            time.sleep(0.02)
        else:
            raise AssertionError(f"the run never claimed its rows: {[r.status for r in outbox(ws)]}")
        process.send_signal(signal.SIGKILL)  # its threads are waiting on Slack
        process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()

    # At once: the killed run's lease still holds (for all anyone knows it is alive): reported, not taken.
    early = _jobs_run(ws)
    assert early.returncode == 0, early.stdout + early.stderr
    assert "sent 0, skipped 0, failed 0" in early.stdout, early.stdout
    assert "5 posts: sending 5" in early.stdout, early.stdout
    assert all("claimed by another run until" in line for line in _outbox_lines(early.stdout)), early.stdout
    assert _delivered(ws) == Counter()
    # Slack recovers only now: a post the killed run's other threads wrote just before the kill may reach
    # the stand-in after it (a whole run later, it has), and must meet the hang as well.
    ws.standin.faults.clear()

    # Once the lease has run out (moved back here rather than waited for), a re-run takes the rows over.
    expired = DayShiftedClock(DAY, TZ).now() - timedelta(seconds=1)
    with db(ws) as session:
        session.exec(update(Notification).where(col(Notification.id) > 0).values(lease_until=expired))  # type: ignore[call-overload]
        session.commit()
    late = _jobs_run(ws)
    assert late.returncode == 0, late.stdout + late.stderr
    assert "sent 5, skipped 0, failed 0" in late.stdout, late.stdout
    assert "5 posts: sent 5" in late.stdout, late.stdout

    # The posts that were in flight when the run was killed are answered (503) by now: none reached anyone.
    in_flight = len(arrived)
    assert ws.standin.wait_for(lambda: len(ws.standin.calls_to("chat.postMessage")) >= in_flight + 5)
    planned, sent, duplicated, lost = _counts(ws)
    print(f"killed run then a re-run: planned {planned}, sent {sent}, duplicated {duplicated}, lost {lost}")
    assert (planned, sent, duplicated, lost) == (5, 5, 0, 0)
