"""The outbox: planned posts, claimed and delivered exactly once across processes.

Life of a row: planned as `pending` (insert, ignore on conflict on the idempotency key, so planning can be
repeated by every process on every tick) -> claimed as `sending` with a lease -> `sent`, `failed` (a
permanent Slack error, or too many attempts) or `skipped` (no longer wanted, or missed on an earlier day).
A transient failure puts the row back to `pending` with a back-off lease, so it is tried again later.

Claiming: on PostgreSQL `SELECT … FOR UPDATE SKIP LOCKED` in a short transaction, so replicas never take
the same row; on SQLite the engine's BEGIN IMMEDIATE lets one writer in at a time, which gives the same.
A row whose lease ran out while `sending` (the process died between claim and post) is claimable again.
Each claim bumps `attempts`, and marking a row checks the attempt it claimed (a fencing token), so a
process that lost its lease can never overwrite the outcome recorded by the one that took over.

Leases are short (a minute) and renewed while the process works (`renew`, the dispatcher's heartbeat), so
rows held by a process that died are taken over within a minute, never while their holder is alive.

Unknown outcomes: a claim marks the row `posting` (`attempt_state`); a post that got no answer marks it
`unknown`. Either way the next claimant is told the row is `in_doubt` and looks for the post in Slack (its
key is in the message's metadata) before sending it again. `pages_sent` counts the pages of a multi-page
post Slack accepted, so a retry resumes at the next page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from storage.db import session_scope
from storage.models import Notification, NotificationStatus, ProcessedRequest

# Renewed by the dispatcher's heartbeat while it works (every third of it), so it only has to outlast one
# missed heartbeat; a dead process's rows are free again within this long (ECM_LEASE_SECONDS).
DEFAULT_LEASE = timedelta(seconds=60)
# Transient failures are retried after 1, 2, 4, … minutes (at most an hour): about two hours in all, so a
# Slack outage in the morning still ends with the post sent the same day.
MAX_ATTEMPTS = 8
MAX_PAUSE = timedelta(hours=1)
ERROR_LIMIT = 500  # the column's size

# attempt_state values: nothing in doubt; a claimed attempt may be talking to Slack; the last post got no answer.
SETTLED, POSTING, UNKNOWN = "", "posting", "unknown"

PENDING, SENDING, SENT, FAILED, SKIPPED = (
    NotificationStatus.PENDING,
    NotificationStatus.SENDING,
    NotificationStatus.SENT,
    NotificationStatus.FAILED,
    NotificationStatus.SKIPPED,
)


@dataclass
class Planned:
    """One post to plan; the key names the occurrence, e.g. `owner-digest:U123:2026-11-23`."""

    key: str
    kind: str
    recipient: str
    for_date: date
    due_at: datetime
    group_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Claimed:
    """A claimed row, detached from any session: what the dispatcher needs, plus the fencing token."""

    id: int
    key: str
    kind: str
    recipient: str
    group_id: int | None
    for_date: date
    due_at: datetime
    payload: dict[str, Any]
    attempt: int
    lease_until: datetime | None = None  # this process may post it until then; after that another may take it
    # The previous attempt may have posted it (no answer came, or its process died): look before sending.
    in_doubt: bool = False
    pages_sent: int = 0  # pages Slack already accepted (a multi-page post resumes after them)
    first_tried_at: datetime | None = None  # when it was first claimed: the history search starts there


def preview(row: Planned) -> Claimed:
    """A planned row as the dispatcher would see it once claimed, without storing or claiming anything:
    for `ecm-bot jobs run --dry-run` and for building a post in a test."""
    return Claimed(
        id=0,
        key=row.key,
        kind=row.kind,
        recipient=row.recipient,
        group_id=row.group_id,
        for_date=row.for_date,
        due_at=row.due_at,
        payload=row.payload,
        attempt=0,
    )


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise ValueError(f"outbox planning needs PostgreSQL or SQLite, not {dialect}")


def plan(session: Session, rows: Iterable[Planned], *, now: datetime) -> int:
    """Inserts the rows whose key is new; returns how many were new. Safe to repeat, from any process."""
    values = [
        {
            "idempotency_key": r.key,
            "kind": r.kind,
            "group_id": r.group_id,
            "recipient": r.recipient,
            "for_date": r.for_date,
            "due_at": r.due_at,
            "payload": r.payload,
            "status": PENDING,
            "attempts": 0,
            "created_at": now,
        }
        for r in rows
    ]
    if not values:
        return 0
    table = Notification.__table__  # type: ignore[attr-defined]
    # One single-row statement sent with every row's values (executemany: SQLAlchemy batches it into
    # multi-row INSERTs without compiling each batch again); RETURNING counts what was really inserted
    # (rowcount is -1 for this statement on psycopg), and a key already planned returns nothing.
    stmt = (
        _insert(session)(table)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(table.c.id)
    )
    return len(session.execute(stmt, values).all())


def first_planning_of(session: Session, day: date, *, now: datetime) -> bool:
    """True for the one planning run (in any process) that is the first for `day`; False for every later one.

    Lets the ticker tell a post missed while the bot was down (planned late by the day's first run: send it
    once) from one that only became due after the morning run (an action added at 14:00: wait for tomorrow).
    """
    stmt = (
        _insert(session)(ProcessedRequest)
        .values(key=f"planned:{day.isoformat()}", at=now)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(col(ProcessedRequest.key))
    )
    return bool(session.exec(stmt).all())


def existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    if not keys:
        return set()
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        found.update(
            session.exec(
                select(Notification.idempotency_key).where(col(Notification.idempotency_key).in_(chunk))
            )
        )
    return found


def keys_with_status(
    session: Session, keys: Sequence[str], statuses: Sequence[NotificationStatus]
) -> set[str]:
    """Which of `keys` are in the outbox with one of `statuses`."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        found.update(
            session.exec(
                select(Notification.idempotency_key).where(
                    col(Notification.idempotency_key).in_(chunk), col(Notification.status).in_(list(statuses))
                )
            )
        )
    return found


