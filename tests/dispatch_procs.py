"""Process entry points for the dispatch tests (importable by multiprocessing's "spawn")."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from storage import notifications
from storage.db import make_engine


def claim_then_die(database_url: str, now_iso: str) -> None:
    """Claims every due row, then dies before posting anything: a crash between claim and post."""
    engine = make_engine(database_url)
    claimed = notifications.claim(engine, now=datetime.fromisoformat(now_iso), limit=100)
    assert claimed, "nothing to claim"
    os._exit(17)  # no clean-up, no marking: as if the process were killed


def dispatch_into(results: Any, *args: Any, **kwargs: Any) -> None:
    """A replica: dispatches and reports its counts on the queue."""
    from bot.jobs.replica import dispatch_process

    results.put(dispatch_process(*args, **kwargs))
