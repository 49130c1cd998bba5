"""Thread pools for the two halves of every Slack request: the ack, and the slow work after it.

Bolt runs each listener on its listener pool and waits (up to Slack's 3 s) for it to call `ack()`. If that
pool's threads were also posting to Slack, a few slow Web API calls would fill it and the next person's
ack would wait behind them. So listeners only ack (and validate what must be answered in the ack, such as a
modal's errors) and hand everything that talks to Slack to a separate reply pool: the ack never waits for
Slack.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)


class DrainableExecutor(ThreadPoolExecutor):
    """A thread pool whose `drain()` waits until all the work submitted so far (and since) is finished."""

    def __init__(self, max_workers: int, name: str) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=name)
        self._pending: set[Future[Any]] = set()
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)

    def drain(self, timeout: float = 60.0) -> None:
        while True:
            with self._lock:
                pending = list(self._pending)
            if not pending:
                return
            for future in pending:
                future.result(timeout=timeout)


class InlineExecutor(Executor):
    """Runs each task at once in the submitting thread and hands back its finished Future.

    For Bolt's ack pool in the offline harness (tests, console): Bolt submits the listener, then polls for
    its ack every 10 ms; run inline, the ack is already there at the first look, so each request costs
    what the bot does rather than a 10 ms sleep. Production keeps a real pool (`DrainableExecutor`), so an
    ack never queues behind another request's listener."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            result = fn(*args, **kwargs)
        except BaseException as error:  # handed to the caller through the Future, as a pool would
            future.set_exception(error)
        else:
            future.set_result(result)
        return future

    def drain(self, timeout: float = 60.0) -> None:
        """Nothing is ever left running."""


def run_logged(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Runs background work; a failure is logged with its traceback, never lost silently in a Future."""
    try:
        fn(*args, **kwargs)
    except Exception:
        log.exception("background work %s failed", getattr(fn, "__qualname__", fn))
