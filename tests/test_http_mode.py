"""HTTP mode as deployed: uvicorn serving the Starlette app, Slack's signed requests over real HTTP."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator

import pytest
import uvicorn
from sqlalchemy import Engine

from bot.app import create_app
from bot.config import Settings
from bot.server import create_web_app
from bot.standin import SlackStandIn
from storage.clock import FixedClock


def settings_for(slack: SlackStandIn) -> Settings:
    return Settings(
        _env_file=None,
        slack_bot_token=slack.bot_token,  # type: ignore[call-arg]
        slack_signing_secret=slack.signing_secret,
        slack_api_url=slack.api_url,
    )


@pytest.fixture
def server(engine: Engine, clock: FixedClock, slack: SlackStandIn) -> Iterator[str]:
    app, _services = create_app(settings_for(slack), engine, clock)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_web_app(app, engine, signing_secret=slack.signing_secret), log_level="warning", lifespan="off"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)
    sock.close()


def test_healthz_reports_database(server: str) -> None:
    with urllib.request.urlopen(f"{server}/healthz", timeout=5) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"ok": True, "database": "ok"}


def test_signed_slash_command_over_http_acks_fast_and_replies(server: str, slack: SlackStandIn) -> None:
    chair = slack.add_user("chair")
    channel = slack.add_channel("ecm-http")
    body = slack.slash_command('setup name:"HTTP Group" preset:leicestershire', chair, channel)
    started = time.monotonic()
    status, _ = slack.post(f"{server}/slack/events", body)
    assert status == 200
    assert time.monotonic() - started < 3, "Slack needs the ack within 3 seconds"
    assert slack.wait_for(lambda: any(m.channel == channel for m in slack.messages), timeout=10)
    posted = [m for m in slack.messages if m.channel == channel and not m.ephemeral]
    assert posted and "Charnwood" in json.dumps(posted[0].blocks)
    call = slack.calls_to("chat.postMessage")[-1]
    assert call.token == slack.bot_token

    body = slack.slash_command("districts", chair, channel)
    status, _ = slack.post(f"{server}/slack/events", body)
    assert status == 200
    assert slack.wait_for(
        lambda: any(m.ephemeral and "Melton" in json.dumps(m.blocks) for m in slack.messages)
    )


def test_bad_signature_is_refused_and_changes_nothing(server: str, slack: SlackStandIn) -> None:
    chair = slack.add_user("chair")
    channel = slack.add_channel("ecm-http")
    body = slack.slash_command('setup name:"Forged"', chair, channel)
    headers = slack.sign(body)
    headers["x-slack-signature"] = "v0=" + "0" * 64
    request = urllib.request.Request(
        f"{server}/slack/events", data=body.encode(), headers=headers, method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 401
    time.sleep(0.3)
    assert not slack.messages


def test_starting_with_the_token_in_the_environment_logs_no_spurious_warning(
    engine: Engine,
    clock: FixedClock,
    slack: SlackStandIn,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack.bot_token)
    settings = Settings(
        _env_file=None,
        slack_signing_secret=slack.signing_secret,  # type: ignore[call-arg]
        slack_api_url=slack.api_url,
    )
    with caplog.at_level("WARNING"):
        create_app(settings, engine, clock)
    assert not [r for r in caplog.records if r.levelname == "WARNING"], caplog.text


def test_the_server_freezes_what_it_built_before_its_first_request(
    engine: Engine, clock: FixedClock, slack: SlackStandIn
) -> None:
    """Start-up's objects (the app, the web stack) stay out of the collector's way once serving starts."""
    import asyncio
    import gc

    app, _services = create_app(settings_for(slack), engine, clock)
    web = create_web_app(app, engine, signing_secret=slack.signing_secret)
    gc.unfreeze()

    async def serve_briefly() -> int:
        async with web.router.lifespan_context(web):
            return gc.get_freeze_count()

    try:
        assert asyncio.run(serve_briefly()) > 0
    finally:
        gc.unfreeze()
