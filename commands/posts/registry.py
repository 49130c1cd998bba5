"""The one list of post kinds. `/ecm status` (labels), `/ecm setup` (settings), `ecm-bot jobs` (jobs, next
runs) and the dispatcher (builders) all read `KINDS`; adding a kind is a module plus its line here.

The order is the order `/ecm setup` lists the settings in.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from commands.posts import (
    attendance_summary,
    channel_digest,
    due_soon,
    escalation,
    meeting_reminder,
    owner_digest,
)
from commands.posts.common import OWNER_DIGEST, nudged_under_legacy_keys
from commands.posts.kind import BuildFn, GroupSettings, PostKind, Setting
from storage.notifications import Planned

KINDS: tuple[PostKind, ...] = (
    owner_digest.POST,
    due_soon.POST,
    channel_digest.POST,
    escalation.POST,
    meeting_reminder.POST,
    attendance_summary.POST,
)

SETTINGS: tuple[Setting, ...] = tuple(s for kind in KINDS for s in kind.settings)
DEFAULTS = GroupSettings({s.name: s.default for s in SETTINGS})
# Jobs in the order their first kind is listed: what `ecm-bot jobs run JOB` accepts.
JOBS: dict[str, tuple[PostKind, ...]] = {
    name: tuple(k for k in KINDS if k.job.name == name) for name in dict.fromkeys(k.job.name for k in KINDS)
}
JOB_NAMES = (*JOBS, "all")


def builders() -> dict[str, BuildFn]:
    """Outbox kind -> the function that builds its message from current data."""
    return {k.name: k.build for k in KINDS if k.build is not None}


def label(outbox_kind: str) -> str | None:
    """How `/ecm status` names a post of this outbox kind."""
    return next((k.label for k in KINDS if k.name == outbox_kind), None)


def job_summary(job: str) -> str:
    return JOBS[job][0].job.summary


def kinds_of_job(job: str) -> tuple[PostKind, ...]:
    return KINDS if job == "all" else JOBS[job]


def kinds_for(job: str) -> tuple[str, ...]:
    """The outbox kinds a job's posts carry (for dispatching only those)."""
    return tuple(dict.fromkeys(k.outbox_kind for k in kinds_of_job(job)))


def plan_rows(session: Session, day: date, tz: str, job: str = "all") -> list[Planned]:
    """What `job` would post on `day`, computed from current data (nothing stored)."""
    merged: dict[str, Planned] = {}
    for kind in kinds_of_job(job):
        for row in kind.plan(session, day, tz):
            seen = merged.get(row.key)
            if seen is None:
                merged[row.key] = row
            else:  # the owner digest, escalations and due-soon nudge share a key: one DM a day with them all
                seen.payload = {
                    "actions": [*seen.payload.get("actions", []), *row.payload.get("actions", [])]
                }
                if row.kind == OWNER_DIGEST:  # the digest shows all three; a bare nudge only its own
                    seen.kind = OWNER_DIGEST
    return _after_legacy_nudges(session, list(merged.values()))


def _after_legacy_nudges(session: Session, rows: list[Planned]) -> list[Planned]:
    """A bare nudge whose day's nudge already went out under its 0.1.0 key is not planned again (a database
    upgraded in the middle of a working day; the digest's builder leaves its due-soon part out likewise)."""
    bare = [r for r in rows if r.kind == due_soon.KIND]
    if not bare:
        return rows
    nudged = nudged_under_legacy_keys(session, [(r.recipient, r.for_date) for r in bare])
    return [r for r in rows if not (r.kind == due_soon.KIND and (r.recipient, r.for_date) in nudged)]
