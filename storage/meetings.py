"""Meetings: starting, ending and cancelling them, their numbers within a group, and the notes taken at them.

Every change writes an `AuditEvent` (entity "meeting"). Attendance, decisions and schedules have modules of
their own (`storage.attendance`, `storage.decisions`, `storage.schedules`); the actions raised at a meeting
and its matters arising are queried through `storage.actions.ActionFilter`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, func
from sqlmodel import Session, col, select

from storage import attendance, audit
from storage.models import (
    REPRESENTED_MODES,
    Attendance,
    AttendanceMode,
    AuditEvent,
    Meeting,
    MeetingNote,
    MeetingSchedule,
    MeetingStatus,
    Member,
    TaskGroup,
)

# Statuses of meetings that took place (or are taking place); cancelled ones never count.
HELD_STATUSES = (MeetingStatus.OPEN, MeetingStatus.CLOSED)


_OPEN_MEETING = (  # built once (every `add` and every Home asks): each call binds its group
    select(Meeting)
    .where(col(Meeting.group_id) == bindparam("group_id"), col(Meeting.status) == MeetingStatus.OPEN)
    .order_by(col(Meeting.id).desc())
)


def open_meeting(session: Session, group_id: int) -> Meeting | None:
    """The meeting now running in this group, if any (there is at most one)."""
    return session.exec(_OPEN_MEETING, params={"group_id": group_id}).first()


def get_meeting(session: Session, group_id: int, meeting_id: int) -> Meeting | None:
    """A meeting by its database id, only if it belongs to this group."""
    meeting = session.get(Meeting, meeting_id)
    return meeting if meeting is not None and meeting.group_id == group_id else None


def _numbered() -> Any:
    """Meeting numbers within a group: 1, 2, 3 … in the order meetings were started (cancelled occurrences
    that never started have no number)."""
    return (
        select(
            col(Meeting.id).label("id"),
            func.row_number()
            .over(partition_by=col(Meeting.group_id), order_by=col(Meeting.id))
            .label("number"),
        )
        .where(col(Meeting.started_at).is_not(None))
        .subquery()
    )


def meeting_number(session: Session, meeting: Meeting) -> int | None:
    if meeting.started_at is None:
        return None
    return int(
        session.exec(
            select(func.count(col(Meeting.id))).where(
                Meeting.group_id == meeting.group_id,
                col(Meeting.started_at).is_not(None),
                col(Meeting.id) <= meeting.id,
            )
        ).one()
    )


def meeting_by_number(session: Session, group_id: int, number: int) -> Meeting | None:
    if number < 1:
        return None
    return session.exec(
        select(Meeting)
        .where(Meeting.group_id == group_id, col(Meeting.started_at).is_not(None))
        .order_by(col(Meeting.id))
        .offset(number - 1)
        .limit(1)
    ).first()


def meeting_numbers(session: Session, meetings: Sequence[Meeting]) -> dict[int, int]:
    ids = [m.id for m in meetings if m.id is not None and m.started_at is not None]
    if not ids:
        return {}
    numbered = _numbered()
    return {
        int(i): int(n)
        for i, n in session.exec(select(numbered.c.id, numbered.c.number).where(numbered.c.id.in_(ids)))
    }


def last_meeting(session: Session, group_id: int) -> Meeting | None:
    """The most recent meeting that took place (closed, or still open)."""
    return session.exec(
        select(Meeting)
        .where(Meeting.group_id == group_id, col(Meeting.status).in_(HELD_STATUSES))
        .order_by(col(Meeting.started_at).desc(), col(Meeting.id).desc())
    ).first()


def meetings_on(session: Session, group_id: int, start: datetime, end: datetime) -> list[Meeting]:
    """Meetings held (started) in [start, end): for `minutes DATE`."""
    return list(
        session.exec(
            select(Meeting)
            .where(
                Meeting.group_id == group_id,
                col(Meeting.status).in_(HELD_STATUSES),
                col(Meeting.started_at) >= start,
                col(Meeting.started_at) < end,
            )
            .order_by(col(Meeting.started_at), col(Meeting.id))
        )
    )


def recent_meetings(session: Session, group_id: int, *, before: datetime, limit: int = 8) -> list[Meeting]:
    """Meetings (held or cancelled) up to `before`, newest first."""
    when = func.coalesce(col(Meeting.started_at), col(Meeting.scheduled_for), col(Meeting.created_at))
    return list(
        session.exec(
            select(Meeting)
            .where(Meeting.group_id == group_id, when <= before)
            .order_by(when.desc(), col(Meeting.id).desc())
            .limit(limit)
        )
    )


def upcoming_cancelled(session: Session, group_id: int, *, after: datetime, limit: int = 5) -> list[Meeting]:
    """Scheduled occurrences already cancelled, still in the future."""
    return list(
        session.exec(
            select(Meeting)
            .where(
                Meeting.group_id == group_id,
                Meeting.status == MeetingStatus.CANCELLED,
                col(Meeting.started_at).is_(None),
                col(Meeting.scheduled_for) > after,
            )
            .order_by(col(Meeting.scheduled_for))
            .limit(limit)
        )
    )


def meeting_for_occurrence(session: Session, schedule_id: int, scheduled_for: datetime) -> Meeting | None:
    return session.exec(
        select(Meeting)
        .where(Meeting.schedule_id == schedule_id, Meeting.scheduled_for == scheduled_for)
        .order_by(col(Meeting.id).desc())
    ).first()


def start_meeting(
    session: Session,
    group: TaskGroup,
    *,
    title: str,
    by: str,
    at: datetime,
    schedule_id: int | None = None,
    scheduled_for: datetime | None = None,
) -> Meeting:
    meeting = Meeting(
        group_id=group.id,  # type: ignore[arg-type]
        title=title,
        status=MeetingStatus.OPEN,
        schedule_id=schedule_id,
        scheduled_for=scheduled_for,
        started_at=at,
        chair_user_id=by,
        created_at=at,
    )
    session.add(meeting)
    session.flush()
    changes: dict[str, Any] = {"title": [None, title], "status": [None, MeetingStatus.OPEN]}
    if schedule_id is not None:
        changes["schedule_id"] = [None, schedule_id]
        changes["scheduled_for"] = [None, scheduled_for]
    audit.record(
        session,
        group_id=group.id,
        entity="meeting",
        entity_id=meeting.id,
        user_id=by,
        at=at,
        verb="started",
        changes=changes,
    )
    return meeting


def end_meeting(session: Session, meeting: Meeting, *, by: str, at: datetime) -> list[Attendance]:
    """Closes the meeting. Registered members with no attendance record are recorded absent, except those a
    substitute attended for, who are recorded as having sent apologies. Returns the rows added."""
    current = {a.user_id: a for a in attendance.current_attendance(session, meeting.id)}  # type: ignore[arg-type]
    substituted = {
        a.substitute_for for a in current.values() if a.substitute_for and a.mode in REPRESENTED_MODES
    }
    added: list[Attendance] = []
    for member in session.exec(
        select(Member)
        .where(
            Member.group_id == meeting.group_id,
            col(Member.removed_at).is_(None),
            col(Member.created_at) <= at,
        )
        .order_by(col(Member.id))
    ):
        if member.user_id in current:
            continue
        mode = AttendanceMode.APOLOGIES if member.user_id in substituted else AttendanceMode.ABSENT
        row = Attendance(
            meeting_id=meeting.id,  # type: ignore[arg-type]
            user_id=member.user_id,
            organisation=member.organisation,
            mode=mode,
            recorded_by=by,
            recorded_at=at,
        )
        session.add(row)
        added.append(row)
    meeting.status = MeetingStatus.CLOSED
    meeting.ended_at = at
    session.add(meeting)
    session.flush()
    audit.record(
        session,
        group_id=meeting.group_id,
        entity="meeting",
        entity_id=meeting.id,
        user_id=by,
        at=at,
        verb="ended",
        changes={
            "status": [MeetingStatus.OPEN, MeetingStatus.CLOSED],
            "absent": [None, sorted(a.user_id for a in added if a.mode == AttendanceMode.ABSENT)],
            "apologies": [None, sorted(a.user_id for a in added if a.mode == AttendanceMode.APOLOGIES)],
        },
    )
    return added


def cancel_meeting(session: Session, meeting: Meeting, *, by: str, at: datetime, reason: str | None) -> None:
    """Cancels an open meeting: it stays on record but never counts in attendance."""
    before = meeting.status
    meeting.status = MeetingStatus.CANCELLED
    meeting.ended_at = at
    meeting.cancel_reason = reason
    session.add(meeting)
    audit.record(
        session,
        group_id=meeting.group_id,
        entity="meeting",
        entity_id=meeting.id,
        user_id=by,
        at=at,
        verb="cancelled",
        changes={"status": [before, MeetingStatus.CANCELLED]},
        note=reason,
    )


def cancel_occurrence(
    session: Session,
    schedule: MeetingSchedule,
    scheduled_for: datetime,
    local_day: date,
    *,
    title: str,
    by: str,
    at: datetime,
    reason: str | None,
) -> Meeting:
    """Cancels one scheduled meeting before it happens: the date is added to the schedule's cancelled dates
    and a CANCELLED meeting row records it (so it is listed, and never counts)."""
    day = local_day.isoformat()
    if day not in schedule.cancelled_dates:
        schedule.cancelled_dates = sorted(
            [*schedule.cancelled_dates, day]
        )  # a new list, so the change is saved
        session.add(schedule)
        audit.record(
            session,
            group_id=schedule.group_id,
            entity="schedule",
            entity_id=schedule.id,
            user_id=by,
            at=at,
            verb="date-cancelled",
            changes={"cancelled_dates": [None, day]},
            note=reason,
        )
    meeting = meeting_for_occurrence(session, schedule.id, scheduled_for)  # type: ignore[arg-type]
    if meeting is None:
        meeting = Meeting(
            group_id=schedule.group_id,
            title=title,
            status=MeetingStatus.CANCELLED,
            schedule_id=schedule.id,
            scheduled_for=scheduled_for,
            cancel_reason=reason,
            created_at=at,
        )
        session.add(meeting)
        session.flush()
        audit.record(
            session,
            group_id=schedule.group_id,
            entity="meeting",
            entity_id=meeting.id,
            user_id=by,
            at=at,
            verb="cancelled",
            changes={"status": [None, MeetingStatus.CANCELLED], "scheduled_for": [None, scheduled_for]},
            note=reason,
        )
    return meeting


def add_note(session: Session, meeting: Meeting, text: str, *, by: str, at: datetime) -> MeetingNote:
    note = MeetingNote(meeting_id=meeting.id, text=text, author=by, created_at=at)  # type: ignore[arg-type]
    session.add(note)
    session.flush()
    audit.record(
        session,
        group_id=meeting.group_id,
        entity="meeting",
        entity_id=meeting.id,
        user_id=by,
        at=at,
        verb="note",
        changes={"note_id": [None, note.id]},
        note=text,
    )
    return note


def meeting_notes(session: Session, meeting_id: int, limit: int = 500) -> list[MeetingNote]:
    return list(
        session.exec(
            select(MeetingNote)
            .where(MeetingNote.meeting_id == meeting_id)
            .order_by(col(MeetingNote.id))
            .limit(limit)
        )
    )


def count_notes(session: Session, meeting_id: int) -> int:
    return int(
        session.exec(
            select(func.count(col(MeetingNote.id))).where(MeetingNote.meeting_id == meeting_id)
        ).one()
    )


@dataclass(frozen=True)
class Window:
    """When a meeting was open, as positions in the audit trail: every change audited after `first` and up to
    `last` (None: still open) was made while it ran. Audit ids follow the order changes were made, so a
    change made in the same second as the meeting ended still falls on the right side of it."""

    first: int
    last: int | None


def meeting_window(session: Session, meeting: Meeting) -> Window | None:
    """The audit-trail window of a started meeting (its "started" event to its "ended"/"cancelled" one), or
    None for a meeting with no "started" event (never started)."""
    events = list(
        session.exec(
            select(AuditEvent.id, AuditEvent.verb)
            .where(AuditEvent.entity == "meeting", AuditEvent.entity_id == meeting.id)
            .order_by(col(AuditEvent.id))
        )
    )
    first = next((i for i, v in events if v == "started"), None)
    if first is None:
        return None
    if meeting.status == MeetingStatus.OPEN:
        return Window(first, None)
    last = next((i for i, v in reversed(events) if v in ("ended", "cancelled")), None)
    return Window(first, last)