def _claimable(now: datetime, kinds: Sequence[str] | None, due_by: datetime | None) -> list[Any]:
    where: list[Any] = [
        col(Notification.status).in_([PENDING, SENDING]),
        col(Notification.due_at) <= (due_by or now),
        # A pending row may carry a back-off lease; a sending row is only free once its lease ran out.
        or_(col(Notification.lease_until).is_(None), col(Notification.lease_until) <= now),
    ]
    if kinds:
        where.append(col(Notification.kind).in_(list(kinds)))
    return where


def claim(
    engine: Engine,
    *,
    now: datetime,
    limit: int = 50,
    lease: timedelta = DEFAULT_LEASE,
    kinds: Sequence[str] | None = None,
    due_by: datetime | None = None,
) -> list[Claimed]:
    """Claims up to `limit` due rows for this process, in one short transaction of its own.

    `due_by` lets an operator's `jobs run` take rows due later today; by default rows due by `now`.
    """
    with session_scope(engine) as session:
        query = (
            select(Notification)
            .where(*_claimable(now, kinds, due_by))
            .order_by(col(Notification.due_at), col(Notification.id))
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            # Rows another replica is claiming right now are passed over, not waited for.
            query = query.with_for_update(skip_locked=True)
        rows = list(session.exec(query))
        claimed: list[Claimed] = []
        for row in rows:
            if row.attempts >= MAX_ATTEMPTS:
                # Only a row whose process kept dying mid-delivery gets here: stop retrying it.
                row.status, row.lease_until = FAILED, None
                row.last_error = _reason(
                    f"gave up after {row.attempts} attempts (the sending process stopped "
                    f"each time); last error: {row.last_error or 'none'}"
                )
                session.add(row)
                continue
            in_doubt = row.attempt_state in (POSTING, UNKNOWN)
            row.status = SENDING
            row.attempts += 1
            row.lease_until = now + lease
            row.attempt_state = POSTING
            row.first_tried_at = row.first_tried_at or now
            session.add(row)
            assert row.id is not None  # a stored row always has its id
            claimed.append(
                Claimed(
                    id=row.id,
                    key=row.idempotency_key,
                    kind=row.kind,
                    recipient=row.recipient,
                    group_id=row.group_id,
                    for_date=row.for_date,
                    due_at=row.due_at,
                    payload=dict(row.payload or {}),
                    attempt=row.attempts,
                    lease_until=row.lease_until,
                    in_doubt=in_doubt,
                    pages_sent=row.pages_sent,
                    first_tried_at=row.first_tried_at,
                )
            )
        return claimed


def renew(engine: Engine, items: Sequence[Claimed], *, now: datetime, lease: timedelta) -> set[int]:
    """The heartbeat: extends the lease of rows this process still holds; returns the ids it renewed (a row
    missing from the answer was taken over by another process, or finished)."""
    renewed: set[int] = set()
    if not items:
        return renewed
    with session_scope(engine) as session:
        for item in items:
            result = session.exec(
                update(Notification)
                .where(
                    col(Notification.id) == item.id,
                    col(Notification.status) == SENDING,
                    col(Notification.attempts) == item.attempt,
                )
                .values(lease_until=now + lease)
            )
            if result.rowcount:
                renewed.add(item.id)
    return renewed


def _finish(engine: Engine, item: Claimed, values: dict[str, Any]) -> bool:
    """Records an outcome if this process still holds the claim; False if another took it over."""
    with session_scope(engine) as session:
        result = session.exec(
            update(Notification)
            .where(
                col(Notification.id) == item.id,
                col(Notification.status) == SENDING,
                col(Notification.attempts) == item.attempt,
            )
            .values(**values)
        )
        return bool(result.rowcount)


def _reason(text: str) -> str:
    return text if len(text) <= ERROR_LIMIT else text[: ERROR_LIMIT - 1] + "…"


def _pages(item: Claimed, pages_sent: int, page_ts: Sequence[str]) -> dict[str, Any]:
    """The page count and the payload with the accepted pages' ts (`ts` is the first page's)."""
    if not page_ts:
        return {"pages_sent": pages_sent}
    earlier = item.payload.get("page_ts") or ([item.payload["ts"]] if item.payload.get("ts") else [])
    known = list(earlier)[: item.pages_sent]
    all_ts = known + list(page_ts)
    payload = {**item.payload, "ts": all_ts[0]}
    if len(all_ts) > 1:
        payload["page_ts"] = all_ts
    return {"pages_sent": pages_sent, "payload": payload}


def mark_sent(
    engine: Engine,
    item: Claimed,
    *,
    at: datetime,
    ts: str | None = None,
    pages: int | None = None,
    page_ts: Sequence[str] = (),
) -> bool:
    """Every page is in Slack. `page_ts`: the ts of the pages accepted in this attempt (or just `ts`)."""
    values: dict[str, Any] = {
        "status": SENT,
        "sent_at": at,
        "lease_until": None,
        "last_error": None,
        "attempt_state": SETTLED,
    }
    accepted = list(page_ts) or ([ts] if ts else [])
    values.update(_pages(item, pages if pages is not None else item.pages_sent + len(accepted), accepted))
    return _finish(engine, item, values)


def record_pages(engine: Engine, item: Claimed, *, pages_sent: int, page_ts: Sequence[str]) -> bool:
    """Progress of a multi-page post: the first `pages_sent` pages are in Slack (still this process's row).
    False if another process took it over: the caller stops posting its pages."""
    return _finish(engine, item, _pages(item, pages_sent, page_ts))


def mark_failed(engine: Engine, item: Claimed, reason: str) -> bool:
    return _finish(
        engine,
        item,
        {"status": FAILED, "lease_until": None, "last_error": _reason(reason), "attempt_state": SETTLED},
    )


def mark_skipped(engine: Engine, item: Claimed, reason: str) -> bool:
    return _finish(
        engine,
        item,
        {"status": SKIPPED, "lease_until": None, "last_error": _reason(reason), "attempt_state": SETTLED},
    )


def _doubt(item: Claimed) -> str:
    return UNKNOWN if item.in_doubt else SETTLED


def release(engine: Engine, item: Claimed) -> bool:
    """Hands a claimed row back untried (this process could not get to it in time): pending again, free to
    claim at once, and the attempt it cost is given back (and any doubt it had). False if another process
    had taken it over."""
    return _finish(
        engine,
        item,
        {"status": PENDING, "lease_until": None, "attempts": item.attempt - 1, "attempt_state": _doubt(item)},
    )


def retry_later(engine: Engine, item: Claimed, reason: str, *, now: datetime, in_doubt: bool = False) -> bool:
    """A transient failure: back to pending after a growing pause, or failed once attempts run out.
    `in_doubt`: the post may have reached Slack after all, so the next attempt looks before it posts."""
    if item.attempt >= MAX_ATTEMPTS:
        return mark_failed(engine, item, f"gave up after {item.attempt} attempts: {reason}")
    pause = min(timedelta(minutes=2 ** (item.attempt - 1)), MAX_PAUSE)
    return _finish(
        engine,
        item,
        {
            "status": PENDING,
            "lease_until": now + pause,
            "last_error": _reason(reason),
            "attempt_state": UNKNOWN if in_doubt else SETTLED,
        },
    )


def mark_unknown(engine: Engine, item: Claimed, reason: str, *, now: datetime, pause: timedelta) -> bool:
    """The post got no answer (timed out, connection dropped): Slack may or may not have it. Pending again
    after `pause` (long enough for a slow answer to land), marked unknown so the next attempt looks for it in
    the conversation before posting. Counts as an attempt."""
    if item.attempt >= MAX_ATTEMPTS:
        return retry_later(engine, item, reason, now=now, in_doubt=True)  # gives up, with the reason
    return _finish(
        engine,
        item,
        {
            "status": PENDING,
            "lease_until": now + pause,
            "last_error": _reason(reason),
            "attempt_state": UNKNOWN,
        },
    )


def back_off(
    engine: Engine, item: Claimed, reason: str, *, until: datetime, in_doubt: bool | None = None
) -> bool:
    """Slack asked us to wait (a 429): pending again from `until`, and the attempt is given back, since a
    rate limit says nothing about the post itself. `in_doubt` (default: as it was claimed) keeps the row
    marked for a history check. False if another process had taken the row over."""
    doubt = item.in_doubt if in_doubt is None else in_doubt
    return _finish(
        engine,
        item,
        {
            "status": PENDING,
            "lease_until": until,
            "attempts": item.attempt - 1,
            "last_error": _reason(reason),
            "attempt_state": UNKNOWN if doubt else SETTLED,
        },
    )


def retry_now(engine: Engine, *, day: date, now: datetime, kinds: Sequence[str] | None = None) -> int:
    """An operator's re-run (`ecm-bot jobs run`): `day`'s rows waiting out the pause after a transient
    failure are due at once. Rows another process is sending are left alone (their lease says until when);
    a shared Slack rate limit still holds, since the dispatcher checks it before every post. A post that got
    no answer keeps its pause: a slow answer may still land in the conversation, and it is looked for there
    before it is sent again (looking too early could send it twice)."""
    where: list[Any] = [
        col(Notification.for_date) == day,
        col(Notification.status) == PENDING,
        col(Notification.lease_until) > now,
        col(Notification.attempt_state) != UNKNOWN,
    ]
    if kinds:
        where.append(col(Notification.kind).in_(list(kinds)))
    with session_scope(engine) as session:
        result = session.exec(update(Notification).where(*where).values(lease_until=now))
        return int(result.rowcount or 0)


def _backoff_key(method: str) -> str:
    return f"backoff:{method}"


def share_backoff(engine: Engine, method: str, until: datetime) -> None:
    """Records that `method` must not be called before `until`, for every process and thread (kept in the
    processed-request table: one row per method, moved only later, never earlier)."""
    with session_scope(engine) as session:
        stmt = _insert(session)(ProcessedRequest).values(key=_backoff_key(method), at=until)
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={"at": func.max(col(ProcessedRequest.at), stmt.excluded.at)}
            if session.get_bind().dialect.name == "sqlite"
            else {"at": func.greatest(col(ProcessedRequest.at), stmt.excluded.at)},
        )
        session.exec(stmt)


