"""The Bolt app factory: a thin adapter from Slack payloads to `commands`."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App
from sqlalchemy import Engine, event

from bot.ack_handover import AckHandOver, SignallingAckMiddleware
from bot.background import ComputeGate, DrainableExecutor, InlineExecutor, step_back_in, step_outside
from bot.config import Settings
from bot.home import HomeRefresher, RefreshingExecutor, refresh_batches
from bot.listeners import register_all
from bot.services import Services
from bot.slack_api import make_client
from commands import workdays
from commands.registry import load_verbs
from storage.clock import Clock


class _ExpectedClientWarning(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN is unused whenever a client is passed; ours carries that very token
    (plus retries and SLACK_API_URL), so the warning is noise on every start."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage()


BOLT_LOGGER = logging.getLogger("slack_bolt")
BOLT_LOGGER.addFilter(_ExpectedClientWarning())


def _statement_starts(*_args: Any, **_kwargs: Any) -> None:
    step_outside()


def _statement_ends(*_args: Any, **_kwargs: Any) -> None:
    step_back_in()


def watch_statements(engine: Engine) -> None:
    """A reply waiting for a database statement gives its compute slot up meanwhile (bot.background's
    ComputeGate; a no-op on any other thread). Once per engine (tests share one between workspaces)."""
    for name, fn in (
        ("before_cursor_execute", _statement_starts),
        ("after_cursor_execute", _statement_ends),
        ("handle_error", _statement_ends),  # a statement that failed is over too
    ):
        if not event.contains(engine, name, fn):
            event.listen(engine, name, fn)


def create_app(
    settings: Settings,
    engine: Engine,
    clock: Clock,
    *,
    listener_executor: Executor | None = None,
    reply_executor: Executor | None = None,
    verify_token: bool = True,
) -> tuple[App, Services]:
    """The Bolt app and its services. Two pools (see bot.background): Bolt's listener pool only acks, and
    the reply pool does the work that talks to Slack, so slow Web API answers never delay an ack.

    Both pools are watched for changes (bot/home.py), so the Home tabs a change affects are refreshed, by
    `services.homes` on a thread of its own (coalesced, off both pools: never on the path of a reply)."""
    load_verbs()  # the whole verb table, once, before any request arrives
    workdays.preload(clock.now().date())  # and the bank holidays every due date is counted in
    client = make_client(
        settings.slack_bot_token,
        settings.api_url,
        timeout=settings.ecm_slack_timeout_seconds,
        backoff=settings.ecm_slack_backoff_seconds,
    )
    # The lambda runs only after a request, when `services` below exists.
    homes = HomeRefresher(
        lambda batches: refresh_batches(services, batches), settings.ecm_home_refresh_seconds
    )
    replies = RefreshingExecutor(
        reply_executor or DrainableExecutor(settings.ecm_reply_workers, "ecm-reply"), homes.request
    )
    gate = None
    if settings.reply_computing:
        gate = ComputeGate(settings.reply_computing, settings.ecm_reply_computing_wait)
        watch_statements(engine)
    services = Services(
        settings=settings,
        engine=engine,
        clock=clock,
        client=client,
        replies=replies,
        homes=homes,
        gate=gate,
    )
    ack_pool = AckHandOver(
        RefreshingExecutor(
            listener_executor or DrainableExecutor(settings.ecm_ack_workers, "bolt-ack"), homes.request
        ),
        # A listener that only acks and hands over runs in the request's thread (bot.ack_handover).
        in_place=RefreshingExecutor(InlineExecutor(), homes.request),
    )
    app = App(
        # Named, so Bolt does not take the name from `inspect.stack()`, which reads the source of every
        # frame on the stack (~0.1 s per app: paid by every test workspace and every process start).
        name="ecm-bot",
        client=client,
        signing_secret=settings.slack_signing_secret or "",
        # Socket Mode needs no signature; HTTP mode always verifies.
        request_verification_enabled=bool(settings.slack_signing_secret),
        token_verification_enabled=verify_token,
        listener_executor=ack_pool,
        logger=BOLT_LOGGER,
    )
    app.use(SignallingAckMiddleware())  # with AckHandOver: no 10 ms ack polling (bot.ack_handover)
    register_all(app, services)
    return app, services
