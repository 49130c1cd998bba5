"""Socket Mode, run so an orchestrator can trust it.

On top of slack_sdk's built-in client (no extra dependency) this adds what a long-running deployment needs:
- a refused app token is one clear error (`AppTokenRefused`), at start or when Slack revokes it later;
- every envelope is acked, even one no listener wants (Slack would otherwise retry it);
- a dropped socket is noticed within a fraction of a second (the client alone waits for its ping check)
  and a new connection opened, backing off up to 10 s while Slack can't be reached;
- `/healthz` on a local port reports the connection state, and the process gives up (non-zero exit)
  after `ECM_SOCKET_MAX_OFFLINE_SECONDS` without a connection, so it gets restarted rather than hang.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

log = logging.getLogger("ecm-bot.socket-mode")

# apps.connections.open errors that no retry will fix: the token is wrong, revoked or lacks the scope.
REFUSALS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "missing_scope",
        "not_allowed_token_type",
        "invalid_token",
    }
)
WATCH_INTERVAL = 0.2  # seconds between checks of the socket
MAX_BACKOFF = 10.0


class AppTokenRefused(Exception):
    """Slack refused SLACK_APP_TOKEN (apps.connections.open answered with an auth error)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class _Client(SocketModeClient):
    """The built-in client, with a refused token raised as AppTokenRefused (no error log, no traceback), and
    a switch of connections that doesn't stall: the SDK closes the old socket while its reader still blocks
    in recv (up to 3 s, during which the new connection isn't read and envelopes wait unacked); waking that
    reader first makes the switch immediate."""

    def connect(self) -> None:
        old = self.current_session
        old_sock = getattr(old, "sock", None) if old is not None else None
        if old_sock is None:
            super().connect()
            return
        # The SDK's connect() builds the new connection and then closes the old one: make that close quick.
        original_close = old.close  # type: ignore[union-attr]

        def close_promptly() -> None:
            with contextlib.suppress(OSError):
                old_sock.shutdown(socket.SHUT_RDWR)
            original_close()

        old.close = close_promptly  # type: ignore[method-assign,union-attr]
        super().connect()

    def issue_new_wss_url(self) -> str:
        try:
            response = self.web_client.apps_connections_open(app_token=self.app_token)
        except SlackApiError as error:
            code = str(error.response.get("error", ""))
            if code in REFUSALS:
                raise AppTokenRefused(code) from None
            raise
        return str(response["url"])

    def close(self) -> None:
        # The SDK's message processor blocks up to a second in `message_queue.get(timeout=1)` and close()
        # joins it: marking the client closed and waking the processor with None (which it skips) lets
        # the process stop at once instead of waiting that second out.
        self.closed = True
        self.message_queue.put(None)
        super().close()


class _Handler(SocketModeHandler):
    def __init__(self, app: App, app_token: str) -> None:  # not super(): it would build a client we replace
        self.app = app
        self.app_token = app_token
        # Reconnecting is SocketModeRunner's job (promptly, with backoff, and knowing a refused token).
        self.client = _Client(
            app_token=app_token,
            logger=app.logger,
            web_client=app.client,
            auto_reconnect_enabled=False,
            ping_interval=5,
        )
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]

    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        start = time.time()
        try:
            response = run_bolt_app(self.app, req)
        except Exception:  # Bolt catches listener errors; this is for anything before them
            log.exception("envelope %s (%s) could not be handled", req.envelope_id, req.type)
            response = None
        if response is not None and response.status == 200:
            send_response(client, req, response, start)
            return
        # No listener (404), or a failure: ack anyway, or Slack delivers the same envelope again and again.
        log.info(
            "acked %s envelope %s that nothing handled (status %s)",
            req.type,
            req.envelope_id,
            response.status if response is not None else "error",
        )
        client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))


@dataclass
class ConnectionState:
    connected: bool = False
    since: float = field(default_factory=time.monotonic)  # when `connected` last changed
    connections: int = 0
    last_error: str | None = None
    refused: str | None = None  # set when Slack refuses the token while running

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.connected,
            "mode": "socket",
            "connected": self.connected,
            "seconds_in_state": round(time.monotonic() - self.since, 1),
            "connections": self.connections,
            "last_error": self.last_error,
        }


def _peer_closed(sock: socket.socket | None) -> bool:
    """True once the other end has closed the TCP connection (a read would return end-of-file).

    Peeks through a duplicate of the descriptor, non-blocking: the client's socket has a timeout, and
    reading it directly would wait out that timeout whenever the client's reader took the data first."""
    if sock is None:
        return True
    try:
        probe = socket.socket(fileno=os.dup(sock.fileno()))
    except OSError:
        return True
    try:
        probe.setblocking(False)
        return probe.recv(1, socket.MSG_PEEK) == b""
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True
    finally:
        probe.close()  # closes only the duplicate; the connection stays open


