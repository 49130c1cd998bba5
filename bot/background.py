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

from slack_bolt.context.ack import Ack
from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

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


# ----- handing the ack over without Bolt's 10 ms polling ------------------------------------------------
#
# Bolt submits a listener to its listener executor and then checks for the ack every 10 ms, so every request
# waited 0-10 ms after its listener had acked. `SignallingAck` tells a waiting thread the moment `ack()` is
# called, and `AckHandOver` (the listener executor) waits for exactly that before giving Bolt the Future: at
# Bolt's first look the ack is there. The listener still runs on the pool, so anything it does after its
# ack (opening a modal, handing work to the reply pool) still happens after the HTTP answer has gone.

_dispatching = threading.local()  # the ack of the request this thread is dispatching, between the two


class SignallingAck(Ack):
    """Bolt's `ack()`, which also sets `called` (a listener that raises instead is seen by its Future)."""

    def __init__(self) -> None:
        super().__init__()
        self.called = threading.Event()

    def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        try:
            return super().__call__(*args, **kwargs)
        finally:
            self.called.set()


class SignallingAckMiddleware(Middleware):
    """A global middleware: gives the request a `SignallingAck` (Bolt makes its own `Ack` lazily, on
    first use) and notes it for `AckHandOver`, which Bolt calls next on this same thread."""

    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,
        next: Callable[[], BoltResponse],  # noqa: A002
    ) -> BoltResponse | None:
        if "ack" not in req.context:
            ack = SignallingAck()
            req.context["ack"] = ack
            _dispatching.ack = ack
        next()
        return resp


class AckHandOver(Executor):
    """Bolt's listener executor: runs each listener on `inner` and returns once it has acked (or finished,
    or `timeout` passed, Slack's 3 s), so Bolt finds the ack at its first look instead of 0-10 ms later."""

    def __init__(self, inner: Executor, timeout: float = 3.0) -> None:
        self.inner, self.timeout = inner, timeout

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        ack: SignallingAck | None = getattr(_dispatching, "ack", None)
        _dispatching.ack = None
        future = self.inner.submit(fn, *args, **kwargs)
        if ack is not None:
            future.add_done_callback(lambda _done: ack.called.set())
            ack.called.wait(self.timeout)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)
