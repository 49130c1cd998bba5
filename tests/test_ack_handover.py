"""The ack is handed to Bolt the moment a listener calls `ack()` (bot.ack_handover.AckHandOver), not at Bolt's
next 10 ms look; what the listener does after its ack still runs after the HTTP answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot import ack_handover
from bot.ack_handover import AckHandOver, SignallingAck, SignallingAckMiddleware, run_in_place
from bot.background import InlineExecutor
from bot.listeners.slash_commands import hands_over_only
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


def test_a_listener_marked_to_run_in_place_runs_on_the_dispatching_thread(slack: SlackStandIn) -> None:
    user, channel = slack.add_user("placer"), slack.add_channel("in-place")
    ran_on: list[int] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        app = App(
            name="in-place",
            client=WebClient(token=slack.bot_token, base_url=slack.api_url),
            request_verification_enabled=False,
            token_verification_enabled=False,
            listener_executor=AckHandOver(pool, in_place=InlineExecutor()),
        )
        app.use(SignallingAckMiddleware())

        def only_here(body: dict[str, Any], next: Callable[[], None]) -> None:  # noqa: A002
            if body.get("text") == "here":
                run_in_place()
            next()

        @app.command("/ecm", middleware=[only_here])
        def on_ecm(ack: Any) -> None:
            ran_on.append(threading.get_ident())
            ack("got it")

        for text in ("here", "there", "here", "there"):  # the mark is the request's own, never the next's
            body = slack.slash_command(text, user, channel)
            response = app.dispatch(BoltRequest(body=body, headers=dict(slack.sign(body))))
            assert response.status == 200 and "got it" in response.body
    me = threading.get_ident()
    assert [ident == me for ident in ran_on] == [True, False, True, False]


def test_ecm_runs_in_place_but_when_it_opens_the_new_action_form() -> None:
    def marked(text: str) -> bool:
        ack_handover._dispatching.in_place = False
        seen: list[bool] = []
        hands_over_only({"text": text}, lambda: seen.append(ack_handover._dispatching.in_place))
        ack_handover._dispatching.in_place = False
        return seen == [True]

    assert marked("help") and marked("actions mine") and marked("add Fix the gate")
    assert not marked("add")  # views.open after the ack: on the ack pool, after the answer
