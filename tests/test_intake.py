"""Request intake of the real `ecm-bot run` process in HTTP mode: size cap, signature first, parse after.

Every request here goes over real HTTP into a real server process; the bot's log is its own stdout."""

from __future__ import annotations

import hashlib
import hmac
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.standin import SlackStandIn
from tests.test_run_process import Output, migrated, start_bot

MAX_BODY = 64 * 1024


@dataclass
class Bot:
    process: subprocess.Popen[str]
    url: str
    output: Output | None = None  # the log as it comes, for a bot that serves several tests
    mark: int = 0  # the log line the current test started at

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or 80

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def stop(self) -> str:
        self.process.terminate()
        try:
            output, _ = self.process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            output, _ = self.process.communicate()
        return output

    def log(self) -> str:
        """What the bot logged since the test began. The server logs a refusal before it answers, and its
        access log has each request once answered; a request made now, seen in the log, means everything
        the test's requests (all answered) made it write is in."""
        assert self.output is not None
        barrier = uuid.uuid4().hex
        with urllib.request.urlopen(f"{self.url}/healthz?{barrier}", timeout=10):
            pass
        assert self.output.wait_for(barrier, 10), "the bot's log stopped"
        return "".join(self.output.lines[self.mark :])


@pytest.fixture(scope="module")
def serving(
    standin_server: SlackStandIn, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[Bot]:
    """One real server process for the module: what each test proves is in its own requests' answers and
    its own part of the log (a process per test was two thirds of the module's time)."""
    tmp_path = tmp_path_factory.mktemp("intake")
    migrated(sqlite_template, tmp_path)
    process, url = start_bot(
        standin_server, tmp_path, "--no-scheduler", log_level="INFO", ECM_MAX_REQUEST_BYTES=str(MAX_BODY)
    )
    running = Bot(process, url, Output(process))
    yield running
    running.process.terminate()
    try:
        running.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        running.process.kill()
        running.process.wait()


@pytest.fixture
def bot(serving: Bot, slack: SlackStandIn) -> Bot:
    assert serving.process.poll() is None, serving.output.rest(5) if serving.output else ""
    assert serving.output is not None
    serving.mark = len(serving.output.lines)
    return serving


def raw_request(bot: Bot, head: bytes, body_chunks: Iterator[bytes] | list[bytes] = ()) -> int:
    """Sends a hand-made HTTP request and returns the status the server answered with (reading only the
    status line): the body is streamed until the server answers or stops reading."""
    with socket.create_connection(bot.address, timeout=10) as sock:
        sock.sendall(head)
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early and closed: what we want
        try:
            status_line = sock.makefile("rb").readline().decode()
        except ConnectionResetError:
            return 0
    return int(status_line.split()[1]) if status_line else 0


def post(
    bot: Bot, body: bytes, headers: dict[str, str], content_type: str = "application/x-www-form-urlencoded"
) -> int:
    lines = [
        "POST /slack/events HTTP/1.1",
        f"Host: {bot.address[0]}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return raw_request(bot, ("\r\n".join(lines) + "\r\n\r\n").encode() + body)


def test_an_oversized_body_is_refused_before_it_is_read(bot: Bot) -> None:
    before = bot.rss_kb()
    declared = 50 * 1024 * 1024
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {declared}\r\nConnection: close\r\n\r\n"
    ).encode()
    status = raw_request(bot, head, (b"a" * 65536 for _ in range(declared // 65536)))
    assert status == 413
    # Without a declared length (chunked), the cap applies while streaming.
    head = (
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    chunk = b"10000\r\n" + b"b" * 65536 + b"\r\n"
    assert raw_request(bot, head, (chunk for _ in range(800))) == 413
    grown_mb = (bot.rss_kb() - before) / 1024
    print(f"server RSS grew {grown_mb:.1f} MB for a 50 MB and a 50 MB chunked unsigned POST")
    assert grown_mb < 20
    log = bot.log()
    assert log.count("refused POST /slack/events") == 2, log
    assert f"body over {MAX_BODY} bytes" in log


def test_bad_signatures_are_logged_in_one_line_without_the_body(bot: Bot, slack: SlackStandIn) -> None:
    marker = "SECRETBODYMARKER"
    forged = f"text=x{marker}\n2026-01-01 INFO bot: forged line\r\nmore".encode() + b"z" * 30_000
    now = str(int(time.time()))
    cases = {
        "bad signature": {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=" + "0" * 64},
        "missing": {},
        "abc": {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=1"},
        "1e10": {"X-Slack-Request-Timestamp": "1e10", "X-Slack-Signature": "v0=1"},
        "empty": {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": "v0=1"},
        "negative": {"X-Slack-Request-Timestamp": "-5", "X-Slack-Signature": "v0=1"},
        "huge": {"X-Slack-Request-Timestamp": "9" * 400, "X-Slack-Signature": "v0=1"},
        "stale": {"X-Slack-Request-Timestamp": str(int(time.time()) - 3600), "X-Slack-Signature": "v0=1"},
    }
    statuses = {name: post(bot, forged, headers) for name, headers in cases.items()}
    # Unsigned junk in the shapes that used to crash Bolt's parser: refused as unsigned, not 500.
    statuses["payload=not-json"] = post(bot, b"payload=not-json", {})
    statuses["json type, form body"] = post(bot, b"a=b&c=d", {}, content_type="application/json")
    assert set(statuses.values()) == {401}, statuses
    log = bot.log()
    refused = [line for line in log.splitlines() if "refused POST /slack/events" in line]
    assert len(refused) == len(statuses), log
    assert marker not in log and "forged line" not in log
    assert "Invalid request signature" not in log
    assert {"bad signature", "malformed timestamp", "stale timestamp", "missing signature headers"} <= {
        line.rsplit(": ", 1)[-1] for line in refused
    }
    assert not slack.messages


def test_signed_but_malformed_payloads_are_400_not_500(bot: Bot, slack: SlackStandIn) -> None:
    cases: dict[str, tuple[bytes, str]] = {
        "payload=not-json": (b"payload=not-json", "application/x-www-form-urlencoded"),
        "json type, form body": (b"a=b&c=d", "application/json"),
        "json array": (b"[1, 2]", "application/json"),
        "payload is a string": (b"payload=%22hi%22", "application/x-www-form-urlencoded"),
        "not utf-8": (b"text=\xff\xfe", "application/x-www-form-urlencoded"),
        "empty": (b"", "application/x-www-form-urlencoded"),
        "broken json": (b"{", "application/json"),
        "json null": (b"null", "application/json"),
        "json number": (b"5", "application/json"),
        "payload is an array": (b"payload=%5B%5D", "application/x-www-form-urlencoded"),
    }
    statuses: dict[str, int] = {}
    for name, (body, content_type) in cases.items():
        headers = slack.sign(body.decode("latin-1"))
        del headers["content-type"]
        if name == "not utf-8":  # sign the exact bytes
            ts = headers["x-slack-request-timestamp"]
            digest = hmac.new(
                slack.signing_secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256
            ).hexdigest()
            headers["x-slack-signature"] = f"v0={digest}"
        statuses[name] = post(bot, body, headers, content_type=content_type)
    assert set(statuses.values()) == {400}, statuses
    log = bot.log()
    assert "Traceback" not in log, log
    assert not slack.messages
