"""Replicas: three OS processes (tests.dispatch_procs.PROCESSES, each with its own engine and retrying Slack
client) dispatch 500 due notifications at once against the one stand-in started here. PostgreSQL only:
that is where replicas run, and where SKIP LOCKED does the sharing."""

from __future__ import annotations

import multiprocessing
from collections import Counter

import pytest
from sqlalchemy import Engine

from bot.offline import OfflineWorkspace
from commands.posts import owner_digest
from storage.models import NotificationStatus
from tests.dispatch_procs import PROCESSES, Lineup, dispatch_into
from tests.support import database_url, outbox, owners_with_overdue_actions

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
    owners = owners_with_overdue_actions(ws, COUNT)  # only the 500 owner digests

    results = PROCESSES.Queue()

    def start(results: object, **kwargs: object) -> multiprocessing.process.BaseProcess:
        proc = PROCESSES.Process(
            target=dispatch_into,
            args=(results, database_url(ws), ws.standin.api_url, ws.standin.bot_token, "2026-11-23"),
            kwargs={"batch": 10, **kwargs},
        )
        proc.start()
        return proc

    lineup = Lineup(start)  # all three start claiming at the same moment, once each has imported
    procs = [lineup.start(results) for _ in range(3)]
    lineup.go_when_ready()
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
