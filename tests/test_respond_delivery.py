"""Replies to a response_url go over kept-open connections (bot.slack_api.ResponseUrlPoster): one
connection for many replies, a connection the server closed is never used again, error statuses are
retried (a 429 after its Retry-After) or reported as before, and a reply whose answer never came is never
sent again. A small HTTP/1.1 server here notes which connection each request came on."""

from __future__ import annotations

import json
import threading
import time
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
        self.say_close = False  # answer with "Connection: close"
        self.chunked = False  # answer with a chunked body
        self.drop = 0  # requests to take and then close the connection on without a word
        self.closed = threading.Event()
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: object) -> None:
                return

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hooks.requests.append((self.client_address[1], body))
                if hooks.drop:
                    hooks.drop -= 1
                    self.close_connection = True  # the request arrived; no answer ever comes
                    return
                status = hooks.statuses.pop(0) if hooks.statuses else 200
                payload = b"ok" if status == 200 else b"no"
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "1")
                if hooks.say_close:
                    self.send_header("Connection", "close")
                if hooks.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    self.wfile.write(
                        b"1\r\n" + payload[:1] + b"\r\n1;ext=1\r\n" + payload[1:] + b"\r\n0\r\n\r\n"
                    )
                else:
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


def test_a_rate_limited_reply_waits_for_retry_after_and_arrives_once(hooks: Hooks) -> None:
    hooks.statuses = [429]
    started = time.monotonic()
    assert respond(hooks.url, reply("after a 429")).ok
    assert time.monotonic() - started >= 1.0  # Retry-After: 1
    assert hooks.texts() == ["after a 429", "after a 429"]  # the refused one, then the one answered


def test_a_reply_whose_answer_never_came_is_not_sent_again(hooks: Hooks) -> None:
    hooks.drop = 1
    result = respond(hooks.url, reply("maybe posted"))
    assert not result.ok and result.error == "RemoteDisconnected"
    assert hooks.texts() == ["maybe posted"]  # once: Slack may have taken it
    assert respond(hooks.url, reply("next")).ok
    assert hooks.texts() == ["maybe posted", "next"]


def test_chunked_answers_are_read_to_their_end_and_the_connection_kept(hooks: Hooks) -> None:
    hooks.chunked = True
    hooks.statuses = [200, 404]
    assert respond(hooks.url, reply("one")).ok
    result = respond(hooks.url, reply("two"))
    assert not result.ok and result.error == "http_404: no"  # the chunked body, whole
    assert respond(hooks.url, reply("three")).ok
    assert hooks.texts() == ["one", "two", "three"]
    assert len(set(hooks.ports())) == 1, hooks.ports()


def test_an_answer_saying_close_is_followed_by_a_new_connection(hooks: Hooks) -> None:
    hooks.say_close = True
    for n in range(2):
        assert respond(hooks.url, reply(f"reply {n}")).ok
    assert hooks.texts() == ["reply 0", "reply 1"]
    assert len(set(hooks.ports())) == 2, hooks.ports()
