"""Regular meeting schedules (`/ecm schedule`): stored as a recurrence rule and a local wall-clock time.
A schedule is never deleted: a replaced or removed one is marked removed (entity "schedule" in the audit)."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from storage import audit
from storage.groups import name_key
from storage.models import MeetingSchedule, TaskGroup

_ACTIVE = (  # built once (every Home asks, for each of the person's groups): each call binds its group
    select(MeetingSchedule)
    .where(col(MeetingSchedule.group_id) == bindparam("group_id"), col(MeetingSchedule.removed_at).is_(None))
    .order_by(col(MeetingSchedule.id))
)


def active_schedules(session: Session, group_id: int) -> list[MeetingSchedule]:
    return list(session.exec(_ACTIVE, params={"group_id": group_id}))


def add_schedule(
    session: Session,
    group: TaskGroup,
    *,
    title: str,
    rrule: str,
    start_date: date,
    local_time: time,
    until: date | None,
    by: str,
    at: datetime,
) -> tuple[MeetingSchedule, MeetingSchedule | None]:
    """Stores a schedule; one with the same title is replaced (kept, marked removed). Returns (new, replaced)."""
    replaced = None
    for old in active_schedules(session, group.id):  # type: ignore[arg-type]
        if name_key(old.title) == name_key(title):
            replaced = old
            remove_schedule(session, old, by=by, at=at, verb="replaced")
    schedule = MeetingSchedule(
        group_id=group.id,  # type: ignore[arg-type]
        title=title,
        rrule=rrule,
        start_date=start_date,
        local_time=local_time,
        until=until,
        cancelled_dates=[],
        created_by=by,
        created_at=at,
    )
    session.add(schedule)
    session.flush()
    audit.record(
        session,
        group_id=group.id,
        entity="schedule",
        entity_id=schedule.id,
        user_id=by,
        at=at,
        verb="created",
        changes={
            "title": [None, title],
            "rrule": [None, rrule],
            "start_date": [None, start_date],
            "local_time": [None, local_time.isoformat("minutes")],
            "until": [None, until],
        },
    )
    return schedule, replaced


def remove_schedule(
    session: Session, schedule: MeetingSchedule, *, by: str, at: datetime, verb: str = "removed"
) -> None:
    schedule.removed_at = at
    session.add(schedule)
    audit.record(
        session,
        group_id=schedule.group_id,
        entity="schedule",
        entity_id=schedule.id,
        user_id=by,
        at=at,
        verb=verb,
        changes={"removed_at": [None, at]},
    )
