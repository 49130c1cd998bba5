"""Process entry points for the dispatch tests, and where their processes come from (`PROCESSES`)."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from storage import notifications
from storage.db import make_engine

# multiprocessing's "forkserver": a fresh interpreter (none of the test process's engines, connections or
# threads) imports the dispatching code once, and each test's processes are forked from it. They start in
# milliseconds, where each "spawn" child imported the app again (a second or two of CPU on a busy machine,
# for every process of every test); each still opens its own engine and its own Slack client, and is
# killed and counted as a replica is.
PROCESSES = multiprocessing.get_context("forkserver")
PROCESSES.set_forkserver_preload(["bot.jobs.replica", "tests.dispatch_procs"])


def claim_then_die(database_url: str, now_iso: str) -> None:
    """Claims every due row, then dies before posting anything: a crash between claim and post."""
    engine = make_engine(database_url)
    claimed = notifications.claim(engine, now=datetime.fromisoformat(now_iso), limit=100)
    assert claimed, "nothing to claim"
    os._exit(17)  # no clean-up, no marking: as if the process were killed


def dispatch_into(
    results: Any, *args: Any, ready: Any = None, go: Any = None, after: float = 0.0, **kwargs: Any
) -> None:
    """A replica: dispatches and reports its counts on the queue. With `ready` (a queue) and `go` (an
    event), it first says it is imported and waits for the word, then starts `after` seconds later: the
    processes of one test line up without each waiting out a fixed start-up allowance."""
    from bot.jobs.replica import dispatch_process

    if ready is not None:
        ready.put(os.getpid())
        if not go.wait(120):
            raise RuntimeError("never told to start")
        kwargs["start_at"] = time.time() + after
    results.put(dispatch_process(*args, **kwargs))


class Lineup:
    """Processes that start dispatching together (each `after` seconds past the word), once every one of
    them has imported: they really do compete for the same rows. `spawn(results, **kwargs)` starts one
    process running `dispatch_into` with the kwargs given."""

    def __init__(self, spawn: Callable[..., Any]) -> None:
        self.ready = PROCESSES.Queue()
        self.go = PROCESSES.Event()
        self.spawn = spawn
        self.count = 0

    def start(self, results: Any, after: float = 0.0, **kwargs: Any) -> Any:
        self.count += 1
        return self.spawn(results, ready=self.ready, go=self.go, after=after, **kwargs)

    def go_when_ready(self) -> None:
        for _ in range(self.count):
            self.ready.get(timeout=120)
        self.go.set()
