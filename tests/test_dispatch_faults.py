"""Faults against real dispatching processes: Slack answering after the client's timeout, Slack accepting a
post and dropping the connection, a process killed with SIGKILL mid-run, and a live process whose posts
outlast its lease. Each test plans owner digests, runs `bot.jobs.replica.dispatch_process` in OS processes
(tests.dispatch_procs.PROCESSES: own engine, own Slack client) against the stand-in started here, and counts at
the stand-in what each person received: posts planned, sent, duplicated, lost."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from typing import Any

import pytest

from bot.offline import OfflineWorkspace
from commands.posts import owner_digest
from storage.models import NotificationStatus
from tests.dispatch_procs import PROCESSES, Lineup, dispatch_into
from tests.support import database_url, outbox, owners_with_overdue_actions

DAY = "2026-11-23"


def tally(ws: OfflineWorkspace, owners: list[str], label: str) -> dict[str, int]:
    """What each owner received, counted at the stand-in; printed as the issue asks."""
    received = Counter(m.channel for m in ws.standin.messages if not m.ephemeral)
    figures = {
        "planned": len(owners),
        "sent": sum(1 for o in owners if received[o] >= 1),
        "duplicated": sum(max(0, received[o] - 1) for o in owners),
        "lost": sum(1 for o in owners if received[o] == 0),
    }
    print(f"{label} [{ws.engine.dialect.name}]: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    return figures


ANCHOR = time.time()  # every process's clock reads 09:30 on DAY at this instant: they agree on the time


def start(ws: OfflineWorkspace, results: Any, **kwargs: Any) -> Any:
    proc = PROCESSES.Process(
        target=dispatch_into,
        args=(results, database_url(ws), ws.standin.api_url, ws.standin.bot_token, DAY),
        kwargs={"clock_anchor": ANCHOR, **kwargs},
    )
    proc.start()
    return proc


def finish(proc: Any) -> None:
    proc.join(60)
    if proc.is_alive():
        proc.kill()
        pytest.fail("a dispatching process did not finish")


def all_sent(ws: OfflineWorkspace) -> None:
    rows = outbox(ws, owner_digest.KIND)
    assert {n.status for n in rows} == {NotificationStatus.SENT}, Counter(n.status for n in rows)


def test_slack_answering_after_the_client_timeout_sends_each_post_once(group: OfflineWorkspace) -> None:
    ws = group
    owners = owners_with_overdue_actions(ws, 30)
    slow = set(owners[::3])  # a third of the posts: Slack takes them, and answers after 2 s
    ws.standin.inject(
        "chat.postMessage", answer_delay=2.0, times=len(slow), match=lambda p: p.get("channel") in slow
    )
    results = PROCESSES.Queue()
    # ECM_SLACK_TIMEOUT_SECONDS=1 in the process: those posts time out, so their outcome is unknown. They
    # are looked for 1.5 s later, once Slack's late answer has landed (the deployment's pause, at least 5 s,
    # is the CLI's: tests/test_dispatch_cli.py checks it; waiting it out here proved nothing more). Four
    # workers, not ten side by side: on a busy machine ten at once made an ordinary post miss the 1 s too.
    proc = start(ws, results, timeout=1, unknown_pause=1.5, drain_seconds=60, batch=10, tick_seconds=0.1)
    counts = results.get(timeout=120)
    finish(proc)
    figures = tally(ws, owners, "answer after the timeout")
    assert figures == {"planned": 30, "sent": 30, "duplicated": 0, "lost": 0}
    assert counts["sent"] == 30 and counts["failed"] == 0, counts
    assert len(ws.standin.calls_to("conversations.history")) == len(slow)  # each looked for, once
    posts = Counter(c.params["channel"] for c in ws.standin.calls_to("chat.postMessage"))
    assert set(posts.values()) == {1}  # nobody's post was sent a second time, not even tried
    all_sent(ws)


def test_slack_dropping_the_connection_sends_each_post_once(group: OfflineWorkspace) -> None:
    ws = group
    owners = owners_with_overdue_actions(ws, 30)
    accepted = set(owners[0::3])  # Slack stores the post, then closes the connection without an answer
    never_seen = set(owners[1::3])  # the connection drops before Slack reads the request
    ws.standin.inject(
        "chat.postMessage", drop="after", times=len(accepted), match=lambda p: p.get("channel") in accepted
    )
    ws.standin.inject(
        "chat.postMessage",
        drop="before",
        times=len(never_seen),
        match=lambda p: p.get("channel") in never_seen,
    )
    results = PROCESSES.Queue()
    # Looked for 1.5 s after the drop rather than after the deployment's pause (at least 5 s): the stand-in
    # has either stored the post or never seen it by the time the connection goes.
    proc = start(ws, results, timeout=2, unknown_pause=1.5, drain_seconds=60, batch=10, tick_seconds=0.1)
    counts = results.get(timeout=120)
    finish(proc)
    figures = tally(ws, owners, "dropped connection")
    assert figures == {"planned": 30, "sent": 30, "duplicated": 0, "lost": 0}
    assert counts["sent"] == 30 and counts["failed"] == 0, counts
    posts = Counter(c.params["channel"] for c in ws.standin.calls_to("chat.postMessage"))
    assert {o for o, n in posts.items() if n == 2} == never_seen  # re-sent only where Slack never had it
    all_sent(ws)


def test_a_process_killed_mid_run_is_taken_over_after_its_lease_with_nothing_lost_or_doubled(
    group: OfflineWorkspace,
) -> None:
    ws = group
    if ws.engine.dialect.name != "postgresql":
        pytest.skip(
            "replicas share the outbox through PostgreSQL (SQLite serves one process); a second SQLite "
            "process sometimes stalled on the database file after the first was SIGKILLed mid-write, so "
            "this runs on PostgreSQL (set ECM_TEST_DATABASE_URL)"
        )
    lease = 3.0
    owners = owners_with_overdue_actions(ws, 30)
    ws.standin.inject("chat.postMessage", delay=0.1, times=-1)  # Slack takes 0.1 s: the run lasts a while
    results = PROCESSES.Queue()
    # The survivor imports beside the doomed one but starts only at the kill: until then every row held
    # is the doomed one's, so the kill is sure to leave rows in doubt (started together, the doomed one
    # sometimes held none at the instant it died, and there was nothing to take over).
    first = Lineup(lambda results, **kw: start(ws, results, **kw))
    second = Lineup(lambda results, **kw: start(ws, results, **kw))
    doomed = first.start(results, lease_seconds=lease, batch=10, workers=2)
    survivor = second.start(results, lease_seconds=lease, drain_seconds=60, batch=10, workers=2)
    first.go_when_ready()

    # A batch posted, the next one claimed, a third of the rows not claimed yet: killed in mid-run.
    assert ws.standin.wait_for(lambda: len(ws.standin.messages) >= 10, timeout=60)
    deadline = time.monotonic() + 10  # a batch takes about a second: it is between two for an instant
    # Half a batch still held (5 posts, 0.25 s of them): seen with only its last row or two held, the
    # process sometimes recorded them in the few ms before the kill, and then held nothing when it died.
    while sum(n.status == NotificationStatus.SENDING for n in outbox(ws, owner_digest.KIND)) < 5:
        assert time.monotonic() < deadline, "the doomed process never held a row"
        time.sleep(0.01)
    os.kill(doomed.pid, signal.SIGKILL)  # mid-run: rows claimed, some posted and not yet recorded
    killed_at = time.time()
    doomed.join(30)
    assert doomed.exitcode == -signal.SIGKILL
    at_kill = len(ws.standin.messages)
    held = [n for n in outbox(ws, owner_digest.KIND) if n.status == NotificationStatus.SENDING]
    assert held, "the doomed process held rows when it died"
    second.go_when_ready()
    counts = results.get(timeout=120)
    finish(survivor)
    # Only rows the killed process held are in doubt: the survivor's first look-up is its take-over.
    looked = ws.standin.calls_to("conversations.history")
    assert looked, "the rows the killed process held were looked for before being sent"
    taken_over = looked[0].at - killed_at
    figures = tally(ws, owners, "SIGKILL mid-run")
    print(
        f"  killed with {at_kill} posts at the stand-in and {len(held)} rows held; "
        f"the survivor took the dead one's over {taken_over:.1f} s after the kill (lease {lease:.0f} s)"
    )
    assert figures == {"planned": 30, "sent": 30, "duplicated": 0, "lost": 0}
    assert counts["failed"] == 0, counts
    assert taken_over < 2 * lease + 2  # the lease, plus a tick: well within a minute
    all_sent(ws)


def test_a_live_process_keeps_its_rows_past_the_lease_by_its_heartbeat(group: OfflineWorkspace) -> None:
    ws = group
    # A 4 s lease renewed every 0.2 s. A row is posted only with half its lease left, so a beat may be 1.8 s
    # late before anything is handed back (a 2 s lease renewed every third of it left 0.33 s, and a busy
    # machine took rows over; 1.3 s was not always enough for SQLite's writers queueing on a loaded
    # machine). The 12 posts take 5.4 s, 1.35 leases: without the heartbeat every row from the 6th on
    # would be handed back, and taken by the other process.
    lease, beat = 4.0, 0.2
    owners = owners_with_overdue_actions(ws, 12)
    ws.standin.inject("chat.postMessage", delay=0.45, times=-1)  # 12 posts one at a time
    results = PROCESSES.Queue()
    first = Lineup(lambda results, **kw: start(ws, results, **kw))
    second = Lineup(lambda results, **kw: start(ws, results, **kw))
    slow = first.start(results, lease_seconds=lease, heartbeat_seconds=beat, batch=12, workers=1)
    other = second.start(results, lease_seconds=lease, heartbeat_seconds=beat, drain_seconds=20)
    first.go_when_ready()
    # The other starts once the slow one holds every row (not at a fixed time: imports take seconds on a busy
    # machine), then tries to claim them every 0.5 s until all are sent.
    deadline = time.monotonic() + 60
    while any(n.status == NotificationStatus.PENDING for n in outbox(ws, owner_digest.KIND)):
        assert time.monotonic() < deadline, "the slow process never claimed its rows"
        time.sleep(0.01)
    second.go_when_ready()
    counts = sorted([results.get(timeout=120), results.get(timeout=120)], key=lambda c: -c["sent"])
    finish(slow)
    finish(other)
    figures = tally(ws, owners, "heartbeat")
    assert figures == {"planned": 12, "sent": 12, "duplicated": 0, "lost": 0}
    assert counts[0]["sent"] == 12 and counts[1]["sent"] == 0, counts  # never taken from a live process
    assert counts[0]["pid"] == slow.pid and counts[0]["handed_back"] == 0, counts  # kept every row it held
    assert ws.standin.calls_to("conversations.history") == []  # no row was ever in doubt
    assert {n.attempts for n in outbox(ws, owner_digest.KIND)} == {1}


def test_a_rate_limit_holds_every_worker_of_every_process_and_each_post_goes_once(
    group: OfflineWorkspace,
) -> None:
    if group.engine.dialect.name != "postgresql":
        pytest.skip("two replicas share the outbox through PostgreSQL (set ECM_TEST_DATABASE_URL)")
    ws = group
    owners = owners_with_overdue_actions(ws, 40)
    per_second = 10.0
    limit = ws.standin.rate_limit("chat.postMessage", per_second, burst=10)
    results = PROCESSES.Queue()
    lineup = Lineup(lambda results, **kw: start(ws, results, **kw))
    procs = [lineup.start(results, drain_seconds=60, batch=10) for _ in range(2)]
    lineup.go_when_ready()
    counts = [results.get(timeout=120) for _ in procs]
    for proc in procs:
        finish(proc)
    figures = tally(ws, owners, "rate limited, 2 processes")
    assert figures == {"planned": 40, "sent": 40, "duplicated": 0, "lost": 0}
    assert sum(c["sent"] for c in counts) == 40 and all(c["failed"] == 0 for c in counts), counts
    calls = ws.standin.calls_to("chat.postMessage")
    refused = [c for c in calls if c.http_status == 429]
    ok_at = sorted(c.at for c in calls if c.ok)
    took = ok_at[-1] - ok_at[0]
    print(
        f"  {limit.refused} answered 429; posts took {took:.1f} s (the limit allows {(40 - 10) / per_second:.0f} s)"
    )
    assert took >= (40 - 10) / per_second - 1  # nobody posted through the limit
    # After a 429 every worker of both processes waits out its Retry-After (1 s here): only posts already
    # on their way when it was answered can arrive in that second, so refusals stay few.
    assert refused and len(refused) <= 8 * (1 + took), len(refused)
