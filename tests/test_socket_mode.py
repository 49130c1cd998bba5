"""Socket Mode end to end: the real `ecm-bot run` with SLACK_APP_TOKEN, against the stand-in's WebSocket.

Envelopes (slash command, button, events with and without a listener) are acked and answered; `disconnect`
and an unannounced drop are followed promptly by a new connection; a refused or revoked app token and a
long outage end the process with one clear line and a non-zero status; /healthz tells an orchestrator.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.standin import SlackStandIn
from commands.posts import owner_digest
from commands.posts.common import DONE_ACTION, ActionRef
from tests.test_run_process import bot_env, free_port, migrated


@pytest.fixture(autouse=True)
def _migrated(sqlite_template: Path, tmp_path: Path) -> None:
    migrated(sqlite_template, tmp_path)  # these are about the connection to Slack, not a new database


def health(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def until(predicate: Callable[[], bool], timeout: float) -> bool:
    """Polls `predicate` (every 20 ms) for what the stand-in is not told about, such as the bot's health:
    `slack.wait_for` looks again only when a Slack call arrives, so it could sleep out its whole timeout."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def start_socket_bot(slack: SlackStandIn, tmp_path: Path, **extra: str) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    env = bot_env(slack, tmp_path, SLACK_APP_TOKEN=slack.app_token, SLACK_SIGNING_SECRET="", **extra)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--no-scheduler", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"ecm-bot run exited {process.returncode}: {process.stderr.read() if process.stderr else ''}"
            )
        try:
            status, body = health(port)
        except OSError:
            status, body = 0, {}
        if status == 200 and body.get("connected"):
            return process, port
        time.sleep(0.05)
    process.kill()
    pytest.fail("ecm-bot run never connected in Socket Mode")


