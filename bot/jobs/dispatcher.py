"""Delivers due outbox rows: claim, re-check, build from current data, render, post, record the outcome.

Nothing here raises out of the loop: a row that cannot be built or posted is recorded (skipped, failed or
put back for a later attempt) and the others carry on. Posts run on a small thread pool so one slow or
rate-limited recipient does not hold up the rest.

Each post goes out once, as the person sees it:
- every message carries its outbox key in its metadata (`key`, or `key#pN` for page N of a long post);
- a post that got no answer (timed out, connection dropped) is marked unknown, and a row whose process died
  mid-send is found still `posting`: either way the next attempt first looks for its keys in the
  conversation's recent history (conversations.history) and marks what it finds sent instead of posting;
- a multi-page post records each accepted page, so a failure on page 2 resumes at page 2;
- the lease is short and renewed by a heartbeat while this process works, so a dead process's rows are
  taken over within a minute (ECM_LEASE_SECONDS) and a live one's never are;
- posts to one conversation are paced (ECM_CHANNEL_POSTS_PER_SECOND), and a 429's Retry-After holds every
  worker and process (the back-off is shared through the database; a short one is waited out between
  rounds, never by a thread holding a row).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.render import render
from bot.slack_api import PostResult, delivery_client, find_posted, outbox_metadata, post_message
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
HISTORY_METHOD = "conversations.history"  # looking for posts whose outcome is unknown (Tier 3)
SENT, SKIPPED, FAILED, RETRY = "sent", "skipped", "failed", "retry"
HANDED_BACK = (
    "handed-back"  # not tried: left for the next round or the process that took it over (not reported)
)
DEFAULT_PACE = 1.0  # messages per second to one conversation: Slack allows about one, with short bursts
# Looking for a post starts this long before its first attempt: the host's clock and Slack's may differ.
HISTORY_MARGIN = timedelta(minutes=10)
DEFAULT_UNKNOWN_PAUSE = timedelta(seconds=60)  # before looking for a post that got no answer


def page_key(key: str, page: int) -> str:
    """The metadata key of a post's page (0-based): the outbox key itself for the first page."""
    return key if page == 0 else f"{key}#p{page + 1}"


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
    # Rows claimed but not tried (their lease ran short behind slow posts, or another process took them
    # over): not outcomes, so not in `deliveries`; a live process whose heartbeat keeps up hands back none.
    handed_back: int = 0
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


class Pacer:
    """At most `per_second` messages to any one conversation from this process (its threads share it).
    Pacing is about Slack's wall-clock rate, so it uses a monotonic timer and a sleep (both injectable)."""

    def __init__(
        self,
        per_second: float = DEFAULT_PACE,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._monotonic, self._sleep = monotonic, sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, channel: str) -> None:
        if not self.interval:
            return
        with self._lock:
            now = self._monotonic()
            slot = max(now, self._next.get(channel, now))
            self._next[channel] = slot + self.interval
        if slot > now:
            self._sleep(slot - now)


class Held:
    """The rows this process holds and their current leases, kept fresh by the heartbeat."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[int, Claimed] = {}
        self._leases: dict[int, datetime | None] = {}
        self._lost: set[tuple[int, int]] = set()  # (row id, attempt): a later claim of the row is not lost

    def add(self, items: Sequence[Claimed]) -> None:
        with self._lock:
            for item in items:
                self._rows[item.id] = item
                self._leases[item.id] = item.lease_until

    def done(self, item: Claimed) -> None:
        with self._lock:
            self._rows.pop(item.id, None)
            self._leases.pop(item.id, None)

    def rows(self) -> list[Claimed]:
        with self._lock:
            return list(self._rows.values())

    def renewed(self, asked: Sequence[Claimed], ids: set[int], until: datetime) -> None:
        """The heartbeat's answer for the rows it `asked` to renew: `ids` were renewed until `until`."""
        with self._lock:
            for item in asked:
                if self._rows.get(item.id) is not item:
                    continue  # finished meanwhile
                if item.id in ids:
                    self._leases[item.id] = until
                else:  # another process took it over (or it was just finished)
                    self._lost.add((item.id, item.attempt))

    def lease_of(self, item: Claimed) -> datetime | None:
        with self._lock:
            return self._leases.get(item.id, item.lease_until)

    def lost(self, item: Claimed) -> bool:
        with self._lock:
            return (item.id, item.attempt) in self._lost


