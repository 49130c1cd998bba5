"""Talking to Slack's Web API: one client factory with retries, and delivery of reply data.

Retries: 429 waits for Retry-After; 5xx back off and retry (slack_sdk's retry handlers). A connection error
is retried only where repeating the call cannot do a thing twice: a call that only reads or sets a state
(users.info, conversations.history, views.publish, ...), or any call whose connection was refused (it never
reached Slack). A post whose connection dropped or timed out may have been accepted, so it is never re-sent
blindly: its outcome is *unknown* (`PostResult.unknown`) and the dispatcher looks for it in the conversation
(`find_posted`, by the outbox key every scheduled post carries in its message metadata) before sending again.
Anything else is permanent and is reported to the caller, never raised into a loop.
"""

from __future__ import annotations

import io
import logging
import random
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import Message
from http.client import (
    BadStatusLine,
    HTTPException,
    IncompleteRead,
    InvalidURL,
    LineTooLong,
    RemoteDisconnected,
)
from ssl import SSLContext
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

import orjson
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.jitter import Jitter
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.proxy_env_variable_loader import load_http_proxy_from_env
from slack_sdk.web.file_upload_v2_result import FileUploadV2Result
from slack_sdk.web.internal_utils import get_user_agent
from slack_sdk.webhook import WebhookClient

from bot.background import outside
from bot.render import render
from commands.replies import Attachment, Reply, Visibility

log = logging.getLogger(__name__)

# Slack errors that will not go away by retrying: the recipient or channel is wrong or gone.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "account_inactive",
        "cannot_dm_bot",
        "user_disabled",
        "restricted_action",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "missing_scope",
        "msg_too_long",
        "invalid_blocks",
        "no_permission",
        "team_access_not_granted",
        "expired_url",
        "messages_tab_disabled",
    }
)


# Web API methods that may be repeated after a dropped connection: they read, or set a state to a value
# (doing it twice is doing it once). chat.postMessage, chat.postEphemeral, files.completeUploadExternal,
# response_url posts and the like are not here: repeating them can show a message twice.
REPEATABLE_METHODS = frozenset(
    {
        "auth.test",
        "users.info",
        "users.lookupByEmail",
        "conversations.info",
        "conversations.open",
        "conversations.history",
        "chat.getPermalink",
        "files.info",
        "views.publish",
        "views.update",
        "chat.update",
        "apps.connections.open",
    }
)


def never_reached_slack(error: BaseException | None) -> bool:
    """True when the request certainly did not get to Slack: the connection was refused or the name did not
    resolve (urllib wraps errors before the request is sent in URLError)."""
    reason = error.reason if isinstance(error, URLError) else None
    return isinstance(reason, ConnectionRefusedError | socket.gaierror)


class SafeConnectionErrorRetryHandler(ConnectionErrorRetryHandler):
    """slack_sdk's connection-error retry, limited to calls that repeating cannot duplicate."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        method = request.url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        return method in REPEATABLE_METHODS or never_reached_slack(error)


DEFAULT_RETRY_BACKOFF = 0.5  # seconds: slack_sdk's own back-off factor (ECM_SLACK_BACKOFF_SECONDS)


class _ScaledJitter(Jitter):
    """slack_sdk's random jitter (up to 1 s on its 0.5 s base), kept in proportion to the base."""

    def __init__(self, most: float) -> None:
        self.most = most

    def recalculate(self, duration: float) -> float:
        return duration + random.random() * self.most


def _backoff(base: float) -> BackoffRetryIntervalCalculator:
    return BackoffRetryIntervalCalculator(backoff_factor=base, jitter=_ScaledJitter(2 * base))


def retry_handlers(max_retries: int = 3, backoff: float = DEFAULT_RETRY_BACKOFF) -> list[RetryHandler]:
    """`backoff` (ECM_SLACK_BACKOFF_SECONDS) paces the 5xx and connection retries only: a 429 waits for the
    Retry-After Slack sends (slack_sdk's rate-limit handler reads it), however short `backoff` is."""
    return [
        RateLimitErrorRetryHandler(max_retry_count=max_retries),
        ServerErrorRetryHandler(max_retry_count=max_retries, interval_calculator=_backoff(backoff)),
        SafeConnectionErrorRetryHandler(max_retry_count=max_retries, interval_calculator=_backoff(backoff)),
    ]


