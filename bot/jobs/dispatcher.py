"""Delivers due outbox rows: claim, re-check, build from current data, render, post, record the outcome.

Nothing here raises out of the loop: a row that cannot be built or posted is recorded (skipped, failed or
put back for a later attempt) and the others carry on. Posts run on a small thread pool so one slow or
rate-limited recipient does not hold up the rest.

Delivery is at-least-once at the edge: if a process dies after Slack accepted a post but before the row
is marked sent, the row is sent again once its lease runs out. Everything short of that (restarts,
replicas, repeated runs, retries) sends each row once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlmodel import Session

from bot.slack_api import delivery_client, post_reply
from commands.posts import registry
from commands.posts.kind import NotWanted
from commands.replies import Reply
from storage import notifications
from storage.clock import Clock
from storage.notifications import Claimed

log = logging.getLogger(__name__)

Builder = Callable[[Session, Claimed, str], Reply]
BUILDERS: dict[str, Builder] = registry.builders()  # outbox kind -> its post kind's `build`

POST_METHOD = "chat.postMessage"  # the method whose rate limit scheduled posts share
SENT, SKIPPED, FAILED, RETRY = "sent", "skipped", "failed", "retry"
HANDED_BACK = (
    "handed-back"  # not tried: left for the next round or the process that took it over (not reported)
)


@dataclass
class Delivery:
    key: str
    kind: str
    recipient: str
    outcome: str  # sent | skipped | failed | retry (a transient failure, tried again later)
    detail: str = ""
    crashed: bool = False  # the bot itself failed (a bug, the database), not Slack: still retried later


@dataclass
class DispatchReport:
    deliveries: list[Delivery] = field(default_factory=list)
    stale_skipped: int = 0  # planned for an earlier day and never sent: skipped by the downtime rule
    errors: list[str] = field(default_factory=list)  # steps that crashed outside any one row (e.g. claiming)

    @property
    def crashed(self) -> bool:
        """Something broke on the bot's side (not a recorded Slack failure): `jobs run` exits non-zero."""
        return bool(self.errors) or any(d.crashed for d in self.deliveries)

    def of(self, outcome: str) -> list[Delivery]:
        return [d for d in self.deliveries if d.outcome == outcome]

    @property
    def counts(self) -> dict[str, int]:
        out = {SENT: 0, SKIPPED: self.stale_skipped, FAILED: 0, RETRY: 0}
        for d in self.deliveries:
            out[d.outcome] += 1
        return out


def local_today(now: datetime, tz: str) -> date:
    return now.astimezone(ZoneInfo(tz)).date()


def _deliver(
    engine: Engine,
    client: WebClient,
    clock: Clock,
    item: Claimed,
    tz: str,
    min_lease_left: timedelta = timedelta(0),
) -> Delivery:
    """One row, start to finish. Catches everything: the caller's loop must never stop for one row.

    A row that waited in this process's queue until less than `min_lease_left` of its lease was left (Slack
    answering slowly) is not posted: once the lease runs out another replica may take it over and post it,
    so it is handed back instead, to be claimed afresh."""

    def done(outcome: str, detail: str = "", crashed: bool = False) -> Delivery:
        return Delivery(item.key, item.kind, item.recipient, outcome, detail, crashed)

    try:
        builder = BUILDERS.get(item.kind)
        if builder is None:
            notifications.mark_failed(engine, item, f"unknown kind {item.kind!r}")
            return done(FAILED, f"unknown kind {item.kind!r}")
        try:
            with Session(engine, expire_on_commit=False) as session:
                reply = builder(session, item, tz)
        except NotWanted as why:
            notifications.mark_skipped(engine, item, str(why))
            return done(SKIPPED, str(why))
        except Exception as exc:  # a bug or a database hiccup: try again later rather than lose the post
            log.exception("building %s failed", item.key)
            reason = f"could not build the message: {type(exc).__name__}: {exc}"
            notifications.retry_later(engine, item, reason, now=clock.now())
            return done(RETRY, reason, crashed=True)
        if item.lease_until is not None and clock.now() >= item.lease_until - min_lease_left:
            if notifications.release(engine, item):
                return done(HANDED_BACK, "waited too long behind slow posts; claimed again on the next round")
            return done(HANDED_BACK, "its lease ran out and another process took it over")
        waiting = notifications.backoff_until(engine, POST_METHOD, now=clock.now())
        if waiting is not None:  # Slack told some worker to wait: nobody posts until then
            notifications.back_off(engine, item, "waiting out Slack's rate limit", until=waiting)
            return done(RETRY, f"rate limited until {waiting.isoformat(timespec='seconds')}")
        result = post_reply(client, reply, channel=item.recipient)
        if result.rate_limited:
            until = clock.now() + timedelta(seconds=result.retry_after or 0)
            notifications.share_backoff(engine, POST_METHOD, until)
            reason = f"Slack said ratelimited (retry after {result.retry_after:.0f} s)"
            notifications.back_off(engine, item, reason, until=until)
            return done(RETRY, reason)
        if result.ok:
            if not notifications.mark_sent(engine, item, at=clock.now(), ts=result.ts):
                log.warning("%s was sent but another process had taken it over", item.key)
            return done(SENT, result.ts or "")
        reason = f"Slack said {result.error}"
        if result.permanent:
            notifications.mark_failed(engine, item, reason)
            return done(FAILED, reason)
        gave_up = item.attempt >= notifications.MAX_ATTEMPTS
        notifications.retry_later(engine, item, reason, now=clock.now())
        return done(FAILED if gave_up else RETRY, reason)
    except Exception as exc:
        # Even recording the outcome failed (database down?): the lease runs out and the row is retried.
        log.exception("delivering %s failed", item.key)
        return done(RETRY, f"{type(exc).__name__}: {exc}", crashed=True)


def dispatch_due(
    engine: Engine,
    client: WebClient,
    clock: Clock,
    *,
    tz: str = "Europe/London",
    kinds: Sequence[str] | None = None,
    due_by: datetime | None = None,
    batch: int = 50,
    workers: int = 4,
    lease: timedelta = notifications.DEFAULT_LEASE,
    max_rounds: int = 1000,
) -> DispatchReport:
    """Delivers every due row (of `kinds`, or all); returns what happened to each. Never raises for a row.

    Rows planned for an earlier day are skipped first (the downtime rule); rows missed earlier today are
    simply due, so they go out now, once.
    """
    report = DispatchReport()
    client = delivery_client(client)
    try:
        report.stale_skipped = notifications.skip_stale(engine, today=local_today(clock.now(), tz))
    except Exception as exc:
        log.exception("skipping stale notifications failed")
        report.errors.append(f"skipping older posts failed: {type(exc).__name__}: {exc}")
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="ecm-dispatch") as pool:
        for _ in range(max_rounds):
            try:
                claimed = notifications.claim(
                    engine, now=clock.now(), limit=batch, lease=lease, kinds=kinds, due_by=due_by
                )
            except Exception as exc:
                log.exception("claiming notifications failed")
                report.errors.append(f"claiming posts failed: {type(exc).__name__}: {exc}")
                break
            if not claimed:
                break
            # Only start a post with at least half the lease left, so it finishes while this process holds it.
            results = pool.map(lambda item: _deliver(engine, client, clock, item, tz, lease / 2), claimed)
            report.deliveries.extend(d for d in results if d.outcome != HANDED_BACK)
    return report
