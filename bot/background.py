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
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
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


def run_gated(gate: ComputeGate, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """`run_logged` as gated work (a reply: see ComputeGate)."""
    with gate.hold():
        run_logged(fn, *args, **kwargs)


def run_logged(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Runs background work; a failure is logged with its traceback, never lost silently in a Future."""
    try:
        fn(*args, **kwargs)
    except Exception:
        log.exception("background work %s failed", getattr(fn, "__qualname__", fn))


class ComputeGate:
    """At most `slots` reply threads compute at once, admitted first come first served.

    With many reply threads sharing one interpreter lock, every reply under load finishes late (each gets a
    slice of the lock in turn); letting one or two compute while the others wait in line makes each finish
    in about its own CPU time and keeps the order people asked in. A thread gives its slot up while it waits
    for something else (`outside()`: a Slack call, its retries and Retry-After, a database statement), so a
    slow Slack answer never holds up other people's replies; coming back, it goes ahead of work not yet
    started (it has a person waiting already). No thread waits more than `max_wait` seconds for a slot: past
    that it runs anyway, so a long report, or work waiting on other work, can slow the rest but never stop
    it. Only the reply pool's work holds slots (`services.later`); acks never wait here."""

    def __init__(self, slots: int, max_wait: float = 1.0) -> None:
        self.slots, self.max_wait = slots, max_wait
        self._lock = threading.Lock()
        self._free = slots
        self._waiting: deque[threading.Lock] = deque()  # each waiter blocks on its own lock, in order

    def _acquire(self, *, ahead: bool = False) -> bool:
        """Takes a slot (True), or gives up after `max_wait` (False: the caller runs without one)."""
        with self._lock:
            if self._free > 0 and not self._waiting:
                self._free -= 1
                return True
            waiter = threading.Lock()
            waiter.acquire()
            if ahead:
                self._waiting.appendleft(waiter)
            else:
                self._waiting.append(waiter)
        if waiter.acquire(timeout=self.max_wait):
            return True  # handed over by `_release`
        with self._lock:
            try:
                self._waiting.remove(waiter)
            except ValueError:
                return True  # handed over just as the wait ran out: the slot is ours
            return False

    def _release(self) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().release()  # the slot passes straight to the next in line
            else:
                self._free += 1

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Runs the body as gated work: with a slot, or without one after `max_wait`."""
        state = _gate_state
        if state.gate is not None:  # already gated work on this thread (nested): nothing more to take
            yield
            return
        state.gate, state.held, state.away = self, self._acquire(), 0
        try:
            yield
        finally:
            if state.held:
                self._release()
            state.gate, state.held, state.away = None, False, 0


class _GateState(threading.local):
    gate: ComputeGate | None = None  # the gate this thread's current work is under
    held = False  # whether it holds a slot now
    away = 0  # waits it is in (nested `outside`s)


_gate_state = _GateState()


def step_outside() -> None:
    """This thread starts waiting (see `outside`): its compute slot, if any, goes to the next in line."""
    state = _gate_state
    if state.gate is None:
        return
    state.away += 1
    if state.held:
        state.held = False
        state.gate._release()


def step_back_in() -> None:
    """The wait is over: this thread's gated work takes a slot again, ahead of work not yet started."""
    state = _gate_state
    if state.gate is None or state.away == 0:
        return
    state.away -= 1
    if state.away == 0 and not state.held:
        state.held = state.gate._acquire(ahead=True)


@contextmanager
def outside() -> Iterator[None]:
    """Around a wait (a Slack call, a database statement): other replies compute meanwhile. A no-op on a
    thread doing no gated work (acks, the scheduler, the Home refresher)."""
    step_outside()
    try:
        yield
    finally:
        step_back_in()
