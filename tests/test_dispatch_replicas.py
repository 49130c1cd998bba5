"""Replicas: three OS processes (multiprocessing "spawn", each with its own engine and retrying Slack
client) dispatch 500 due notifications at once against the one stand-in started here. PostgreSQL only:
that is where replicas run, and where SKIP LOCKED does the sharing."""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import Engine

from bot.offline import OfflineWorkspace
from commands.posts import owner_digest
from storage.actions import create_action
from storage.models import NotificationStatus, TaskGroup
from tests.dispatch_procs import dispatch_into
from tests.support import database_url, db, group_id, ok, outbox, run

COUNT = 500


def test_three_processes_post_each_of_500_notifications_exactly_once(
    engine: Engine, group: OfflineWorkspace
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip(
            "replicas share work through PostgreSQL's SELECT … FOR UPDATE SKIP LOCKED; SQLite is for a "
            "single process (set ECM_TEST_DATABASE_URL to run this)"
        )
    ws = group
    ok(ws.command("setup escalate-after:0 digest:off"))  # only the 500 owner digests
    owners = [ws.standin.add_user(f"owner{i:03d}") for i in range(COUNT)]
    gid = group_id(ws)
    with db(ws) as session:
        task_group = session.get(TaskGroup, gid)
        assert task_group is not None
        for i, owner in enumerate(owners):
            create_action(
                session,
                task_group,
                title=f"Action {i}",
                owners=[owner],
                organisation="Chorley",
                due_date=date(2026, 11, 18),
                outcomes=[],
                district_ids=[],
                countywide=True,
                by=ws.user("chair"),
                at=ws.clock.now(),
            )
    run(ws, "chasers", plan_only=True)
    assert len(outbox(ws, owner_digest.KIND)) == COUNT
    ws.standin.calls.clear()
    ws.standin.messages.clear()

    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    start_at = time.time() + 5  # all three start claiming at the same moment
    procs = [
        spawn.Process(
            target=dispatch_into,
            args=(results, database_url(ws), ws.standin.api_url, ws.standin.bot_token, "2026-11-23"),
            kwargs={"start_at": start_at, "batch": 10},
        )
        for _ in range(3)
    ]
    for proc in procs:
        proc.start()
    counts = [results.get(timeout=300) for _ in procs]
    for proc in procs:
        proc.join(30)
        assert proc.exitcode == 0

    assert sum(c["sent"] for c in counts) == COUNT
    assert all(c["failed"] == 0 and c["retry"] == 0 for c in counts), counts
    assert len({c["pid"] for c in counts}) == 3 and all(c["sent"] > 0 for c in counts), (
        counts
    )  # all shared the work
    posted = Counter(c.params["channel"] for c in ws.standin.calls_to("chat.postMessage") if c.ok)
    assert len(posted) == COUNT and set(posted.values()) == {1}  # counted at the stand-in: each exactly once
    assert set(posted) == set(owners)
    assert {n.status for n in outbox(ws, owner_digest.KIND)} == {NotificationStatus.SENT}
    assert {n.attempts for n in outbox(ws, owner_digest.KIND)} == {1}