class GatedWebClient(WebClient):
    """A WebClient whose calls (with their retries and Retry-After waits) are waits outside the reply
    compute gate (bot.background.ComputeGate): a reply waiting for Slack holds no slot."""

    def _perform_urllib_http_request(self, *, url: str, args: dict[str, dict[str, Any]]) -> dict[str, Any]:
        with outside():
            return super()._perform_urllib_http_request(url=url, args=args)

    def _upload_file(
        self,
        *,
        url: str,
        data: bytes,
        logger: logging.Logger,
        timeout: int,
        proxy: str | None,
        ssl: SSLContext | None,
    ) -> FileUploadV2Result:
        with outside():  # the upload step of files_upload_v2
            return super()._upload_file(
                url=url, data=data, logger=logger, timeout=timeout, proxy=proxy, ssl=ssl
            )


def make_client(
    token: str | None,
    api_url: str,
    *,
    timeout: int = 30,
    max_retries: int = 3,
    backoff: float = DEFAULT_RETRY_BACKOFF,
) -> WebClient:
    """`timeout` (seconds, ECM_SLACK_TIMEOUT_SECONDS) bounds each call: past it a post's outcome is unknown.
    `backoff` (seconds, ECM_SLACK_BACKOFF_SECONDS): the first wait before retrying a 5xx or dropped read."""
    return GatedWebClient(
        token=token, base_url=api_url, timeout=timeout, retry_handlers=retry_handlers(max_retries, backoff)
    )


def _backoff_of(client: WebClient) -> BackoffRetryIntervalCalculator:
    """The 5xx back-off `client` was made with (make_client's `backoff`), else slack_sdk's default."""
    for handler in client.retry_handlers or []:
        calculator = getattr(handler, "interval_calculator", None)
        if isinstance(handler, ServerErrorRetryHandler) and isinstance(
            calculator, BackoffRetryIntervalCalculator
        ):
            return calculator
    return _backoff(DEFAULT_RETRY_BACKOFF)


@dataclass
class PostResult:
    ok: bool
    error: str | None = None
    ts: str | None = None
    channel: str | None = None
    retry_after: float | None = None  # rate limited: wait this long (seconds) before calling again
    # No answer came (timed out, connection dropped after the request went): Slack may have accepted it.
    unknown: bool = False

    @property
    def rate_limited(self) -> bool:
        return self.retry_after is not None

    @property
    def permanent(self) -> bool:
        return not self.ok and (self.error or "") in PERMANENT_ERRORS


def _error_of(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error") if exc.response is not None else None
        status = exc.response.status_code if exc.response is not None else None
        return str(error or f"http_{status}")
    if isinstance(exc, TimeoutError):
        return "timed_out"
    if isinstance(exc, RemoteDisconnected):
        return "connection_closed_with_no_answer"
    return type(exc).__name__


DEFAULT_BACKOFF = 60.0  # a 429 whose Retry-After is missing or unreadable still means "wait"
MAX_BACKOFF = 3600.0


def parse_retry_after(value: str | None) -> float:
    """Seconds to wait after a 429: the header's whole seconds, bounded; a default when unreadable."""
    text = (value or "").strip()
    if text.isascii() and text.isdigit() and len(text) <= 6:
        return min(max(float(text), 1.0), MAX_BACKOFF)
    return DEFAULT_BACKOFF


def _retry_after(exc: Exception) -> float | None:
    if isinstance(exc, SlackApiError) and exc.response is not None and exc.response.status_code == 429:
        headers = exc.response.headers or {}
        value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
        return parse_retry_after(v[0] if isinstance(v := value, list) else v)
    return None


def delivery_client(client: WebClient) -> WebClient:
    """The client scheduled posts go out with: no sleeping out a Retry-After in a dispatch thread (the row
    is rescheduled and the back-off shared instead), and no automatic re-post after a connection error
    (Slack may have accepted the first one; the dispatcher looks before it posts again); transient 5xx
    answers are still retried, and reads are retried after a dropped connection."""
    backoff = _backoff_of(client)  # the deployment's ECM_SLACK_BACKOFF_SECONDS, carried by its client
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        retry_handlers=[
            ServerErrorRetryHandler(max_retry_count=2, interval_calculator=backoff),
            SafeConnectionErrorRetryHandler(max_retry_count=2, interval_calculator=backoff),
        ],
    )