class SocketModeRunner:
    def __init__(
        self,
        app: App,
        app_token: str,
        *,
        max_offline: float,
        database_ok: Callable[[], bool],
    ) -> None:
        self.handler = _Handler(app, app_token)
        self.client: _Client = self.handler.client  # type: ignore[assignment]
        self.max_offline = max_offline
        self.database_ok = database_ok
        self.state = ConnectionState()
        self._stop = threading.Event()
        self._health: ThreadingHTTPServer | None = None

    # ----- health ----------------------------------------------------------------------------------
    def serve_health(self, host: str, port: int) -> int:
        runner = self

        class Health(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if self.path.split("?")[0] != "/healthz":
                    self.send_error(404)
                    return
                body = runner.state.to_json()
                body["database"] = "ok" if runner.database_ok() else "unreachable"
                healthy = body["connected"] and body["database"] == "ok"
                body["ok"] = healthy
                data = json.dumps(body).encode()
                self.send_response(200 if healthy else 503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._health = ThreadingHTTPServer((host, port), Health)
        self._health.daemon_threads = True
        # shutdown() waits for serve_forever to look at its flag, which it does every poll interval
        # (0.5 s by default, all of it spent by every stop); a wake-up every 50 ms costs nothing.
        threading.Thread(
            target=self._health.serve_forever, kwargs={"poll_interval": 0.05}, name="healthz", daemon=True
        ).start()
        return int(self._health.server_address[1])

    # ----- running ---------------------------------------------------------------------------------
    def _set(self, connected: bool) -> None:
        if connected != self.state.connected:
            self.state.connected = connected
            self.state.since = time.monotonic()
            if connected:
                self.state.connections += 1
                self.state.last_error = None
                log.info("connected to Slack (Socket Mode)")
            else:
                log.warning("Socket Mode connection lost; reconnecting")

    def _socket(self) -> socket.socket | None:
        session = self.client.current_session
        return getattr(session, "sock", None) if session is not None else None

    def _connected(self) -> bool:
        return self.client.is_connected() and not _peer_closed(self._socket())

    def _reconnect(self) -> None:
        session = self.client.current_session
        if session is not None and session.is_active():
            session.disconnect()  # a half-dead socket: let it go before opening another
        try:
            self.client.connect_to_new_endpoint()
        except AppTokenRefused as refused:
            self.state.refused = refused.error
        except Exception as error:  # Slack unreachable, a 5xx, ...: keep trying, with backoff
            self.state.last_error = f"{type(error).__name__}: {error}"[:300]
            log.warning("Socket Mode reconnect failed: %s", self.state.last_error)

    def run(self) -> int:
        """Connects (AppTokenRefused if the token is refused), then watches the connection until stopped.

        Returns the exit code: 0 when stopped, 3 when offline for too long, 2 if the token is refused."""
        self.client.connect()  # raises AppTokenRefused on a refused token
        backoff = 0.5
        next_attempt = 0.0
        try:
            while not self._stop.wait(WATCH_INTERVAL):
                connected = self._connected()
                self._set(connected)
                if connected:
                    backoff = 0.5
                    continue
                if self.state.refused:
                    log.error(
                        "Slack no longer accepts SLACK_APP_TOKEN (%s); stopping. Put a valid app-level token "
                        "(xapp-..., connections:write) in the environment and start again.",
                        self.state.refused,
                    )
                    return 2
                offline = time.monotonic() - self.state.since
                if offline > self.max_offline:
                    log.error(
                        "no Socket Mode connection for %.0f s (ECM_SOCKET_MAX_OFFLINE_SECONDS=%s); exiting so "
                        "the process can be restarted. Last error: %s",
                        offline,
                        self.max_offline,
                        self.state.last_error or "none",
                    )
                    return 3
                now = time.monotonic()
                if now >= next_attempt:
                    self._reconnect()
                    next_attempt = now + backoff
                    backoff = min(backoff * 2, MAX_BACKOFF)
        finally:
            self.close()
        return 0

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.client.auto_reconnect_enabled = False
        sock = self._socket()
        if sock is not None:
            # Wakes the SDK's reader at once, so closing doesn't wait out its receive timeout.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        try:
            self.client.close()
        except Exception:  # closing a dead socket may complain; we are leaving anyway
            log.debug("closing the Socket Mode client", exc_info=True)
        if self._health is not None:
            self._health.shutdown()
            self._health.server_close()
            self._health = None
