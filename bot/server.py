"""HTTP mode: Slack posts to /slack/events; /healthz answers load balancers. Served by uvicorn.

Intake order, so that nobody without the signing secret can make the bot do work or write to its log:
1. the body is read only up to a cap (413 past it, before the rest is read);
2. the signature and timestamp are checked by `verify_signature` (401, one sanitised log line, never the
   body);
3. only then is the body parsed (once: Bolt's own parse), and a body Bolt could not make a payload of is
   answered 400 (Bolt would raise: 500).
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_starlette_response
from slack_bolt.request import BoltRequest
from sqlalchemy import Engine, text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from storage.db import READ_ONLY

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY = 256 * 1024  # Slack's largest payloads (a big modal's view_submission) are tens of KB
MAX_CLOCK_SKEW = 5 * 60  # Slack's own rule: a request older (or newer) than five minutes is a replay
MAX_LOGGED = 80


def loggable(value: object, limit: int = MAX_LOGGED) -> str:
    """A request-supplied value made safe for one log line: no control characters (no forged lines), short."""
    raw = str(value)[:limit]
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in raw)


class BodyTooLarge(Exception):
    pass


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str  # for the log and the response body; never contains anything from the request


def verify_signature(
    secret: str, body: bytes, timestamp: str | None, signature: str | None, now: float
) -> Refusal | None:
    """Slack's v0 signature check, strict about the header shapes; None when the request is genuine."""
    if not timestamp or not signature:
        return Refusal(401, "missing signature headers")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return Refusal(401, "malformed timestamp")
    if abs(now - int(timestamp)) > MAX_CLOCK_SKEW:
        return Refusal(401, "stale timestamp")
    expected = (
        "v0="
        + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    )
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        return Refusal(401, "bad signature")
    return None


def parse_refusal(raw: str, query: object, headers: object) -> tuple[BoltRequest | None, Refusal | None]:
    """Bolt's request for this (signed) body, parsed once, by Bolt; or why Bolt could not make a payload of it
    (400: Bolt itself would raise, a 500). Bolt parses an empty body, JSON that is not an object, or a form
    whose payload is not one, without a word and then fails on it; those are refused here."""
    if not raw:
        return None, Refusal(400, "empty body")
    try:
        request = BoltRequest(body=raw, query=query, headers=headers)  # type: ignore[arg-type]
    except ValueError:  # json.JSONDecodeError
        return None, Refusal(400, "body is not valid JSON or form data")
    except (AttributeError, TypeError):  # Bolt reading its context out of a payload that is not an object
        return None, Refusal(400, "payload is not a JSON object")
    if not isinstance(request.body, dict):
        return None, Refusal(400, "payload is not a JSON object")
    return request, None


async def read_capped(request: Request, cap: int) -> bytes:
    """The body, refusing (before reading it all) anything over `cap` bytes, declared or streamed."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def create_web_app(
    app: App,
    engine: Engine,
    *,
    signing_secret: str,
    max_body: int = DEFAULT_MAX_BODY,
    now: Callable[[], float] = time.time,
    on_shutdown: Callable[[], None] | None = None,
) -> Starlette:
    """The web app; `signing_secret` must be the one Bolt verifies with (HTTP mode always has one).
    `on_shutdown` runs when the server stops (a worker process's pending Home refreshes)."""

    def refuse(request: Request, size: int, refusal: Refusal) -> Response:
        log.warning(
            "refused %s %s (%d bytes): %s",
            loggable(request.method),
            loggable(request.url.path),
            size,
            refusal.reason,
        )
        return PlainTextResponse(refusal.reason, status_code=refusal.status)

    async def slack_events(request: Request) -> Response:
        try:
            raw = await read_capped(request, max_body)
        except BodyTooLarge:
            declared = request.headers.get("content-length") or "0"
            size = int(declared) if declared.isdigit() else max_body + 1
            return refuse(request, size, Refusal(413, f"body over {max_body} bytes"))
        refusal = verify_signature(
            signing_secret,
            raw,
            request.headers.get("x-slack-request-timestamp"),
            request.headers.get("x-slack-signature"),
            now(),
        )
        if refusal is None:
            try:
                body = raw.decode("utf-8")
            except UnicodeDecodeError:
                refusal = Refusal(400, "body is not UTF-8")
        if refusal is not None:
            return refuse(request, len(raw), refusal)
        bolt_request, refusal = parse_refusal(body, request.query_params, request.headers)
        if bolt_request is None:
            return refuse(request, len(raw), refusal or Refusal(400, "unreadable body"))
        # Bolt's dispatch is synchronous (it verifies, acks, and hands work to its pool): keep it off the loop.
        bolt_response = await run_in_threadpool(app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

    async def healthz(_request: Request) -> Response:
        def ping() -> None:
            with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
                conn.execute(text("SELECT 1"))

        try:
            await run_in_threadpool(ping)
        except Exception as exc:  # the health check reports, it never raises
            return JSONResponse({"ok": False, "database": type(exc).__name__}, status_code=503)
        return JSONResponse({"ok": True, "database": "ok"})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # What the process built before its first request (the app, and the web stack uvicorn imported
        # after it) lives as long as the process: frozen out of the collector's way. Left in, a full
        # collection under load walked ~30,000 objects for 10-17 ms while every reply in flight waited.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            if on_shutdown is not None:
                await run_in_threadpool(on_shutdown)

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def worker_app() -> Starlette:
    """One of ECM_WEB_WORKERS server processes (`uvicorn.run("bot.server:worker_app", factory=True, ...)`):
    the app, its pools and its database connections built in this process from the same settings. The
    process that started the workers has already migrated the database and checked the bot token."""
    from bot.app import create_app
    from bot.config import LOG_FORMAT, Settings
    from storage.clock import SystemClock
    from storage.db import checkpoint_in_background, make_engine

    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(), format=LOG_FORMAT)
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    app, services = create_app(settings, engine, SystemClock(), verify_token=False)
    checkpointer = checkpoint_in_background(engine, settings.ecm_sqlite_checkpoint_seconds)
    gc.collect()
    gc.freeze()  # as `ecm-bot run` does: start-up's objects stay out of every request's collections
    homes = services.homes

    def on_shutdown() -> None:
        if homes is not None:
            homes.close()
        if checkpointer is not None:
            checkpointer.stop()

    return create_web_app(
        app,
        engine,
        signing_secret=settings.slack_signing_secret or "",
        max_body=settings.ecm_max_request_bytes,
        on_shutdown=on_shutdown,
    )