def backoff_until(engine: Engine, method: str, *, now: datetime) -> datetime | None:
    """When `method` may be called again, if some process was told to wait and that time is still ahead."""
    with session_scope(engine, write=False) as session:
        row = session.get(ProcessedRequest, _backoff_key(method))
        return row.at if row is not None and row.at > now else None


def skip_stale(engine: Engine, *, today: date, reason: str | None = None) -> int:
    """Downtime rule: rows planned for an earlier day that never went out are skipped, not flooded."""
    with session_scope(engine) as session:
        result = session.exec(
            update(Notification)
            .where(col(Notification.status).in_([PENDING, SENDING]), col(Notification.for_date) < today)
            .values(
                status=SKIPPED,
                lease_until=None,
                last_error=reason
                or f"missed: it was due on an earlier day than {today.isoformat()} "
                "(the bot was not running); not sent late",
            )
        )
        return int(result.rowcount or 0)


def get(session: Session, key: str) -> Notification | None:
    return session.exec(select(Notification).where(Notification.idempotency_key == key)).first()


def for_date(session: Session, day: date, *, kinds: Sequence[str] | None = None) -> list[Notification]:
    query = select(Notification).where(Notification.for_date == day)
    if kinds:
        query = query.where(col(Notification.kind).in_(list(kinds)))
    return list(session.exec(query.order_by(col(Notification.id))))


