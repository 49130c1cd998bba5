"""The reply compute gate (bot.background.ComputeGate): first come first served, a reply waiting for Slack or
the database holds no slot, and no wait is longer than its bound."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from bot.app import watch_statements
from bot.background import ComputeGate, outside
from bot.offline import OfflineWorkspace
from bot.standin import Message, SlackStandIn


def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def queued(gate: ComputeGate) -> int:
    with gate._lock:
        return len(gate._waiting)


def free(gate: ComputeGate) -> int:
    with gate._lock:
        return gate._free


def test_slots_go_in_the_order_asked() -> None:
    gate = ComputeGate(1, max_wait=10)
    order: list[int] = []
    first_in, let_go = threading.Event(), threading.Event()

    def first() -> None:
        with gate.hold():
            first_in.set()
            let_go.wait(5)

    def later(n: int) -> None:
        with gate.hold():
            order.append(n)

    threads = [threading.Thread(target=first)]
    threads[0].start()
    assert first_in.wait(5)
    for n in range(5):  # each in line before the next asks
        threads.append(threading.Thread(target=later, args=(n,)))
        threads[-1].start()
        until(lambda n=n: queued(gate) == n + 1)  # type: ignore[misc]
    let_go.set()
    for t in threads:
        t.join(5)
    assert order == [0, 1, 2, 3, 4]
    assert free(gate) == 1 and queued(gate) == 0


def test_a_reply_waiting_outside_holds_no_slot_and_comes_back_ahead_of_new_work() -> None:
    gate = ComputeGate(1, max_wait=10)
    order: list[str] = []
    waiting, answer = threading.Event(), threading.Event()

    def slow_slack() -> None:
        with gate.hold():
            with outside():  # Slack takes its time: the slot is free meanwhile
                waiting.set()
                answer.wait(5)
            order.append("slow, after its answer")

    computing, done_computing = threading.Event(), threading.Event()

    def other() -> None:
        with gate.hold():  # not held up by the slow call
            computing.set()
            done_computing.wait(5)
            order.append("other")

    def new() -> None:
        with gate.hold():
            order.append("new")

    slow = threading.Thread(target=slow_slack)
    slow.start()
    assert waiting.wait(5)
    assert free(gate) == 1
    second = threading.Thread(target=other)
    second.start()
    assert computing.wait(5)
    third = threading.Thread(target=new)
    third.start()
    until(lambda: queued(gate) == 1)
    answer.set()  # the slow one is back: it waits for the slot, ahead of the new one
    until(lambda: queued(gate) == 2)
    done_computing.set()
    for t in (slow, second, third):
        t.join(5)
    assert order == ["other", "slow, after its answer", "new"]
    assert free(gate) == 1 and queued(gate) == 0


def test_no_wait_is_longer_than_its_bound() -> None:
    gate = ComputeGate(1, max_wait=0.2)
    holding, let_go = threading.Event(), threading.Event()

    def hog() -> None:
        with gate.hold():  # computes (or waits on something not marked as a wait) for a long time
            holding.set()
            let_go.wait(10)

    hog_thread = threading.Thread(target=hog)
    hog_thread.start()
    assert holding.wait(5)
    started = time.monotonic()
    ran: list[float] = []

    def waiter() -> None:
        with gate.hold():
            ran.append(time.monotonic() - started)

    threads = [threading.Thread(target=waiter) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert len(ran) == 3 and all(0.15 < r < 2.0 for r in ran), ran  # ran anyway, once the bound passed
    assert queued(gate) == 0
    let_go.set()
    hog_thread.join(5)
    # Those that ran without a slot gave none back: the gate is as it started.
    assert free(gate) == 1 and queued(gate) == 0


def test_nested_gated_work_and_waits_off_the_gate_take_nothing() -> None:
    gate = ComputeGate(1, max_wait=10)
    with outside():  # not gated work (an ack, the scheduler): nothing to give up or take
        assert free(gate) == 1
    with gate.hold():
        assert free(gate) == 0
        with gate.hold():  # the same thread's nested work has its slot already
            assert free(gate) == 0
        with outside():
            assert free(gate) == 1
            with outside():
                assert free(gate) == 1
            assert free(gate) == 1  # back only when the outer wait is over
        assert free(gate) == 0
    assert free(gate) == 1


def test_a_database_statement_is_a_wait(engine: Engine) -> None:
    watch_statements(engine)
    watch_statements(engine)  # once per engine, however many apps are made on it
    gate = ComputeGate(1, max_wait=10)
    seen: list[int] = []
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.connection.driver_connection.create_function(  # type: ignore[union-attr]
                "gate_probe", 0, lambda: seen.append(free(gate)) or 1
            )
            probe = "SELECT gate_probe()"
        else:
            probe = "SELECT pg_sleep(0.05)"

            def statement_starts(*_args: object) -> None:
                threading.Timer(0.02, lambda: seen.append(free(gate))).start()

            event.listen(engine, "before_cursor_execute", statement_starts)
        try:
            with gate.hold():
                assert free(gate) == 0
                conn.execute(text(probe))
                assert free(gate) == 0
        finally:
            if engine.dialect.name != "sqlite":
                event.remove(engine, "before_cursor_execute", statement_starts)
    until(lambda: len(seen) == 1)
    assert seen == [1]  # during the statement the slot was free for another reply


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # One reply computing at a time and a wait bound far past the slow call below: were the slot held while
    # Slack answers, the other reply would wait the whole call out.
    return {"ecm_reply_computing": 1, "ecm_reply_computing_wait": 30}


def replies_to(slack: SlackStandIn, user: str) -> list[Message]:
    return [m for m in list(slack.messages) if m.user == user]


def test_a_slow_slack_answer_does_not_hold_up_another_reply(
    ws: OfflineWorkspace, slack: SlackStandIn
) -> None:
    gate = ws.services.gate
    assert gate is not None and gate.slots == 1
    ws.command('setup name:"Gate group" preset:lancashire', user="chair")
    slack.reset()
    slow = slack.inject(
        "response_url", delay=3.0, match=lambda params: "No open actions" in json.dumps(params)
    )
    sam, chair = ws.user("sam"), ws.user("chair")
    started = time.monotonic()
    slack.dispatch(ws.app, slack.slash_command("actions", sam, ws.channel))  # its reply is slow to arrive
    until(lambda: free(gate) == 1 and queued(gate) == 0)
    time.sleep(0.2)  # well into the slow call
    slack.dispatch(ws.app, slack.slash_command("help", chair, ws.channel))
    assert slack.wait_for(lambda: bool(replies_to(slack, chair)), timeout=2.0)
    assert time.monotonic() - started < 2.5 and not replies_to(slack, sam)
    assert slow.times == 0
    assert slack.wait_for(lambda: bool(replies_to(slack, sam)), timeout=10)
    ws.drain()


def test_acks_never_wait_for_the_gate(ws: OfflineWorkspace, slack: SlackStandIn) -> None:
    gate = ws.services.gate
    assert gate is not None
    ws.command('setup name:"Gate group" preset:lancashire', user="chair")
    slack.reset()
    holding, let_go = threading.Event(), threading.Event()

    def hog() -> None:
        with gate.hold():
            holding.set()
            let_go.wait(10)

    hog_thread = threading.Thread(target=hog)
    hog_thread.start()
    try:
        assert holding.wait(5)
        sam = ws.user("sam")
        started = time.monotonic()
        response = slack.dispatch(ws.app, slack.slash_command("actions", sam, ws.channel))
        assert response.status == 200 and time.monotonic() - started < 1.0  # acked with no slot free
        until(lambda: queued(gate) == 1)  # its reply waits in line
        assert not replies_to(slack, sam)
    finally:
        let_go.set()
        hog_thread.join(5)
    assert slack.wait_for(lambda: bool(replies_to(slack, sam)), timeout=10)
    ws.drain()