class Heartbeat:
    """Renews the leases of the rows this process holds, every `every` (default a third of the lease), until
    stopped. A row is posted only with half its lease left, so a beat may be late by half the lease less
    the period before a row is handed back: the shorter the period, the wider that margin."""

    def __init__(
        self, engine: Engine, clock: Clock, held: Held, lease: timedelta, every: timedelta | None = None
    ) -> None:
        self.engine, self.clock, self.held, self.lease = engine, clock, held, lease
        self.every = every if every is not None and every > timedelta(0) else lease / 3
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ecm-dispatch-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def beat(self) -> None:
        rows = self.held.rows()
        if not rows:
            return
        now = self.clock.now()
        try:
            ids = notifications.renew(self.engine, rows, now=now, lease=self.lease)
        except Exception:  # the database is away: the leases run out and the rows go to whoever is left
            log.exception("renewing %d leases failed", len(rows))
            return
        self.held.renewed(rows, ids, now + self.lease)

    def _run(self) -> None:
        interval = max(self.every.total_seconds(), 0.05)
        while not self._stop.wait(interval):
            self.beat()


@dataclass
class _Context:
    """What every row's delivery in one dispatch run shares."""

    engine: Engine
    client: WebClient
    clock: Clock
    tz: str
    min_lease_left: timedelta = timedelta(0)
    held: Held | None = None
    pacer: Pacer | None = None
    unknown_pause: timedelta = DEFAULT_UNKNOWN_PAUSE


def _deliver(
    engine: Engine,
    client: WebClient,
    clock: Clock,
    item: Claimed,
    tz: str,
    min_lease_left: timedelta = timedelta(0),
    *,
    held: Held | None = None,
    pacer: Pacer | None = None,
    unknown_pause: timedelta = DEFAULT_UNKNOWN_PAUSE,
) -> Delivery:
    """One row, start to finish. Catches everything: the caller's loop must never stop for one row.

    A row that waited in this process's queue until less than `min_lease_left` of its lease was left (Slack
    answering slowly, the heartbeat failing) is not posted: once the lease runs out another replica may take
    it over and post it, so it is handed back instead, to be claimed afresh."""
    ctx = _Context(engine, client, clock, tz, min_lease_left, held, pacer, unknown_pause)
    try:
        return _deliver_row(ctx, item)
    except Exception as exc:
        # Even recording the outcome failed (database down?): the lease runs out and the row is retried
        # (still marked `posting`, so whoever takes it looks in Slack first).
        log.exception("delivering %s failed", item.key)
        return Delivery(item.key, item.kind, item.recipient, RETRY, f"{type(exc).__name__}: {exc}", True)
    finally:
        if held is not None:
            held.done(item)


def _lease_short(ctx: _Context, item: Claimed) -> bool:
    if ctx.held is not None and ctx.held.lost(item):
        return True
    lease = ctx.held.lease_of(item) if ctx.held is not None else item.lease_until
    return lease is not None and ctx.clock.now() >= lease - ctx.min_lease_left


