"""Plans the posts of a date into the outbox. Safe to run any number of times, from any number of processes:
each occurrence has one idempotency key and planning inserts with "ignore on conflict"."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from bot.jobs import attendance_summary, channel_digest, due_soon, meeting_reminders, owner_digest
from storage import notifications
from storage.db import session_scope

PlanFn = Callable[[Session, date, str], list[notifications.Planned]]


@dataclass(frozen=True)
class Job:
    name: str
    summary: str
    kinds: tuple[str, ...]
    plans: tuple[PlanFn, ...]


def _owners(session: Session, day: date, tz: str) -> list[notifications.Planned]:
    return owner_digest.plan(session, day, tz, owners=True, escalations=False)


def _escalations(session: Session, day: date, tz: str) -> list[notifications.Planned]:
    return owner_digest.plan(session, day, tz, owners=False, escalations=True)


JOBS: dict[str, Job] = {
    "chasers": Job(
        "chasers",
        "owner digest DMs and due-soon nudges, 09:00 each working day",
        (owner_digest.KIND, due_soon.KIND),
        (due_soon.plan, _owners),
    ),
    "escalation": Job(
        "escalation",
        "actions overdue by escalate-after working days, in the chairs' digest DMs",
        (owner_digest.KIND,),
        (_escalations,),
    ),
    "digest": Job(
        "digest",
        "weekly channel digest of overdue actions (Monday, or the next working day)",
        (channel_digest.KIND,),
        (channel_digest.plan,),
    ),
    "meeting-reminders": Job(
        "meeting-reminders",
        "channel reminder the working day before a scheduled meeting",
        (meeting_reminders.KIND,),
        (meeting_reminders.plan,),
    ),
    "attendance-summary": Job(
        "attendance-summary",
        "attendance counts, first working day of each month",
        (attendance_summary.KIND,),
        (attendance_summary.plan,),
    ),
}
JOB_NAMES = (*JOBS, "all")
ALL_KINDS = tuple(dict.fromkeys(k for job in JOBS.values() for k in job.kinds))


def jobs_for(name: str) -> list[Job]:
    return list(JOBS.values()) if name == "all" else [JOBS[name]]


def kinds_for(name: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(k for job in jobs_for(name) for k in job.kinds))


def plan_rows(session: Session, day: date, tz: str, job: str = "all") -> list[notifications.Planned]:
    """What `job` would post on `day`, computed from current data (nothing stored)."""
    merged: dict[str, notifications.Planned] = {}
    for spec in jobs_for(job):
        for plan in spec.plans:
            for row in plan(session, day, tz):
                seen = merged.get(row.key)
                if seen is None:
                    merged[row.key] = row
                else:  # the owner and escalation plans share a key: keep both lists of actions
                    seen.payload = {
                        "actions": [*seen.payload.get("actions", []), *row.payload.get("actions", [])]
                    }
    return list(merged.values())


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
