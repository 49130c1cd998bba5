"""Handing the ack over to Bolt without its 10 ms polling (used by bot.app; Bolt is imported only where the
bot serves, so this is not in bot.background, which every `ecm-bot` command imports).

Bolt submits a listener to its listener executor and then checks for the ack every 10 ms, so every request
waited 0-10 ms after its listener had acked. `SignallingAck` tells a waiting thread the moment `ack()` is
called, and `AckHandOver` (the listener executor) waits for exactly that before giving Bolt the Future: at
Bolt's first look the ack is there. The listener still runs on the pool, so anything it does after its
ack (opening a modal, handing work to the reply pool) still happens after the HTTP answer has gone.

A listener whose only work is to ack and hand the rest to the reply pool (`/ecm` but for the form it opens
at once) is marked by `runs_in_place` (a listener middleware): `AckHandOver` then runs it on the request's
own thread, `in_place`, with nothing after its ack that could delay the answer, and spares the request a
pool hand-over and the wait for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from slack_bolt.context.ack import Ack
from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse

_dispatching = threading.local()  # the ack of the request this thread is dispatching, between the two


def run_in_place() -> None:
    """The listener Bolt submits next from this thread only acks and hands its work over (see the module
    docstring): `AckHandOver` runs it here. Called by a listener middleware, on the dispatching thread."""
    _dispatching.in_place = True


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
        _dispatching.in_place = False  # only what this request's own listener middleware says counts
        if "ack" not in req.context:
            ack = SignallingAck()
            req.context["ack"] = ack
            _dispatching.ack = ack
        next()
        return resp


class AckHandOver(Executor):
    """Bolt's listener executor: runs each listener on `inner` and returns once it has acked (or finished,
    or `timeout` passed, Slack's 3 s), so Bolt finds the ack at its first look instead of 0-10 ms later.
    A listener marked by `run_in_place` runs on `in_place` instead (an executor running it in this thread)."""

    def __init__(self, inner: Executor, timeout: float = 3.0, in_place: Executor | None = None) -> None:
        self.inner, self.timeout, self.in_place = inner, timeout, in_place

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        ack: SignallingAck | None = getattr(_dispatching, "ack", None)
        _dispatching.ack = None
        in_place = getattr(_dispatching, "in_place", False)
        _dispatching.in_place = False
        if in_place and self.in_place is not None:
            return self.in_place.submit(fn, *args, **kwargs)
        future = self.inner.submit(fn, *args, **kwargs)
        if ack is not None:
            future.add_done_callback(lambda _done: ack.called.set())
            ack.called.wait(self.timeout)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)