def stop(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        _out, err = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        _out, err = process.communicate()
    return err


@pytest.fixture
def socket_bot(slack: SlackStandIn, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    process, port = start_socket_bot(slack, tmp_path)
    yield process, port
    stop(process)


def _ack_within_3s(slack: SlackStandIn, envelope_id: str) -> dict[str, Any]:
    ack = slack.socket_mode.wait_for_ack(envelope_id, timeout=3)
    assert ack is not None, f"envelope {envelope_id} was not acked within 3 s"
    return ack


def test_commands_buttons_and_events_are_acked_and_answered(
    socket_bot: tuple[subprocess.Popen[str], int], slack: SlackStandIn
) -> None:
    server = slack.socket_mode
    assert slack.calls_to("apps.connections.open")[0].token == slack.app_token
    chair, sam = slack.add_user("chair"), slack.add_user("sam")
    channel = slack.add_channel("ecm-socket")

    _ack_within_3s(
        slack, slack.socket_slash_command('setup name:"Socket Group" preset:lancashire', chair, channel)
    )
    assert slack.wait_for(lambda: any(m.channel == channel and not m.ephemeral for m in slack.messages), 15)
    _ack_within_3s(
        slack,
        slack.socket_slash_command(
            "member @sam district:chorley".replace("@sam", f"<@{sam}>"), chair, channel
        ),
    )
    _ack_within_3s(slack, slack.socket_slash_command("add Map youth provision due:friday", sam, channel))
    assert slack.wait_for(
        lambda: any(
            "Map youth provision" in str(m.blocks) + m.text for m in slack.messages if not m.ephemeral
        ),
        15,
    )

    # A mistyped command gets its clear ephemeral answer, as over HTTP.
    _ack_within_3s(slack, slack.socket_slash_command("nonsense", chair, channel))
    assert slack.wait_for(
        lambda: any(m.ephemeral and "don't know the command" in json.dumps(m.blocks) for m in slack.messages),
        15,
    )

    # A chaser DM's Done button, as an interactive envelope.
    before = len(slack.messages)
    value = ActionRef(group_id=1, number=1).encode(owner_digest.KIND)
    _ack_within_3s(slack, slack.socket_block_action(sam, sam, DONE_ACTION, value))
    assert slack.wait_for(
        lambda: any("Map youth provision" in str(m.blocks) + m.text for m in slack.messages[before:]), 15
    )

    # Events: one with a listener (the Home tab) and one nobody listens to; both acked, so Slack won't retry.
    _ack_within_3s(slack, slack.socket_event({"type": "app_home_opened", "user": sam, "tab": "home"}))
    _ack_within_3s(slack, slack.socket_event({"type": "reaction_added", "user": sam, "reaction": "tada"}))
    assert len(server.connections) == 1


def test_reconnects_promptly_after_disconnect_and_after_a_dropped_socket(
    socket_bot: tuple[subprocess.Popen[str], int], slack: SlackStandIn
) -> None:
    _process, port = socket_bot
    server = slack.socket_mode
    chair = slack.add_user("chair")
    channel = slack.add_channel("ecm-reconnect")

    asked_at = time.monotonic()
    server.ask_to_reconnect()
    assert server.wait_for_connection(2, timeout=5), "no new connection after `disconnect`"
    assert len(slack.calls_to("apps.connections.open")) == 2
    # The old connection is let go once the new one works, and the new one is read from straight away.
    assert server.wait_for(lambda: server.connections[0].closed, timeout=10)
    took = time.monotonic() - asked_at
    assert took < 2, f"switching connections took {took:.1f}s"
    _ack_within_3s(slack, slack.socket_slash_command("help", chair, channel))

    dropped_at = time.monotonic()
    server.drop()
    assert server.wait_for_connection(3, timeout=5), "no new connection after the socket dropped"
    took = time.monotonic() - dropped_at
    assert took < 3, f"reconnecting after a drop took {took:.1f}s"
    assert until(lambda: health(port)[0] == 200, 5)

    _ack_within_3s(slack, slack.socket_slash_command('setup name:"After the drop"', chair, channel))
    assert slack.wait_for(lambda: any(m.channel == channel and not m.ephemeral for m in slack.messages), 15)


def test_a_refused_app_token_is_one_line_and_a_non_zero_exit(slack: SlackStandIn, tmp_path: Path) -> None:
    env = bot_env(slack, tmp_path, SLACK_APP_TOKEN="xapp-wrong", SLACK_SIGNING_SECRET="")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--no-scheduler", "--port", str(free_port())],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Slack did not accept SLACK_APP_TOKEN" in lines[0] and "invalid_auth" in lines[0]


def test_a_token_revoked_while_running_stops_the_process(
    socket_bot: tuple[subprocess.Popen[str], int], slack: SlackStandIn
) -> None:
    process, _port = socket_bot
    slack.inject("apps.connections.open", error="token_revoked", times=-1)
    slack.socket_mode.drop()
    assert process.wait(timeout=15) == 2
    err = stop(process)
    assert "Slack no longer accepts SLACK_APP_TOKEN (token_revoked)" in err
    assert "Traceback" not in err


def test_health_reports_an_outage_and_the_process_gives_up_after_the_bound(
    slack: SlackStandIn, tmp_path: Path
) -> None:
    # Gives up 1 s after the drop: long enough to be seen answering 503 first (it is polled every 20 ms,
    # and the answer read is the one checked), short enough not to wait.
    process, port = start_socket_bot(slack, tmp_path, ECM_SOCKET_MAX_OFFLINE_SECONDS="1")
    try:
        slack.inject("apps.connections.open", error="fatal_error", times=-1)  # Slack in trouble
        slack.socket_mode.drop()
        answers: list[tuple[int, dict[str, Any]]] = []

        def answering_503() -> bool:
            answers.append(health(port))
            return answers[-1][0] == 503

        assert until(answering_503, 5)
        _status, body = answers[-1]
        assert body["connected"] is False and body["ok"] is False
        assert process.wait(timeout=20) == 3
    finally:
        err = stop(process)
    assert "no Socket Mode connection for" in err
    assert "Traceback" not in err


def test_sigterm_in_socket_mode_exits_cleanly(slack: SlackStandIn, tmp_path: Path) -> None:
    process, _port = start_socket_bot(slack, tmp_path)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert slack.socket_mode.wait_for(lambda: all(c.closed for c in slack.socket_mode.connections), 5)
