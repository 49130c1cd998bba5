"""A local stand-in for Slack, on 127.0.0.1 and an ephemeral port.

It plays both sides of the wire, so the console, the tests and the benchmarks all meet the bot exactly as
Slack would:
- outwards it is Slack's Web API (`chat.postMessage`, `users.info`, `views.open`, ...) and the
  `response_url` endpoint: every call is recorded, and faults (429 with Retry-After, 5xx, Slack error
  codes, slow answers, a post accepted but answered late or never, a connection dropped before the request
  is read) can be injected per method, and a rate limit set (`rate_limit`: 429 with Retry-After past it);
- messages keep their `metadata` and `conversations.history` returns them (newest first, `oldest`/
  `latest`/`limit`/`cursor`, metadata with `include_all_metadata`); a DM's conversation is the `D…` id
  `conversations.open` gives, the same conversation as posting to the user id;
- inwards it builds real Slack payloads (slash commands, `block_actions` from messages and views,
  `view_submission`, `block_suggestion`, global and message shortcuts, the `app_home_opened` event) and signs
  them with the app's signing secret, for dispatch through the Bolt app in-process or over HTTP.

Views are kept as Slack keeps them: `views.open`/`views.push` stack modals per person (a trigger id works
once, for 3 seconds), `views.update` replaces one by id (checking `hash` when given), `views.publish` sets
a person's Home tab.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from slack_bolt import App, BoltRequest, BoltResponse

from bot.standin_socket import SocketModeServer


def _encoded_id(prefix: str, name: str) -> str:
    """A Slack-shaped id that spells its name in hex, so a console reopened on the same database can still
    show people and channels by name (`U73616D` is @sam)."""
    spelled = name.encode().hex().upper()
    # Slack ids are short; long names get a hash instead (the bot stores ids in 32 characters).
    return prefix + (spelled if len(spelled) <= 20 else hashlib.sha1(name.encode()).hexdigest()[:10].upper())


def _decoded_name(slack_id: str) -> str:
    try:
        name = bytes.fromhex(slack_id[1:]).decode()
    except ValueError:
        return slack_id
    return name if name.isprintable() else slack_id


@dataclass
class RecordedCall:
    """One request the bot made to the stand-in."""

    method: str  # Web API method, or "response_url"
    params: dict[str, Any]
    token: str | None
    at: float
    response: dict[str, Any] | None = None
    http_status: int = 200

    @property
    def ok(self) -> bool:
        return self.http_status == 200 and bool(self.response and self.response.get("ok", True))


ANY_METHOD = "*"  # a fault for every Web API method (not response_url)


@dataclass
class Fault:
    method: str  # a Web API method, "response_url", or ANY_METHOD
    error: str | None = None  # Slack error code, answered as {"ok": false, "error": ...} with HTTP 200
    status: int | None = None  # HTTP status to answer with (429, 500, 503, ...)
    retry_after: int | str | None = None  # a str answers with that header as given (e.g. unparseable)
    delay: float = 0.0  # seconds before the call is handled
    times: int = 1  # how many matching calls it applies to; -1 = for ever
    match: Callable[[dict[str, Any]], bool] | None = None
    # The call is handled (a post is stored), then answered this many seconds late: past the client's timeout,
    # the caller cannot know it was accepted.
    answer_delay: float = 0.0
    # "after": handled (a post is stored), then the connection is closed with no answer; "before": the
    # connection is closed with no answer and the call never handled (Slack never saw it).
    drop: str | None = None


@dataclass
class RateLimit:
    """Slack's rate limiting as the stand-in plays it: a token bucket per method (or per method and
    channel); a call past it gets 429 with a whole-seconds Retry-After, and changes nothing."""

    method: str
    per_second: float
    burst: int = 1
    per_channel: bool = False
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # key -> (tokens, at)
    refused: int = 0

    def take(self, channel: str, now: float) -> float | None:
        """None when the call may go; otherwise the Retry-After (seconds) to answer with."""
        key = channel if self.per_channel else ""
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.per_second)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return None
        self._buckets[key] = (tokens, now)
        self.refused += 1
        return max(1.0, -(-(1.0 - tokens) // self.per_second))


@dataclass
class Message:
    """A message as Slack would show it: in a channel, a DM, or ephemeral to one user."""

    channel: str
    text: str
    blocks: list[dict[str, Any]]
    ts: str
    user: str | None = None  # for ephemeral messages: who sees it
    ephemeral: bool = False
    thread_ts: str | None = None
    via: str = "chat.postMessage"
    metadata: dict[str, Any] | None = None  # {"event_type", "event_payload"} as the poster gave it


@dataclass
class StoredFile:
    """A file the bot uploaded, or one a person shared (e.g. through a modal's file input)."""

    id: str
    name: str
    title: str
    user: str
    content: bytes | None = None  # None until the upload step has sent it
    length: int = 0
    channels: list[str] = field(default_factory=list)
    thread_ts: str | None = None
    initial_comment: str | None = None
    completed: bool = False

    @property
    def filetype(self) -> str:
        return self.name.rpartition(".")[2].lower() if "." in self.name else "binary"


@dataclass
class OpenView:
    """A modal or Home tab as Slack holds it: the view the bot sent, plus the id and hash Slack gave it."""

    id: str
    user: str
    view: dict[str, Any]
    hash: str
    root_id: str | None = None  # the modal at the bottom of this one's stack (views.push)
    closed: bool = False


TRIGGER_LIFETIME = 3.0  # seconds; Slack's trigger ids expire after 3 s


@dataclass
class _ResponseTarget:
    channel: str
    user: str


@dataclass
class SlackStandIn:
    signing_secret: str = "standin-signing-secret"
    team_id: str = "T0STANDIN"
    team_domain: str = "ecm-standin"
    bot_user_id: str = "UBOTECM01"
    bot_token: str = "xoxb-standin"
    app_token: str = "xapp-standin"  # Socket Mode: what apps.connections.open accepts
    calls: list[RecordedCall] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    limits: list[RateLimit] = field(default_factory=list)
    files: dict[str, StoredFile] = field(default_factory=dict)
    views: dict[str, OpenView] = field(default_factory=dict)  # open modals by view id
    homes: dict[str, OpenView] = field(default_factory=dict)  # published Home tab per user id

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        self._ts = itertools.count(1)
        self._response_targets: dict[str, _ResponseTarget] = {}
        self._triggers: dict[str, tuple[str, float]] = {}  # trigger id -> (user id, issued at)
        self._authors: dict[str, str] = {}  # ts -> user id, for messages people wrote
        self._server: ThreadingHTTPServer | None = None
        self._socket_mode: SocketModeServer | None = None
        self._thread: threading.Thread | None = None
        self._open: set[socket.socket] = set()  # connections being served (clients keep them open)

    # ----- lifecycle -------------------------------------------------------------------------------
    def start(self) -> SlackStandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # TCP_NODELAY: an answer is written in two parts (headers, then body), and on a kept-open
            # connection Nagle held the body back until the client's delayed ACK of the headers, 40 ms
            # later: 40 ms on every reply to a response_url (most of a fuzz run's time went on it).
            disable_nagle_algorithm = True

            def log_message(self, *_args: Any) -> None:  # keep test and console output clean
                return

            def setup(self) -> None:
                super().setup()
                with standin._lock:
                    standin._open.add(self.connection)

            def finish(self) -> None:
                with standin._lock:
                    standin._open.discard(self.connection)
                super().finish()

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                if self.path.startswith(("/upload/", "/files/")):
                    # File bytes: the upload step of files_upload_v2, and downloads of url_private.
                    status, content_type, payload = standin._handle_file(
                        self.command, self.path, self.headers, data
                    )
                    headers: dict[str, str] = {}
                else:
                    status, headers, body, fault = standin._handle(self.path, self.headers, data.decode())
                    if (
                        fault is not None and fault.drop
                    ):  # no answer at all: the caller sees the connection go
                        self.close_connection = True
                        return
                    if fault is not None and fault.answer_delay:
                        time.sleep(fault.answer_delay)
                    payload = json.dumps(body).encode()
                    content_type = "application/json; charset=utf-8"
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the caller gave up waiting (its timeout) and closed the connection
                    self.close_connection = True

            do_GET = do_POST  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # stop() waits for serve_forever to see the shutdown flag, checked every poll interval: 0.5 s by
        # default, spent by every console and test that closes a workspace; 50 ms wake-ups cost nothing.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="slack-standin",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._socket_mode is not None:
            self._socket_mode.stop()
            self._socket_mode = None
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            # A client keeping a connection open (bot.slack_api's replies) must not reach a stopped stand-in.
            with self._lock:
                still_open, self._open = list(self._open), set()
            for connection in still_open:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server, "stand-in not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """What the bot's SLACK_API_URL should be."""
        return self.base_url + "/api/"

    # ----- directory -------------------------------------------------------------------------------
    def add_user(
        self,
        name: str,
        user_id: str | None = None,
        *,
        real_name: str | None = None,
        deleted: bool = False,
        email: str | None = None,
    ) -> str:
        user_id = user_id or _encoded_id("U", name)
        self.users[user_id] = {
            "id": user_id,
            "name": name,
            "deleted": deleted,
            "is_bot": False,
            "real_name": real_name or name,
            "profile": {
                "display_name": name,
                "real_name": real_name or name,
                "email": email or f"{name}@example.org",
            },
            "tz": "Europe/London",
        }
        return user_id

    def add_channel(self, name: str, channel_id: str | None = None) -> str:
        channel_id = channel_id or _encoded_id("C", name)
        self.channels[channel_id] = {"id": channel_id, "name": name, "is_channel": True}
        return channel_id

    def user_name(self, user_id: str) -> str:
        user = self.users.get(user_id)
        return user["name"] if user else _decoded_name(user_id)

    def channel_name(self, channel_id: str) -> str:
        channel = self.channels.get(channel_id)
        return channel["name"] if channel else _decoded_name(channel_id)

    # ----- faults ----------------------------------------------------------------------------------
    def inject(self, method: str, **kwargs: Any) -> Fault:
        fault = Fault(method=method, **kwargs)
        with self._lock:
            self.faults.append(fault)
        return fault

    def rate_limit(
        self, method: str, per_second: float, *, burst: int = 1, per_channel: bool = False
    ) -> RateLimit:
        """From now on, calls to `method` past `per_second` (after a burst of `burst`) get 429."""
        limit = RateLimit(method=method, per_second=per_second, burst=burst, per_channel=per_channel)
        with self._lock:
            self.limits.append(limit)
        return limit

    def _past_limit(self, method: str, params: dict[str, Any]) -> float | None:
        now = time.monotonic()
        with self._lock:
            for limit in self.limits:
                if limit.method == method:
                    wait = limit.take(self._canonical(str(params.get("channel", ""))), now)
                    if wait is not None:
                        return wait
        return None

    def _canonical(self, channel: str) -> str:
        """A DM's conversation id (D…) and its user's id name the same conversation: messages keep the user id."""
        if channel.startswith("D") and "U" + channel[1:] in self.users:
            return "U" + channel[1:]
        return channel

    def _take_fault(self, method: str, params: dict[str, Any]) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if (
                    (fault.method == method or (fault.method == ANY_METHOD and method != "response_url"))
                    and fault.times != 0
                    and (fault.match is None or fault.match(params))
                ):
                    if fault.times > 0:
                        fault.times -= 1
                    return fault
        return None

    # ----- reading what happened -------------------------------------------------------------------
    def reset(self) -> None:
        if self._socket_mode is not None:
            self._socket_mode.reset()
        with self._lock:
            self.calls.clear()
            self.messages.clear()
            self.faults.clear()
            self.limits.clear()
            self.files.clear()
            self.views.clear()
            self.homes.clear()

    def calls_to(self, method: str) -> list[RecordedCall]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def modals_of(self, user_id: str) -> list[OpenView]:
        """The person's open modals, oldest first (the last one is on top)."""
        with self._lock:
            return [v for v in self.views.values() if v.user == user_id and not v.closed]

    def top_modal(self, user_id: str) -> OpenView | None:
        modals = self.modals_of(user_id)
        return modals[-1] if modals else None

    def close_views(self, user_id: str) -> None:
        """What Slack does when a submission is acked with no response_action: the whole stack closes."""
        with self._lock:
            for v in self.views.values():
                if v.user == user_id:
                    v.closed = True

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(remaining)
        return True

    def wait_for_messages(self, count: int, timeout: float = 10.0) -> list[Message]:
        self.wait_for(lambda: len(self.messages) >= count, timeout)
        return list(self.messages)

    # ----- the Web API side ------------------------------------------------------------------------
    def _handle(
        self, path: str, headers: Any, raw: str
    ) -> tuple[int, dict[str, str], dict[str, Any], Fault | None]:
        content_type = headers.get("Content-Type", "")
        if "json" in content_type:
            params: dict[str, Any] = json.loads(raw or "{}")
        else:
            params = dict(parse_qsl(raw, keep_blank_values=True))
        for key in ("blocks", "attachments", "view", "users", "files", "metadata"):
            if isinstance(params.get(key), str) and params[key].startswith(("[", "{")):
                params[key] = json.loads(params[key])
        token = (headers.get("Authorization") or "").removeprefix("Bearer ") or params.get("token")
        if path.startswith("/response/"):
            method = "response_url"
        elif path.startswith("/api/"):
            method = path.removeprefix("/api/").split("?")[0]
        else:
            return 404, {}, {"ok": False, "error": "not_found"}, None

        call = RecordedCall(method=method, params=params, token=token, at=time.time())
        fault = self._take_fault(method, params)
        if fault and fault.delay:
            time.sleep(fault.delay)
        if fault and fault.drop == "before":  # never handled: recorded with no answer
            call.http_status = 0
            with self._lock:
                self.calls.append(call)
                self._lock.notify_all()
            return 0, {}, {}, fault
        status, extra_headers, body = 200, {}, None
        limited = self._past_limit(method, params) if token == self.bot_token else None
        if limited is not None:
            status, body = 429, {"ok": False, "error": "ratelimited"}
            extra_headers["Retry-After"] = f"{limited:.0f}"
        elif fault and fault.status:
            status = fault.status
            body = {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"}
            if fault.retry_after is not None:
                extra_headers["Retry-After"] = str(fault.retry_after)
        elif fault and fault.error:
            body = {"ok": False, "error": fault.error}
        elif method == "apps.connections.open":
            # Socket Mode: only the app-level token opens a connection (Slack refuses a bot token too).
            body = (
                {"ok": True, "url": self.socket_mode.url()}
                if token == self.app_token
                else {"ok": False, "error": "invalid_auth"}
            )
        elif method != "response_url" and token != self.bot_token:
            body = {"ok": False, "error": "invalid_auth"}
        else:
            with self._lock:
                body = self._answer(method, params, path)
        call.response, call.http_status = body, status
        with self._lock:
            self.calls.append(call)
            self._lock.notify_all()
        return status, extra_headers, body, fault

    def _next_ts(self) -> str:
        """Like Slack's: the Unix time it was stored, with a counter after the point (so always increasing)."""
        return f"{int(time.time())}.{next(self._ts) % 1_000_000:06d}"

    def _answer(self, method: str, params: dict[str, Any], path: str) -> dict[str, Any]:
        """Answers one Web API call; called with the lock held."""
        if method == "response_url":
            target = self._response_targets.get(path.removeprefix("/response/"))
            if target is None:
                return {"ok": False, "error": "expired_url"}
            in_channel = params.get("response_type") == "in_channel"
            self.messages.append(
                Message(
                    channel=target.channel,
                    text=params.get("text", ""),
                    blocks=params.get("blocks") or [],
                    ts=self._next_ts(),
                    user=None if in_channel else target.user,
                    ephemeral=not in_channel,
                    via="response_url",
                )
            )
            return {"ok": True}
        if method == "auth.test":
            return {
                "ok": True,
                "url": f"https://{self.team_domain}.slack.com/",
                "team": self.team_domain,
                "user": "ecm",
                "team_id": self.team_id,
                "user_id": self.bot_user_id,
                "bot_id": "BECM0001",
            }
        if method in ("chat.postMessage", "chat.postEphemeral"):
            channel = self._canonical(params.get("channel", ""))
            if not channel:
                return {"ok": False, "error": "channel_not_found"}
            if channel.startswith("U") and channel not in self.users:
                return {"ok": False, "error": "channel_not_found"}
            if channel.startswith("U") and self.users[channel].get("deleted"):
                return {"ok": False, "error": "account_inactive"}
            ts = self._next_ts()
            ephemeral = method == "chat.postEphemeral"
            self.messages.append(
                Message(
                    channel=channel,
                    text=params.get("text", ""),
                    blocks=params.get("blocks") or [],
                    ts=ts,
                    user=params.get("user") if ephemeral else None,
                    ephemeral=ephemeral,
                    thread_ts=params.get("thread_ts"),
                    via=method,
                    metadata=params.get("metadata") if isinstance(params.get("metadata"), dict) else None,
                )
            )
            reply: dict[str, Any] = {"ok": True, "channel": channel}
            if ephemeral:
                reply["message_ts"] = ts
            else:
                reply["ts"] = ts
                reply["message"] = {"text": params.get("text", ""), "ts": ts}
            return reply
        if method == "chat.update":
            for message in self.messages:
                if message.ts == params.get("ts") and message.channel == params.get("channel"):
                    message.text = params.get("text", message.text)
                    message.blocks = params.get("blocks") or message.blocks
                    return {"ok": True, "channel": message.channel, "ts": message.ts}
            return {"ok": False, "error": "message_not_found"}
        if method == "users.info":
            user = self.users.get(params.get("user", ""))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method == "conversations.open":
            users = str(params.get("users", "")).split(",")
            if not users or users[0] not in self.users:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "channel": {"id": "D" + users[0][1:]}}
        if method == "conversations.history":
            return self._history(params)
        if method == "conversations.info":
            info = self.channels.get(params.get("channel", ""))
            return {"ok": True, "channel": info} if info else {"ok": False, "error": "channel_not_found"}
        if method == "users.lookupByEmail":
            wanted = str(params.get("email", "")).strip().lower()
            for user in self.users.values():
                if user["profile"].get("email", "").lower() == wanted and not user.get("deleted"):
                    return {"ok": True, "user": user}
            return {"ok": False, "error": "users_not_found"}
        if method == "files.getUploadURLExternal":
            name, length = str(params.get("filename") or ""), int(params.get("length") or 0)
            if not name or length <= 0:
                return {"ok": False, "error": "invalid_arguments"}
            file_id = f"F{next(self._ts):08d}"
            self.files[file_id] = StoredFile(
                id=file_id, name=name, title=name, user=self.bot_user_id, length=length
            )
            return {"ok": True, "file_id": file_id, "upload_url": f"{self.base_url}/upload/{file_id}"}
        if method == "files.completeUploadExternal":
            listed = params.get("files") or []
            channel = self._canonical(params.get("channel_id") or "")
            done = []
            for item in listed:
                stored = self.files.get(item.get("id", ""))
                if stored is None or stored.content is None:
                    return {"ok": False, "error": "file_not_found"}
                stored.title = item.get("title") or stored.name
                stored.completed = True
                if channel:
                    stored.channels.append(channel)
                stored.thread_ts = params.get("thread_ts")
                stored.initial_comment = params.get("initial_comment")
                done.append(self._file_object(stored))
            return {"ok": True, "files": done}
        if method == "files.info":
            stored = self.files.get(str(params.get("file", "")))
            if stored is None or not stored.completed:
                return {"ok": False, "error": "file_not_found"}
            return {"ok": True, "file": self._file_object(stored)}
        if method in ("views.open", "views.push", "views.update", "views.publish"):
            return self._answer_view(method, params)
        if method == "chat.getPermalink":
            channel, ts = str(params.get("channel", "")), str(params.get("message_ts", ""))
            if not channel or not ts:
                return {"ok": False, "error": "invalid_arguments"}
            if not any(m.channel == channel and m.ts == ts for m in self.messages) and (
                channel not in self.channels
            ):
                return {"ok": False, "error": "channel_not_found"}
            return {
                "ok": True,
                "channel": channel,
                "permalink": f"https://{self.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}",
            }
        return {"ok": False, "error": "unknown_method"}

    def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        """conversations.history: the conversation's messages, newest first, paged by a cursor."""
        channel = self._canonical(str(params.get("channel", "")))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        oldest, latest = float(params.get("oldest") or 0), float(params.get("latest") or "inf")
        limit = min(max(int(params.get("limit") or 100), 1), 999)
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        found = [
            m
            for m in self.messages
            if m.channel == channel and not m.ephemeral and oldest <= float(m.ts) <= latest
        ]
        found.sort(key=lambda m: float(m.ts), reverse=True)
        cursor = str(params.get("cursor") or "")
        start = int(cursor.removeprefix("next:")) if cursor.startswith("next:") else 0
        page = found[start : start + limit]
        more = start + limit < len(found)
        messages = []
        for m in page:
            shown: dict[str, Any] = {"type": "message", "ts": m.ts, "text": m.text}
            if m.via == "person":
                shown["user"] = self._authors.get(m.ts, "")
            else:
                shown.update(user=self.bot_user_id, bot_id="BECM0001", app_id="AECMSTANDIN")
            if with_metadata and m.metadata:
                shown["metadata"] = m.metadata
            messages.append(shown)
        return {
            "ok": True,
            "messages": messages,
            "has_more": more,
            "response_metadata": {"next_cursor": f"next:{start + limit}" if more else ""},
        }

    def _answer_view(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not isinstance(view, dict) or "type" not in view:
            return {"ok": False, "error": "invalid_arguments"}
        if method in ("views.open", "views.push"):
            trigger = self._triggers.pop(str(params.get("trigger_id", "")), None)
            if trigger is None:
                return {"ok": False, "error": "invalid_trigger_id"}
            user_id, issued = trigger
            if time.monotonic() - issued > TRIGGER_LIFETIME:
                return {"ok": False, "error": "expired_trigger_id"}
            root = None
            if method == "views.push":
                stack = [v for v in self.views.values() if v.user == user_id and not v.closed]
                if not stack:
                    return {"ok": False, "error": "not_found"}
                root = stack[0].id
            opened = OpenView(
                id=self._view_id(), user=user_id, view=view, hash=self._view_hash(), root_id=root
            )
            self.views[opened.id] = opened
            return {"ok": True, "view": self._view_payload(opened)}
        if method == "views.update":
            target = self.views.get(str(params.get("view_id", "")))
            if target is None and params.get("external_id"):
                target = next(
                    (v for v in self.views.values() if v.view.get("external_id") == params["external_id"]),
                    None,
                )
            if target is None or target.closed:
                return {"ok": False, "error": "not_found"}
            if params.get("hash") and params["hash"] != target.hash:
                return {"ok": False, "error": "hash_conflict"}
            target.view, target.hash = view, self._view_hash()
            return {"ok": True, "view": self._view_payload(target)}
        user_id = str(params.get("user_id", ""))
        if user_id not in self.users:
            return {"ok": False, "error": "user_not_found"}
        if view.get("type") != "home":
            return {"ok": False, "error": "invalid_arguments"}
        home = self.homes.get(user_id)
        if home is not None and params.get("hash") and params["hash"] != home.hash:
            return {"ok": False, "error": "hash_conflict"}
        published = OpenView(
            id=home.id if home else self._view_id(), user=user_id, view=view, hash=self._view_hash()
        )
        self.homes[user_id] = published
        return {"ok": True, "view": self._view_payload(published)}

    def _view_id(self) -> str:
        return f"V{next(self._ts):08d}"

    def _view_hash(self) -> str:
        return f"{time.time_ns()}.{next(self._ts)}"

    def _view_payload(self, opened: OpenView) -> dict[str, Any]:
        return {
            **opened.view,
            "id": opened.id,
            "hash": opened.hash,
            "team_id": self.team_id,
            "root_view_id": opened.root_id or opened.id,
            "state": {"values": {}},
        }

    # ----- files --------------------------------------------------------------------------------------
    def _file_object(self, stored: StoredFile) -> dict[str, Any]:
        url = f"{self.base_url}/files/{stored.id}/{quote(stored.name)}"
        return {
            "id": stored.id,
            "name": stored.name,
            "title": stored.title,
            "filetype": stored.filetype,
            "size": len(stored.content or b""),
            "user": stored.user,
            "channels": list(stored.channels),
            "url_private": url,
            "url_private_download": url + "?download=1",
        }

    def _handle_file(self, verb: str, path: str, headers: Any, data: bytes) -> tuple[int, str, bytes]:
        """The upload POST to an upload_url (recorded as "files.upload"), and GET of url_private
        (recorded as "files.download"; the bot token is required, as Slack requires it)."""
        parts = path.split("?")[0].strip("/").split("/")
        file_id = parts[1] if len(parts) > 1 else ""
        method = "files.upload" if parts[0] == "upload" else "files.download"
        token = (headers.get("Authorization") or "").removeprefix("Bearer ") or None
        call = RecordedCall(
            method=method, params={"file": file_id, "bytes": len(data)}, token=token, at=time.time()
        )
        fault = self._take_fault(method, {"file": file_id})
        with self._lock:
            stored = self.files.get(file_id)
            if fault and fault.status:
                status, content_type, payload = fault.status, "text/plain", b"error"
            elif stored is None:
                status, content_type, payload = 404, "text/plain", b"file_not_found"
            elif method == "files.upload":
                stored.content = data
                status, content_type, payload = 200, "text/plain", b"OK - " + str(len(data)).encode()
            elif token != self.bot_token:
                # Slack answers a download without the token with its sign-in page, not the file.
                status, content_type, payload = 200, "text/html", b"<html>sign in</html>"
            elif stored.content is None:
                status, content_type, payload = 404, "text/plain", b"file_not_found"
            else:
                status, content_type, payload = 200, "application/octet-stream", stored.content
            call.response, call.http_status = {"ok": status == 200, "bytes": len(payload)}, status
            self.calls.append(call)
            self._lock.notify_all()
        return status, content_type, payload

    def share_file(self, name: str, content: bytes, user_id: str) -> dict[str, Any]:
        """A file a person shared (as through a modal's file input): the file object Slack puts in the
        view_submission's state values."""
        with self._lock:
            file_id = f"F{next(self._ts):08d}"
            stored = StoredFile(
                id=file_id,
                name=name,
                title=name,
                user=user_id,
                content=content,
                length=len(content),
                completed=True,
            )
            self.files[file_id] = stored
            return self._file_object(stored)

    def uploaded_files(self, channel: str | None = None) -> list[StoredFile]:
        """Files the bot uploaded and completed, optionally only those shared to `channel`."""
        with self._lock:
            return [
                f
                for f in self.files.values()
                if f.completed and f.user == self.bot_user_id and (channel is None or channel in f.channels)
            ]

    # ----- the inbound side: signed payloads into the app ------------------------------------------
    def response_url(self, channel_id: str, user_id: str) -> str:
        token = hashlib.sha1(f"{channel_id}{user_id}{time.time_ns()}".encode()).hexdigest()[:16]
        with self._lock:
            self._response_targets[token] = _ResponseTarget(channel=channel_id, user=user_id)
        return f"{self.base_url}/response/{token}"

    def trigger(self, user_id: str) -> str:
        """A fresh trigger id for `user_id`: good for one views.open/views.push within 3 seconds."""
        trigger_id = f"{next(self._ts)}.{time.time_ns()}.standin"
        with self._lock:
            self._triggers[trigger_id] = (user_id, time.monotonic())
        return trigger_id

    def sign(self, body: str, timestamp: int | None = None) -> dict[str, str]:
        timestamp = int(time.time()) if timestamp is None else timestamp
        basestring = f"v0:{timestamp}:{body}".encode()
        digest = hmac.new(self.signing_secret.encode(), basestring, hashlib.sha256).hexdigest()
        return {
            "content-type": "application/json"
            if body.startswith("{")
            else "application/x-www-form-urlencoded",
            "x-slack-request-timestamp": str(timestamp),
            "x-slack-signature": f"v0={digest}",
        }

    # ----- Socket Mode: the same payloads as envelopes over the stand-in's WebSocket ------------------
    @property
    def socket_mode(self) -> SocketModeServer:
        """The stand-in's Socket Mode endpoint, started on first use (apps.connections.open hands it out)."""
        with self._lock:
            if self._socket_mode is None:
                self._socket_mode = SocketModeServer().start()
            return self._socket_mode

    def socket_slash_command(self, text: str, user_id: str, channel_id: str) -> str:
        """Sends `/ecm text` as a Socket Mode envelope; returns the envelope id whose ack to wait for."""
        payload = dict(parse_qsl(self.slash_command(text, user_id, channel_id), keep_blank_values=True))
        return self.socket_mode.send_envelope("slash_commands", payload, accepts_response_payload=True)

    def socket_block_action(self, user_id: str, channel_id: str, action_id: str, value: str) -> str:
        form = dict(parse_qsl(self.block_action(user_id, channel_id, action_id, value)))
        return self.socket_mode.send_envelope("interactive", json.loads(form["payload"]))

    def socket_event(self, event: dict[str, Any]) -> str:
        """An Events API delivery (e.g. {"type": "app_home_opened", "user": ...}) as Slack wraps it."""
        payload = {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "api_app_id": "AECMSTANDIN",
            "event": {"event_ts": f"{time.time():.6f}", **event},
            "type": "event_callback",
            "event_id": f"Ev{next(self._ts):08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": self.team_id, "user_id": self.bot_user_id, "is_bot": True}],
        }
        return self.socket_mode.send_envelope("events_api", payload)

    def slash_command(
        self, text: str, user_id: str, channel_id: str, command: str = "/ecm", trigger_id: str | None = None
    ) -> str:
        """The form body Slack sends for a slash command."""
        trigger_id = trigger_id or self.trigger(user_id)
        return urlencode(
            {
                "token": "legacy-verification-token",
                "team_id": self.team_id,
                "team_domain": self.team_domain,
                "channel_id": channel_id,
                "channel_name": self.channel_name(channel_id),
                "user_id": user_id,
                "user_name": self.user_name(user_id),
                "command": command,
                "text": text,
                "api_app_id": "AECMSTANDIN",
                "is_enterprise_install": "false",
                "response_url": self.response_url(channel_id, user_id),
                "trigger_id": trigger_id,
            }
        )

    def block_action(
        self,
        user_id: str,
        channel_id: str,
        action_id: str,
        value: str,
        message_ts: str | None = None,
        block_id: str = "b",
    ) -> str:
        payload = {
            "type": "block_actions",
            "team": {"id": self.team_id, "domain": self.team_domain},
            "user": {"id": user_id, "username": self.user_name(user_id), "team_id": self.team_id},
            "api_app_id": "AECMSTANDIN",
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": message_ts or self._next_ts(),
                "channel_id": channel_id,
                "is_ephemeral": False,
            },
            "trigger_id": self.trigger(user_id),
            "channel": {"id": channel_id, "name": self.channel_name(channel_id)},
            "message": {"ts": message_ts or "", "text": ""},
            "response_url": self.response_url(channel_id, user_id),
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": block_id,
                    "value": value,
                    "type": "button",
                    "action_ts": str(time.time()),
                }
            ],
        }
        return urlencode({"payload": json.dumps(payload)})

    def _user(self, user_id: str) -> dict[str, str]:
        return {"id": user_id, "username": self.user_name(user_id), "team_id": self.team_id}

    def _interaction(self, kind: str, user_id: str, **fields: Any) -> str:
        payload = {
            "type": kind,
            "team": {"id": self.team_id, "domain": self.team_domain},
            "user": self._user(user_id),
            "api_app_id": "AECMSTANDIN",
            "token": "legacy-verification-token",
            **fields,
        }
        return urlencode({"payload": json.dumps(payload)})

    def view_payload(self, opened: OpenView, answers: dict[str, Any] | None = None) -> dict[str, Any]:
        """The view as Slack sends it back in interactions: with the state of every input."""
        with self._lock:
            body = self._view_payload(opened)
        body["state"] = {"values": fill_state(opened.view, answers or {})}
        return body

    def view_submission(
        self,
        user_id: str,
        callback_id: str,
        private_metadata: str,
        values: dict[str, dict[str, dict[str, Any]]],
        *,
        view_id: str | None = None,
    ) -> str:
        """A submission with hand-built state values (see `submit` for one from an open modal); each is a
        view of its own unless `view_id` says otherwise (Slack gives every opened modal its own id)."""
        return self._interaction(
            "view_submission",
            user_id,
            trigger_id=self.trigger(user_id),
            view={
                "id": view_id or f"V{next(self._ts)}STANDIN",
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "state": {"values": values},
            },
        )

    def submit(self, opened: OpenView, answers: dict[str, Any] | None = None) -> str:
        """The view_submission Slack sends when the person presses Submit on an open modal."""
        return self._interaction(
            "view_submission",
            opened.user,
            trigger_id=self.trigger(opened.user),
            view=self.view_payload(opened, answers),
            response_urls=[],
        )

    def view_block_action(
        self,
        opened: OpenView,
        action_id: str,
        value: str,
        *,
        block_id: str = "b",
        answers: dict[str, Any] | None = None,
    ) -> str:
        """A button pressed inside a modal or on the Home tab (container type "view")."""
        view = self.view_payload(opened, answers)
        return self._interaction(
            "block_actions",
            opened.user,
            container={"type": "view", "view_id": opened.id},
            trigger_id=self.trigger(opened.user),
            view=view,
            actions=[
                {
                    "action_id": action_id,
                    "block_id": block_id,
                    "value": value,
                    "type": "button",
                    "action_ts": str(time.time()),
                }
            ],
        )

    def view_select_action(
        self, opened: OpenView, block_id: str, value: str, *, answers: dict[str, Any] | None = None
    ) -> str:
        """A choice made in a select that dispatches actions (`dispatch_action` on its input block)."""
        answers = {**(answers or {}), block_id: value}
        view = self.view_payload(opened, answers)
        block = next(b for b in opened.view.get("blocks") or [] if b.get("block_id") == block_id)
        element = block.get("element") or block.get("accessory") or {}
        state = view["state"]["values"][block_id][element.get("action_id", "")]
        return self._interaction(
            "block_actions",
            opened.user,
            container={"type": "view", "view_id": opened.id},
            trigger_id=self.trigger(opened.user),
            view=view,
            actions=[
                {
                    "action_id": element.get("action_id", ""),
                    "block_id": block_id,
                    "type": element.get("type", "static_select"),
                    "selected_option": state.get("selected_option"),
                    "action_ts": str(time.time()),
                }
            ],
        )

    def block_suggestion(self, opened: OpenView, action_id: str, block_id: str, typed: str) -> str:
        """What Slack sends while someone types into an external select."""
        return self._interaction(
            "block_suggestion",
            opened.user,
            container={"type": "view", "view_id": opened.id},
            view=self.view_payload(opened),
            action_id=action_id,
            block_id=block_id,
            value=typed,
        )

    def global_shortcut(self, user_id: str, callback_id: str) -> str:
        return self._interaction(
            "shortcut",
            user_id,
            callback_id=callback_id,
            trigger_id=self.trigger(user_id),
            action_ts=str(time.time()),
        )

    def message_shortcut(
        self, user_id: str, callback_id: str, message: Message, author: str | None = None
    ) -> str:
        """The `message_action` payload for a shortcut run from the menu of `message`."""
        return self._interaction(
            "message_action",
            user_id,
            callback_id=callback_id,
            trigger_id=self.trigger(user_id),
            action_ts=str(time.time()),
            message_ts=message.ts,
            channel={"id": message.channel, "name": self.channel_name(message.channel)},
            message={
                "type": "message",
                "user": author or self._authors.get(message.ts) or self.bot_user_id,
                "ts": message.ts,
                "text": message.text,
            },
            response_url=self.response_url(message.channel, user_id),
        )

    def app_home_opened(self, user_id: str) -> str:
        """The Events API callback Slack sends when someone opens the app's Home tab."""
        home = self.homes.get(user_id)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": "D" + user_id[1:],
            "tab": "home",
            "event_ts": str(time.time()),
        }
        if home is not None:
            event["view"] = self._view_payload(home)
        return json.dumps(
            {
                "token": "legacy-verification-token",
                "team_id": self.team_id,
                "api_app_id": "AECMSTANDIN",
                "event": event,
                "type": "event_callback",
                "event_id": f"Ev{next(self._ts):08d}",
                "event_time": int(time.time()),
                "authorizations": [{"team_id": self.team_id, "user_id": self.bot_user_id, "is_bot": True}],
            }
        )

    def post_message(self, channel: str, text: str, user: str) -> Message:
        """A message a person writes in a channel (for message shortcuts)."""
        with self._lock:
            message = Message(channel=channel, text=text, blocks=[], ts=self._next_ts(), via="person")
            self.messages.append(message)
            self._authors[message.ts] = user
        return message

    def author_of(self, message: Message) -> str | None:
        return self._authors.get(message.ts)

    def dispatch(self, app: App, body: str, *, retry_num: int | None = None) -> BoltResponse:
        """Delivers a signed payload through the Bolt app in-process (as its HTTP adapter would)."""
        headers: dict[str, str | Sequence[str]] = dict(self.sign(body))
        if retry_num is not None:
            headers["x-slack-retry-num"] = str(retry_num)
            headers["x-slack-retry-reason"] = "http_timeout"
        return app.dispatch(BoltRequest(body=body, headers=headers))

    def post(self, url: str, body: str, *, timeout: float = 10.0) -> tuple[int, str]:
        """Delivers a signed payload over HTTP to a running bot (e.g. http://127.0.0.1:3000/slack/events)."""
        request = urllib.request.Request(url, data=body.encode(), headers=self.sign(body), method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


# ----- view state, as Slack fills it in ------------------------------------------------------------------


def _option(element: dict[str, Any], wanted: str) -> dict[str, Any]:
    """The option whose value (or label) is `wanted`; external selects get one made up from it."""
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    for option in options:
        if option.get("value") == wanted or (option.get("text") or {}).get("text") == wanted:
            return option
    if element["type"].endswith("external_select"):
        return {"text": {"type": "plain_text", "text": wanted}, "value": wanted}
    raise ValueError(f"no option {wanted!r} in {element.get('action_id')}")


def _element_state(element: dict[str, Any], answer: Any) -> dict[str, Any]:
    kind = element["type"]
    state: dict[str, Any] = {"type": kind}
    if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
        state["value"] = answer if answer is not None else element.get("initial_value")
    elif kind == "datepicker":
        state["selected_date"] = answer if answer is not None else element.get("initial_date")
    elif kind == "users_select":
        state["selected_user"] = answer if answer is not None else element.get("initial_user")
    elif kind == "multi_users_select":
        state["selected_users"] = (
            list(answer) if answer is not None else list(element.get("initial_users") or [])
        )
    elif kind in ("static_select", "external_select", "radio_buttons"):
        if answer is None:
            state["selected_option"] = element.get("initial_option")
        else:
            state["selected_option"] = _option(element, str(answer)) if answer != "" else None
    elif kind == "file_input":
        # Files the person shared (see `SlackStandIn.share_file`), as Slack lists them in the state.
        state["files"] = list(answer or [])
    elif kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        if answer is None:
            state["selected_options"] = list(element.get("initial_options") or [])
        else:
            answers = [answer] if isinstance(answer, str) else list(answer)
            state["selected_options"] = [_option(element, str(a)) for a in answers if a != ""]
    return state


def fill_state(view: dict[str, Any], answers: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """`view.state.values` for a view: each input at its initial value unless `answers` (by block id, or
    "block_id.action_id") says otherwise."""
    values: dict[str, dict[str, dict[str, Any]]] = {}
    for block in view.get("blocks") or []:
        kind = block.get("type")
        accessory = block.get("accessory") if kind == "section" else None
        if kind == "input":
            elements = [block["element"]]
        elif kind == "actions":
            elements = [e for e in block.get("elements") or [] if e.get("type") != "button"]
        elif isinstance(accessory, dict) and accessory.get("type") not in ("button", "image", "overflow"):
            elements = [accessory]
        else:
            elements = []
        block_id = block.get("block_id", "")
        for element in elements:
            action_id = element.get("action_id", "")
            answer = answers.get(f"{block_id}.{action_id}", answers.get(block_id))
            values.setdefault(block_id, {})[action_id] = _element_state(element, answer)
    return values