def _deliver_row(ctx: _Context, item: Claimed) -> Delivery:
    engine, clock = ctx.engine, ctx.clock

    def done(outcome: str, detail: str = "", crashed: bool = False) -> Delivery:
        return Delivery(item.key, item.kind, item.recipient, outcome, detail, crashed)

    def hand_back() -> Delivery:
        if notifications.release(engine, item):
            return done(HANDED_BACK, "waited too long behind slow posts; claimed again on the next round")
        return done(HANDED_BACK, "its lease ran out and another process took it over")

    builder = BUILDERS.get(item.kind)
    if builder is None:
        notifications.mark_failed(engine, item, f"unknown kind {item.kind!r}")
        return done(FAILED, f"unknown kind {item.kind!r}")
    try:
        with Session(engine, expire_on_commit=False) as session:
            reply = builder(session, item, ctx.tz)
    except NotWanted as why:
        notifications.mark_skipped(engine, item, str(why))
        return done(SKIPPED, str(why))
    except Exception as exc:  # a bug or a database hiccup: try again later rather than lose the post
        log.exception("building %s failed", item.key)
        reason = f"could not build the message: {type(exc).__name__}: {exc}"
        notifications.retry_later(engine, item, reason, now=clock.now(), in_doubt=item.in_doubt)
        return done(RETRY, reason, crashed=True)
    pages = render(reply)
    if _lease_short(ctx, item):
        return hand_back()

    def rate_limited(method: str, retry_after: float | None, in_doubt: bool) -> Delivery:
        until = clock.now() + timedelta(seconds=retry_after or 0)
        notifications.share_backoff(engine, method, until)
        reason = f"Slack said ratelimited (retry after {retry_after or 0:.0f} s)"
        notifications.back_off(engine, item, reason, until=until, in_doubt=in_doubt)
        return done(RETRY, reason)

    start = min(item.pages_sent, len(pages))
    found: dict[str, str] = {}
    if item.in_doubt:
        waiting = notifications.backoff_until(engine, HISTORY_METHOD, now=clock.now())
        if waiting is not None:
            notifications.back_off(engine, item, "waiting out Slack's rate limit", until=waiting)
            return done(RETRY, f"rate limited until {waiting.isoformat(timespec='seconds')}")
        since = item.first_tried_at or clock.now()
        looked = find_posted(
            ctx.client,
            item.recipient,
            [page_key(item.key, p) for p in range(start, len(pages))],
            oldest=(since - HISTORY_MARGIN).timestamp(),
        )
        if looked.retry_after is not None:
            return rate_limited(HISTORY_METHOD, looked.retry_after, True)
        if not looked.ok and not looked.permanent:
            reason = f"could not check whether it was already posted: Slack said {looked.error}"
            notifications.retry_later(engine, item, reason, now=clock.now(), in_doubt=True)
            return done(RETRY, reason)
        if not looked.ok:  # e.g. the history scope is missing: better a rare second copy than a lost post
            log.warning("%s: cannot look in %s (%s); posting again", item.key, item.recipient, looked.error)
        found = looked.found

    accepted: list[str] = []  # ts of the pages in Slack, from `start` on (found or posted now)
    recovered = 0
    for number in range(start, len(pages)):
        key = page_key(item.key, number)
        if key in found:
            accepted.append(found[key])
            recovered += 1
            continue
        if accepted and not notifications.record_pages(
            engine, item, pages_sent=start + len(accepted), page_ts=accepted
        ):
            return done(HANDED_BACK, "another process took it over between its pages")
        if number > start and _lease_short(ctx, item):
            return hand_back()
        waiting = notifications.backoff_until(engine, POST_METHOD, now=clock.now())
        if waiting is not None:  # Slack told some worker to wait: nobody posts until then
            notifications.back_off(
                engine, item, "waiting out Slack's rate limit", until=waiting, in_doubt=False
            )
            return done(RETRY, f"rate limited until {waiting.isoformat(timespec='seconds')}")
        if ctx.pacer is not None:
            ctx.pacer.wait(item.recipient)
        result: PostResult = post_message(
            ctx.client, item.recipient, pages[number], metadata=outbox_metadata(key)
        )
        if result.ok:
            accepted.append(result.ts or "")
            continue
        if result.rate_limited:
            return rate_limited(POST_METHOD, result.retry_after, False)
        where = f" (page {number + 1} of {len(pages)})" if len(pages) > 1 else ""
        if result.unknown:
            reason = f"no answer from Slack ({result.error}){where}; looked for before it is sent again"
            notifications.mark_unknown(engine, item, reason, now=clock.now(), pause=ctx.unknown_pause)
            return done(RETRY, reason)
        reason = f"Slack said {result.error}{where}"
        if result.permanent:
            notifications.mark_failed(engine, item, reason)
            return done(FAILED, reason)
        gave_up = item.attempt >= notifications.MAX_ATTEMPTS
        notifications.retry_later(engine, item, reason, now=clock.now())
        return done(FAILED if gave_up else RETRY, reason)
    if not notifications.mark_sent(engine, item, at=clock.now(), pages=len(pages), page_ts=accepted):
        log.warning("%s was sent but another process had taken it over", item.key)
    first = accepted[0] if accepted else ""
    if recovered and recovered == len(accepted):
        return done(SENT, f"{first} (it had reached Slack already: found in the conversation, not re-sent)")
    return done(SENT, first)


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
    heartbeat: timedelta | None = None,
    pace: float = DEFAULT_PACE,
    unknown_pause: timedelta = DEFAULT_UNKNOWN_PAUSE,
    wait_backoff: float = 0.0,
    max_rounds: int = 1000,
    sleep: Callable[[float], None] = time.sleep,
) -> DispatchReport:
    """Delivers every due row (of `kinds`, or all); returns what happened to each. Never raises for a row.

    Rows planned for an earlier day are skipped first (the downtime rule); rows missed earlier today are
    simply due, so they go out now, once. `heartbeat`: how often the leases of held rows are renewed (default
    a third of `lease`). `pace`: messages per second to one conversation. `wait_backoff`:
    while Slack has told some worker (of any process) to wait, no row is claimed; a wait no longer than this
    (seconds) is waited out here, holding no row, and the run carries on; a longer one ends the run and the
    rows stay due for the next.
    """
    report = DispatchReport()
    client = delivery_client(client)
    try:
        report.stale_skipped = notifications.skip_stale(engine, today=local_today(clock.now(), tz))
    except Exception as exc:
        log.exception("skipping stale notifications failed")
        report.errors.append(f"skipping older posts failed: {type(exc).__name__}: {exc}")
    held, pacer = Held(), Pacer(pace, sleep=sleep)
    waited_for: datetime | None = None

    def deliver(item: Claimed) -> Delivery:
        # Only start a post with at least half the lease left, so it finishes while this process holds it
        # even if a heartbeat is missed.
        return _deliver(
            engine,
            client,
            clock,
            item,
            tz,
            lease / 2,
            held=held,
            pacer=pacer,
            unknown_pause=unknown_pause,
        )

    with (
        ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="ecm-dispatch") as pool,
        Heartbeat(engine, clock, held, lease, heartbeat),
    ):
        for _ in range(max_rounds):
            # While Slack has told some worker (of any process) to wait, claiming rows would only put each
            # back with the same wait: a write per row and nothing sent. Wait here if the wait is short.
            waiting = _shared_backoff(engine, clock)
            if waiting is not None:
                if waiting == waited_for or (waiting - clock.now()).total_seconds() > wait_backoff:
                    break  # a long wait (or a clock that stands still): the next run takes the rows
                waited_for = waiting
                sleep(max(0.0, (waiting - clock.now()).total_seconds()))
                continue
            try:
                claimed = notifications.claim(
                    engine, now=clock.now(), limit=batch, lease=lease, kinds=kinds, due_by=due_by
                )
            except Exception as exc:
                log.exception("claiming notifications failed")
                report.errors.append(f"claiming posts failed: {type(exc).__name__}: {exc}")
                break
            if not claimed:
                if _shared_backoff(engine, clock) is None:
                    break  # nothing is due
                continue  # the rest are waiting out a back-off: wait above, or leave them to the next run
            held.add(claimed)
            results = list(pool.map(deliver, claimed))
            report.deliveries.extend(d for d in results if d.outcome != HANDED_BACK)
            report.handed_back += sum(d.outcome == HANDED_BACK for d in results)
    return report


def _shared_backoff(engine: Engine, clock: Clock) -> datetime | None:
    """The end of the shared back-off on posting, if one is ahead (None too if it cannot be read: the
    dispatcher then claims as usual, and each post checks again)."""
    try:
        return notifications.backoff_until(engine, POST_METHOD, now=clock.now())
    except Exception:
        log.exception("reading the shared back-off failed")
        return None


def dispatch_settings(settings: Settings) -> dict[str, Any]:
    """dispatch_due's keyword arguments from the deployment's settings (bot.config.Settings)."""
    return {
        "lease": timedelta(seconds=settings.ecm_lease_seconds),
        "heartbeat": timedelta(seconds=settings.ecm_heartbeat_seconds) or None,
        "pace": settings.ecm_channel_posts_per_second,
        "unknown_pause": unknown_pause_for(settings.ecm_slack_timeout_seconds),
    }


def unknown_pause_for(timeout_seconds: float) -> timedelta:
    """How long to wait before looking for a post that got no answer: twice the client's timeout (at least
    5 s), time for an answer that was merely slow to land in the conversation."""
    return timedelta(seconds=max(2 * timeout_seconds, 5.0))
