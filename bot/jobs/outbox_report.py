"""Every outbox row of a date, as `ecm-bot jobs run` reports it after a run: what state each is in and why,
by name. A re-run shows what an earlier run left (failed, still to retry, in flight elsewhere, skipped)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.directory import RecipientNames
from commands.dates import format_date, format_datetime
from storage import notifications
from storage.models import Notification, NotificationStatus

PLANNED, SENDING, SENT, RETRYING, FAILED, SKIPPED = (
    "planned",
    "sending",
    "sent",
    "retrying",
    "failed",
    "skipped",
)
ORDER = (SENT, RETRYING, SENDING, PLANNED, FAILED, SKIPPED)


@dataclass(frozen=True)
class RowState:
    state: str
    kind: str
    recipient: str
    detail: str


def _aware(at: datetime | None) -> datetime | None:
    """SQLite hands stored UTC timestamps back naive."""
    return at if at is None or at.tzinfo is not None else at.replace(tzinfo=UTC)


def state_of(row: Notification, now: datetime, tz: str) -> RowState:
    """One row's state for an operator: the outbox status, a pending row split into planned (never tried)
    and retrying (a transient failure, tried again from its lease), and the reason where there is one."""
    lease = _aware(row.lease_until)
    error = row.last_error or ""
    if row.status == NotificationStatus.SENT:
        sent = _aware(row.sent_at)
        state, detail = SENT, f"at {format_datetime(sent, tz)}" if sent else ""
    elif row.status == NotificationStatus.FAILED:
        state, detail = FAILED, error
    elif row.status == NotificationStatus.SKIPPED:
        state, detail = SKIPPED, error
    elif row.status == NotificationStatus.SENDING:
        if lease is not None and lease > now:
            state, detail = SENDING, f"claimed by another run until {format_datetime(lease, tz)}"
        else:
            state, detail = RETRYING, "its run stopped mid-send; taken over by the next run"
    elif row.attempts or error:
        when = f"next try {format_datetime(lease, tz)}" if lease is not None and lease > now else "due now"
        state, detail = RETRYING, f"attempt {row.attempts} of {notifications.MAX_ATTEMPTS}, {when}: {error}"
    else:
        state, detail = PLANNED, ""
    return RowState(state, row.kind, row.recipient, detail)


def outbox_states(
    engine: Engine, day: date, *, now: datetime, tz: str, kinds: Sequence[str] | None = None
) -> list[RowState]:
    with Session(engine) as session:
        rows = notifications.for_date(session, day, kinds=kinds)
    return [state_of(r, now, tz) for r in rows]


def print_outbox(
    states: Sequence[RowState], day: date, job: str, names: RecipientNames, *, rows: bool = True
) -> None:
    """`Outbox for Mon 23 Nov 2026 (chasers): 5 posts: sent 4, retrying 1`, then one line per row."""
    tally = Counter(s.state for s in states)
    counts = ", ".join(f"{state} {tally[state]}" for state in ORDER if tally[state])
    print(f"Outbox for {format_date(day)} ({job}): {len(states)} posts" + (f": {counts}" if counts else ""))
    if rows:
        for s in sorted(states, key=lambda s: ORDER.index(s.state)):
            detail = names.readable(s.detail)
            print(f"  {s.state:8} {s.kind:18} {names.recipient(s.recipient):16} {detail}".rstrip())