def _outcome_unknown(exc: BaseException) -> bool:
    """A transport error after which Slack may have the request: anything but a refused connection."""
    return isinstance(exc, OSError) and not never_reached_slack(exc)


# Every scheduled post carries its outbox key in the message metadata (Slack keeps it with the message and
# returns it from conversations.history with include_all_metadata), so a post can be found again.
OUTBOX_EVENT = "ecm_outbox"


def outbox_metadata(key: str) -> dict[str, Any]:
    return {"event_type": OUTBOX_EVENT, "event_payload": {"key": key}}


def post_message(client: WebClient, channel: str, message: dict[str, Any], **extra: Any) -> PostResult:
    """chat.postMessage that never raises: the outcome is in the result."""
    try:
        response = client.chat_postMessage(
            channel=channel,
            text=message["text"],
            blocks=message["blocks"],
            unfurl_links=False,
            unfurl_media=False,
            **extra,
        )
        return PostResult(ok=True, ts=response.get("ts"), channel=response.get("channel"))
    except (SlackClientError, OSError) as exc:
        error = _error_of(exc)
        unknown = _outcome_unknown(exc)
        retry_after = _retry_after(exc)
        if retry_after is not None:  # expected under load: the post is rescheduled, not lost
            log.info("chat.postMessage to %s rate limited: retry after %.1f s", channel, retry_after)
        else:
            log.warning("chat.postMessage to %s failed: %s%s", channel, error, " (outcome unknown)" * unknown)
        return PostResult(ok=False, error=error, retry_after=retry_after, unknown=unknown)


HISTORY_PAGE = 100  # messages per conversations.history call (Slack advises at most 200)
HISTORY_PAGES = 5  # at most this many calls per look-up: the search is bounded whatever the channel


@dataclass
class Found:
    """What a look-up for outbox keys in a conversation found: key -> the message's ts."""

    ok: bool
    found: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    retry_after: float | None = None

    @property
    def permanent(self) -> bool:
        return not self.ok and (self.error or "") in PERMANENT_ERRORS | {"channel_not_found"}


def _conversation(client: WebClient, recipient: str) -> str:
    """The conversation a post to `recipient` lands in: a user id's is the DM that conversations.open gives."""
    if recipient.startswith(("U", "W")):
        response = client.conversations_open(users=recipient)
        return str((response.get("channel") or {}).get("id") or recipient)
    return recipient


def find_posted(client: WebClient, recipient: str, keys: Iterable[str], *, oldest: float | None) -> Found:
    """Looks for messages carrying these outbox keys in the conversation's recent history (since `oldest`, a
    Unix time, and at most HISTORY_PAGES pages, newest first). Never raises."""
    wanted = set(keys)
    found: dict[str, str] = {}
    try:
        channel = _conversation(client, recipient)
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            response = client.conversations_history(
                channel=channel,
                oldest=f"{oldest:.6f}" if oldest is not None else None,
                limit=HISTORY_PAGE,
                include_all_metadata=True,
                cursor=cursor,
            )
            for message in response.get("messages") or []:
                metadata = message.get("metadata") or {}
                key = (metadata.get("event_payload") or {}).get("key")
                if metadata.get("event_type") == OUTBOX_EVENT and key in wanted and key not in found:
                    found[key] = str(message.get("ts") or "")
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if len(found) == len(wanted) or not response.get("has_more") or not cursor:
                break
        return Found(ok=True, found=found)
    except (SlackClientError, OSError) as exc:
        error = _error_of(exc)
        log.warning("looking for posts in %s failed: %s", recipient, error)
        return Found(ok=False, found=found, error=error, retry_after=_retry_after(exc))


