"""The ack is handed to Bolt the moment a listener calls `ack()` (bot.ack_handover.AckHandOver), not at Bolt's
next 10 ms look; what the listener does after its ack still runs after the HTTP answer."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot import ack_handover
from bot.ack_handover import AckHandOver, SignallingAck, SignallingAckMiddleware
from bot.standin import SlackStandIn


def test_submit_returns_once_the_listener_acked_while_it_goes_on() -> None:
    ack = SignallingAck()
    release, finished = threading.Event(), threading.Event()

    def listener() -> None:
        ack(text="ok")
        release.wait(10)
        finished.set()

    with ThreadPoolExecutor(max_workers=1) as pool:
        ack_handover._dispatching.ack = ack  # what SignallingAckMiddleware leaves for the dispatching thread
        future = AckHandOver(pool).submit(listener)
        assert ack.response is not None and ack.response.body == "ok"
        assert not future.done() and not finished.is_set()  # the listener is still running
        release.set()
        future.result(timeout=10)
    assert finished.is_set()


def test_a_listener_that_fails_before_its_ack_does_not_hold_the_request_for_the_timeout() -> None:
    def listener() -> None:
        raise RuntimeError("broken before ack")

    with ThreadPoolExecutor(max_workers=1) as pool:
        ack_handover._dispatching.ack = SignallingAck()
        started = time.monotonic()
        future = AckHandOver(pool, timeout=30).submit(listener)
        assert time.monotonic() - started < 10
        assert isinstance(future.exception(timeout=10), RuntimeError)


def test_bolt_answers_with_the_ack_while_the_listener_finishes_afterwards(slack: SlackStandIn) -> None:
    release, after_ack = threading.Event(), threading.Event()
    user, channel = slack.add_user("acker"), slack.add_channel("ack-handover")
    with ThreadPoolExecutor(max_workers=2) as pool:
        app = App(
            name="ack-handover",
            client=WebClient(token=slack.bot_token, base_url=slack.api_url),
            request_verification_enabled=False,
            token_verification_enabled=False,
            listener_executor=AckHandOver(pool),
        )
        app.use(SignallingAckMiddleware())

        @app.command("/ecm")
        def on_ecm(ack: Any) -> None:
            ack("got it")
            release.wait(10)
            after_ack.set()

        for _ in range(3):  # the thread's noted ack is used once and never leaks into the next request
            release.clear()
            after_ack.clear()
            body = slack.slash_command("help", user, channel)
            response = app.dispatch(BoltRequest(body=body, headers=dict(slack.sign(body))))
            assert response.status == 200 and "got it" in response.body
            assert not after_ack.is_set()  # answered before the listener's own work was done
            release.set()
            assert after_ack.wait(10)
