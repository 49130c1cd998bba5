"""`ecm-bot run` when Slack is out of reach or refuses the token: one clear line, a retry that is visible,
a non-zero exit when it gives up — never a traceback. Real processes against the stand-in."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot.standin import SlackStandIn
from tests.test_run_process import bot_env, free_port, migrated


@pytest.fixture(autouse=True)
def _migrated(sqlite_template: Path, tmp_path: Path) -> None:
    migrated(sqlite_template, tmp_path)  # these are about reaching Slack, not a new database


def _run(env: dict[str, str], tmp_path: Path, *args: str, timeout: float = 30) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return done.returncode, done.stdout + done.stderr


def test_no_route_to_slack_retries_visibly_then_exits_3(slack: SlackStandIn, tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/api/"  # nothing listens here
    env = bot_env(
        slack, tmp_path, SLACK_API_URL=nowhere, ECM_SLACK_CONNECT_ATTEMPTS="3", ECM_SLACK_RETRY_SECONDS="0.1"
    )
    code, output = _run(env, tmp_path, "run", "--port", str(free_port()))
    assert code == 3, output
    assert "Traceback" not in output and "urlopen" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines == [
        f"ecm-bot: cannot reach Slack at {nowhere} (connection refused); trying again in 0.1s (try 1 of 3).",
        f"ecm-bot: cannot reach Slack at {nowhere} (connection refused); trying again in 0.2s (try 2 of 3).",
        f"ecm-bot: cannot reach Slack at {nowhere} (connection refused) after 3 tries; giving up. Check the "
        "network or SLACK_API_URL (ECM_SLACK_CONNECT_ATTEMPTS=0 keeps trying).",
    ]


def test_a_wrong_token_is_one_line_and_exit_2(slack: SlackStandIn, tmp_path: Path) -> None:
    env = bot_env(slack, tmp_path, SLACK_BOT_TOKEN="xoxb-not-the-right-one")
    for command in (["run", "--port", str(free_port())], ["worker"]):
        code, output = _run(env, tmp_path, *command)
        assert code == 2, output
        assert output.strip() == (
            f"ecm-bot: Slack refused SLACK_BOT_TOKEN (invalid_auth) at {slack.api_url}: check the bot token "
            "(xoxb-…) under OAuth & Permissions, and that the app is installed."
        )


def test_slack_down_at_start_then_back_is_waited_for(slack: SlackStandIn, tmp_path: Path) -> None:
    slack.inject("auth.test", status=503, times=2)
    port = free_port()
    env = bot_env(slack, tmp_path, ECM_SLACK_RETRY_SECONDS="0.1")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--no-scheduler", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "ecm-bot run never started serving"
                time.sleep(0.2)
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0]
    assert output.count(f"ecm-bot: Slack at {slack.api_url} is not answering (HTTP 503); trying again") == 2
    assert "Traceback" not in output
    assert len([c for c in slack.calls if c.method == "auth.test"]) == 3