def post_reply(client: WebClient, reply: Reply, *, channel: str) -> PostResult:
    """Posts every page of a reply; the result is the first failure, or the first page's success."""
    first: PostResult | None = None
    for message in render(reply):
        result = post_message(client, channel, message)
        if not result.ok:
            return result
        first = first or result
    return first or PostResult(ok=True)


def upload_files(
    client: WebClient, channel: str, files: list[Attachment], *, thread_ts: str | None = None
) -> PostResult:
    """files_upload_v2 (getUploadURLExternal, the upload, completeUploadExternal) that never raises."""
    if not files:
        return PostResult(ok=True)
    try:
        client.files_upload_v2(
            channel=channel,
            file_uploads=[{"content": f.content, "filename": f.filename, "title": f.title} for f in files],
            thread_ts=thread_ts,
        )
        return PostResult(ok=True, channel=channel)
    except (SlackClientError, OSError) as exc:
        error = _error_of(exc)
        log.warning("file upload to %s failed: %s", channel, error)
        return PostResult(ok=False, error=error)


def dm_channel(client: WebClient, user_id: str) -> str | None:
    """The DM channel id with a user (files need a channel id, not a user id)."""
    try:
        response = client.conversations_open(users=user_id)
        return str((response.get("channel") or {}).get("id") or "") or None
    except (SlackClientError, OSError) as exc:
        log.warning("conversations.open for %s failed: %s", user_id, _error_of(exc))
        return None


def _deliver_files(client: WebClient, reply: Reply, channel: str, response_url: str | None) -> PostResult:
    result = upload_files(client, channel, reply.files)
    if not result.ok and response_url:
        respond(
            response_url,
            Reply.note(
                f":warning: I couldn't attach the files (Slack said `{result.error}`). The bot needs the "
                "`files:write` scope and to be in the channel; `ecm-bot report --out DIR` writes them locally."
            ),
        )
    return result


# An idle connection older than this is not used again: a middlebox may have dropped it without a word.
KEEP_ALIVE_SECONDS = 20.0
KEPT_PER_HOST = 8  # idle connections kept per host (Slack's replies all go to one host)
KEPT_HOSTS = 4  # hosts kept connections for (the least recently used goes first)
RESPONSE_URL_TIMEOUT = 30  # seconds, slack_sdk's WebhookClient default
MAX_HEAD_LINE = 65536  # http.client's own limits on a status or header line, and on the header count
MAX_HEADERS = 100

_Host = tuple[str, str, int]  # scheme, host, port
_DISALLOWED_IN_PATH = re.compile("[\x00-\x20\x7f]")  # as http.client refuses them (no request splitting)
_SDK_LOG = logging.getLogger("slack_sdk.webhook.client")  # where slack_sdk's WebhookClient logged failures


