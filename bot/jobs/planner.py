"""The ticker's planning step: stores the posts of a date (what the kinds in `commands.posts.registry` plan)
in the outbox. Safe to run any number of times, from any number of processes: each occurrence has one
idempotency key and planning inserts with "ignore on conflict"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine

from commands.posts.registry import plan_rows
from storage import notifications
from storage.db import session_scope


@dataclass
class PlanResult:
    day: date
    planned: int  # rows for this date and job
    new: int  # of which were not in the outbox yet
    held: int = 0  # rows that only became due after the day's first run: left for the next morning


def plan(
    engine: Engine, day: date, *, tz: str, now: datetime, job: str = "all", hold_late: bool = False
) -> PlanResult:
    """Plans `day`'s posts. With `hold_late` (the ticker), a post whose time has passed is planned only by
    the day's first run: that is downtime catch-up (send once); later runs leave it for the next morning,
    so setting a group up at 14:00, or adding an already-overdue action, does not set off a 09:00 post."""
    with session_scope(engine) as session:
        rows = plan_rows(session, day, tz, job)
        # Most ticks find everything planned already; checking first keeps those ticks read-only.
        existing = notifications.existing_keys(session, [r.key for r in rows])
        new_rows = [r for r in rows if r.key not in existing]
        held = 0
        if hold_late and not notifications.first_planning_of(session, day, now=now):
            on_time = [r for r in new_rows if r.due_at > now]
            held, new_rows = len(new_rows) - len(on_time), on_time
        new = notifications.plan(session, new_rows, now=now)
    return PlanResult(day=day, planned=len(rows), new=new, held=held)