def _group_scope(group_id: int, member_ids: Sequence[str]) -> Any:
    # Owner digests span groups (group_id is NULL): they belong to a group's view through its members.
    scope = col(Notification.group_id) == group_id
    if member_ids:
        scope = or_(
            scope,
            and_(col(Notification.group_id).is_(None), col(Notification.recipient).in_(list(member_ids))),
        )
    return scope


def recent(
    session: Session,
    group_id: int,
    member_ids: Sequence[str],
    *,
    limit: int = 15,
    statuses: Sequence[NotificationStatus] | None = None,
) -> list[Notification]:
    """The group's latest outbox rows, newest first (for `/ecm status`)."""
    query = select(Notification).where(_group_scope(group_id, member_ids))
    if statuses:
        query = query.where(col(Notification.status).in_(list(statuses)))
    return list(session.exec(query.order_by(col(Notification.id).desc()).limit(limit)))


def status_counts(
    session: Session, group_id: int, member_ids: Sequence[str], *, since: date
) -> dict[NotificationStatus, int]:
    query = (
        select(Notification.status, func.count(col(Notification.id)))
        .where(_group_scope(group_id, member_ids), col(Notification.for_date) >= since)
        .group_by(col(Notification.status))
    )
    return {NotificationStatus(s): int(n) for s, n in session.exec(query)}


def pending_count(session: Session) -> int:
    """Rows not finished yet (pending, or being sent), whatever their lease."""
    return int(
        session.exec(
            select(func.count(col(Notification.id))).where(col(Notification.status).in_([PENDING, SENDING]))
        ).one()
    )