def _readable(sock: socket.socket) -> bool:
    """Something to read, or the end of the stream, at once (poll: unlike select, any descriptor number)."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class _Connection:
    """One kept-open connection to a response_url host: its socket and what was read past a response."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def close(self) -> None:
        self.sock.close()

    def _more(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buffer += chunk
        return bool(chunk)

    def line(self) -> bytes:
        """The next line with its end (b"" at the end of the stream); LineTooLong as http.client says it."""
        while True:
            end = self.buffer.find(b"\n")
            if end >= 0:
                line, self.buffer = self.buffer[: end + 1], self.buffer[end + 1 :]
                break
            if len(self.buffer) > MAX_HEAD_LINE:
                raise LineTooLong("header line")
            if not self._more():
                line, self.buffer = self.buffer, b""
                break
        if len(line) > MAX_HEAD_LINE:
            raise LineTooLong("header line")
        return line

    def exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            if not self._more():
                raise IncompleteRead(self.buffer, size - len(self.buffer))
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def to_the_end(self) -> bytes:
        while self._more():
            pass
        data, self.buffer = self.buffer, b""
        return data


class _IdleConnections:
    """Open connections not in use, by host, the most recently used last; shared by every thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_host: dict[_Host, list[tuple[_Connection, float]]] = {}

    def take(self, host: _Host) -> _Connection | None:
        """An idle connection to `host` that is fit to use again: idle under KEEP_ALIVE_SECONDS, and with
        nothing to read (readable while idle means the server closed it, or sent what it should not)."""
        while True:
            with self._lock:
                idle = self._by_host.get(host)
                if not idle:
                    return None
                connection, since = idle.pop()
            if time.monotonic() - since < KEEP_ALIVE_SECONDS and not _readable(connection.sock):
                return connection
            connection.close()

    def keep(self, host: _Host, connection: _Connection) -> None:
        closing: list[_Connection] = []
        with self._lock:
            idle = self._by_host.pop(host, [])
            self._by_host[host] = idle  # now the most recently used host
            if len(idle) < KEPT_PER_HOST:
                idle.append((connection, time.monotonic()))
            else:
                closing.append(connection)
            while len(self._by_host) > KEPT_HOSTS:
                closing += [c for c, _ in self._by_host.pop(next(iter(self._by_host)))]
        for c in closing:
            c.close()


@dataclass(frozen=True)
class _Answer:
    status: int
    reason: str
    headers: list[tuple[str, str]]  # as sent, in order
    data: bytes

    def header(self, name: str) -> str | None:
        """The last value of a header (names compared without case), as the retry handlers read it."""
        found = None
        for key, value in self.headers:
            if key.lower() == name:
                found = value
        return found

    def text(self) -> str:
        charset = "utf-8"
        for param in (self.header("content-type") or "").split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset" and value.strip().strip('"'):
                charset = value.strip().strip('"').lower()
        try:
            return self.data.decode(charset, "replace")
        except LookupError:  # a charset Python does not know: the text only ever goes into an error
            return self.data.decode("utf-8", "replace")


def _read_answer(connection: _Connection) -> tuple[_Answer, bool]:
    """The response to the request just sent, and whether the connection must be closed after it. Raises
    what http.client raises for the same answers (RemoteDisconnected, BadStatusLine, IncompleteRead, ...)."""
    while True:
        status_line = connection.line()
        if not status_line:
            raise RemoteDisconnected("Remote end closed connection without response")
        try:
            version, status_text, *rest = status_line.decode("iso-8859-1").rstrip("\r\n").split(None, 2)
            status = int(status_text)
        except ValueError:
            raise BadStatusLine(status_line.decode("iso-8859-1", "replace")) from None
        if not version.startswith("HTTP/") or not 100 <= status <= 999 or len(status_text) != 3:
            raise BadStatusLine(status_line.decode("iso-8859-1", "replace"))
        headers: list[tuple[str, str]] = []
        while True:
            line = connection.line()
            if line in (b"\r\n", b"\n", b""):
                break
            if len(headers) >= MAX_HEADERS:
                raise HTTPException(f"got more than {MAX_HEADERS} headers")
            if line[:1] in (b" ", b"\t") and headers:  # a folded header continues the one before
                name, value = headers[-1]
                headers[-1] = (name, f"{value} {line.decode('iso-8859-1').strip()}")
                continue
            name, _, value = line.decode("iso-8859-1").partition(":")
            headers.append((name.strip(), value.strip()))
        if 100 <= status < 200 and status != 101:
            continue  # an interim answer (100 Continue): the real one follows
        break
    answer = _Answer(status, rest[0] if rest else "", headers, b"")
    connection_header = (answer.header("connection") or "").lower()
    close = "close" in connection_header or (version != "HTTP/1.1" and "keep-alive" not in connection_header)
    if status in (204, 304) or status < 200:
        data = b""
    elif "chunked" in (answer.header("transfer-encoding") or "").lower():
        parts: list[bytes] = []
        while True:
            size_line = connection.line()
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise IncompleteRead(b"".join(parts)) from None
            if size == 0:
                while connection.line() not in (b"\r\n", b"\n", b""):
                    pass  # the trailer
                break
            parts.append(connection.exactly(size))
            connection.exactly(2)  # the CRLF after the chunk, as http.client reads it
        data = b"".join(parts)
    else:
        length = answer.header("content-length")
        if length is not None and length.isdigit():
            data = connection.exactly(int(length))
        else:  # no length said: the body ends with the connection
            data, close = connection.to_the_end(), True
    if connection.buffer:
        close = True  # more than the answer came: the connection is not in a state to use again
    return _Answer(answer.status, answer.reason, headers, data), close


class ResponseUrlPoster:
    """Posts replies to response_urls over connections kept open, each reply one write and (usually) one
    read: no new connection (with Slack, a TLS handshake) per reply, and none of urllib's or slack_sdk's
    per-call set-up. Retries are slack_sdk's own handlers, run as its WebhookClient runs them: 429 waits for
    Retry-After, 5xx back off, a connection error is retried only when the request never reached Slack.
    A kept connection is used again only when `_IdleConnections.take` finds it fit (as urllib3 checks);
    a request is never sent twice on a dropped connection. Through a proxy it is slack_sdk's WebhookClient,
    as before. One per process: nothing in it belongs to one reply."""

    def __init__(self, handlers: list[RetryHandler], timeout: int = RESPONSE_URL_TIMEOUT) -> None:
        self.handlers, self.timeout = handlers, timeout
        self._idle = _IdleConnections()
        self._proxy: str | None = load_http_proxy_from_env()
        self._tls: ssl.SSLContext | None = None
        self._user_agent = get_user_agent()

    def post(self, url: str, body: dict[str, Any]) -> tuple[int, str]:
        """(status, body text) of posting `body` as JSON; raises as slack_sdk's WebhookClient.send_dict."""
        body = {k: v for k, v in body.items() if v is not None}
        parts = urlsplit(url)
        hostname = parts.hostname or ""
        if self._proxy is not None or parts.scheme not in ("http", "https") or not hostname.isascii():
            webhook = WebhookClient(url, timeout=self.timeout, retry_handlers=self.handlers)
            with outside():
                response = webhook.send_dict(body)
            return response.status_code, response.body
        https = parts.scheme == "https"
        port = parts.port or (443 if https else 80)
        selector = parts.path or "/"
        if parts.query:
            selector += "?" + parts.query
        if _DISALLOWED_IN_PATH.search(selector):
            raise InvalidURL(f"URL can't contain control characters. {selector!r}")
        shown = f"[{hostname}]" if ":" in hostname else hostname
        host_header = shown if port == (443 if https else 80) else f"{shown}:{port}"
        raw = orjson.dumps(body)  # UTF-8, as json.dumps(body).encode() means, in a tenth of the time
        head = (
            f"POST {selector} HTTP/1.1\r\nHost: {host_header}\r\nAccept-Encoding: identity\r\n"
            f"Content-Length: {len(raw)}\r\nContent-type: application/json;charset=utf-8\r\n"
            f"User-agent: {self._user_agent}\r\n\r\n"
        ).encode("latin-1")
        host = (parts.scheme, hostname, port)
        state = RetryState()
        request: HttpRequest | None = None
        with outside():  # with its retries: a reply waiting for Slack holds no compute slot
            for _ in range(100):  # slack_sdk's own bound; the handlers' counts end it long before
                state.next_attempt_requested = False
                try:
                    answer = self._exchange(host, head + raw)
                except Exception as error:
                    _SDK_LOG.error(f"Failed to send a request to Slack API server: {error}")
                    request = request or self._retry_request(url, raw)
                    if not self._retry(state, request, None, error):
                        raise
                    continue
                if 200 <= answer.status < 300:
                    return answer.status, answer.text()
                # Anything else as urllib raises an error status, for the retry handlers to read. A redirect
                # is not followed: a response_url never redirects, and a reply is never sent twice.
                refused = HttpResponse(
                    status_code=answer.status,
                    headers={k: [v] for k, v in answer.headers},
                    data=answer.data,
                )
                status_error = HTTPError(
                    url, answer.status, answer.reason, Message(), io.BytesIO(answer.data)
                )
                request = request or self._retry_request(url, raw)
                if not self._retry(state, request, refused, status_error):
                    return answer.status, answer.text()
        raise RuntimeError("response_url post retried past slack_sdk's bound")  # the handlers stop first

    def _retry_request(self, url: str, raw: bytes) -> HttpRequest:
        headers = {"Content-type": "application/json;charset=utf-8", "User-agent": self._user_agent}
        return HttpRequest(method="POST", url=url, headers=dict(headers), data=raw)

    def _retry(
        self, state: RetryState, request: HttpRequest, response: HttpResponse | None, error: Exception
    ) -> bool:
        """The first handler that takes the failure prepares (waits for) the next attempt, as in slack_sdk."""
        for handler in self.handlers:
            if handler.can_retry(state=state, request=request, response=response, error=error):
                handler.prepare_for_next_attempt(state=state, request=request, response=response, error=error)
                break
        return state.next_attempt_requested

    def _connect(self, host: _Host) -> _Connection:
        sock = socket.create_connection((host[1], host[2]), timeout=self.timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as http.client does
            if host[0] == "https":
                if self._tls is None:
                    tls = ssl.create_default_context()
                    tls.set_alpn_protocols(["http/1.1"])
                    self._tls = tls
                sock = self._tls.wrap_socket(sock, server_hostname=host[1])
        except BaseException:
            sock.close()
            raise
        return _Connection(sock)

    def _exchange(self, host: _Host, request: bytes) -> _Answer:
        connection = self._idle.take(host)
        try:
            try:
                if connection is None:
                    connection = self._connect(host)
                connection.sock.sendall(request)
            except OSError as error:
                raise URLError(error) from error  # as urllib says it: the request did not get through
            answer, close = _read_answer(connection)
        except BaseException:
            if connection is not None:
                connection.close()
            raise
        if close:
            connection.close()
        else:
            self._idle.keep(host, connection)
        return answer


_response_urls: ResponseUrlPoster | None = None
_response_urls_lock = threading.Lock()


def response_urls() -> ResponseUrlPoster:
    """The process's poster (built at the first reply: the environment's proxy is read then)."""
    global _response_urls
    if _response_urls is None:
        with _response_urls_lock:
            if _response_urls is None:
                _response_urls = ResponseUrlPoster(retry_handlers())
    return _response_urls


def respond(response_url: str, reply: Reply, *, in_channel: bool = False) -> PostResult:
    poster = response_urls()
    for message in render(reply):
        body = {
            "response_type": "in_channel" if in_channel else "ephemeral",
            "replace_original": False,
            **message,
        }
        try:
            status, text = poster.post(response_url, body)
        except OSError as exc:
            return PostResult(ok=False, error=type(exc).__name__)
        if status != 200:
            return PostResult(ok=False, error=f"http_{status}: {text[:100]}")
    return PostResult(ok=True)


def deliver(
    client: WebClient, replies: list[Reply], *, channel_id: str, user_id: str, response_url: str | None
) -> list[PostResult]:
    """Sends a command's replies where they belong: ephemeral to the caller, in the channel, or as DMs."""
    results: list[PostResult] = []
    for reply in replies:
        if reply.visibility == Visibility.CHANNEL:
            result = post_reply(client, reply, channel=channel_id)
            if not result.ok and response_url:
                # Private channel the bot is not in, for instance: tell the user rather than lose the message.
                warning = Reply.note(
                    f":warning: I couldn't post this in the channel (Slack said `{result.error}`). "
                    "Invite me with `/invite @ECM Task Group` so everyone sees changes. The change itself is saved."
                )
                respond(response_url, warning)
                respond(response_url, reply)
            elif reply.files:
                result = _deliver_files(client, reply, channel_id, response_url)
        elif reply.visibility == Visibility.DM:
            result = post_reply(client, reply, channel=reply.recipient or user_id)
            if result.ok and reply.files:
                dm = dm_channel(client, reply.recipient or user_id)
                result = (
                    _deliver_files(client, reply, dm, response_url)
                    if dm
                    else PostResult(ok=False, error="no_dm_channel")
                )
        elif response_url:
            result = respond(response_url, reply)
        else:
            result = PostResult(ok=False, error="no_response_url")
            for message in render(reply):
                try:
                    client.chat_postEphemeral(channel=channel_id, user=user_id, **message)
                    result = PostResult(ok=True)
                except (SlackClientError, OSError) as exc:
                    result = PostResult(ok=False, error=_error_of(exc))
        results.append(result)
    return results
