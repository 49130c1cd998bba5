"""Replies to a response_url go over kept-open connections (bot.slack_api.KeepAliveWebhookClient): one
connection for many replies, a connection the server closed is never used again, and error statuses are
retried or reported as before. A small HTTP/1.1 server here notes which connection each request came on."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bot.slack_api import respond
from commands.mrkdwn import Mrkdwn
from commands.replies import Reply, Section


class Hooks:
    """Answers POSTs like Slack's response_url; `statuses` are answered first, in order, then 200."""

    def __init__(self) -> None:
        self.requests: list[tuple[int, dict[str, object]]] = []  # (client port, body)
        self.statuses: list[int] = []
        self.close_after_answer = False
        self.closed = threading.Event()
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                return

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status = hooks.statuses.pop(0) if hooks.statuses else 200
                hooks.requests.append((self.client_address[1], body))
                payload = b"ok" if status == 200 else b"no"
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                # Closed after answering, with no "Connection: close" said: as a server closes an idle one.
                self.close_connection = hooks.close_after_answer

        class Server(ThreadingHTTPServer):
            def shutdown_request(self, request: Any) -> None:
                super().shutdown_request(request)  # the socket is closed: its FIN is on the way
                if hooks.close_after_answer:
                    hooks.closed.set()

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/commands/T1/123/abc"
        # Polled every 50 ms, so shutting it down at the end of a test takes no half-second wait.
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def ports(self) -> list[int]:
        return [port for port, _ in self.requests]

    def texts(self) -> list[object]:
        return [body["text"] for _, body in self.requests]


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    server = Hooks()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


def reply(text: str) -> Reply:
    return Reply(text=text, sections=[Section(Mrkdwn(text))])


def test_replies_share_one_connection(hooks: Hooks) -> None:
    for n in range(3):
        assert respond(hooks.url, reply(f"reply {n}")).ok
    assert hooks.texts() == ["reply 0", "reply 1", "reply 2"]
    assert len(set(hooks.ports())) == 1, hooks.ports()


def test_a_connection_the_server_closed_is_not_used_again(hooks: Hooks) -> None:
    hooks.close_after_answer = True
    assert respond(hooks.url, reply("first")).ok
    assert hooks.closed.wait(5)
    assert respond(hooks.url, reply("second")).ok
    assert hooks.texts() == ["first", "second"]  # each once
    assert len(set(hooks.ports())) == 2, hooks.ports()


def test_a_server_error_is_retried_and_the_reply_arrives_once(hooks: Hooks) -> None:
    hooks.statuses = [500]
    assert respond(hooks.url, reply("after a 500")).ok
    assert hooks.texts() == ["after a 500", "after a 500"]  # the 500, then the retry that was answered
    assert [r.ok for r in [respond(hooks.url, reply("next"))]] == [True]


def test_a_refusal_is_reported_not_retried(hooks: Hooks) -> None:
    hooks.statuses = [404]
    result = respond(hooks.url, reply("gone"))
    assert not result.ok and result.error == "http_404: no"
    assert hooks.texts() == ["gone"]
    assert respond(hooks.url, reply("then fine")).ok
